// `accel classify PATH|--config config.json [--json]`: the model family from a config.json alone (PATH: a Hugging
// Face folder or its config.json), and whether accel converts and runs it.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/version.h"
#include "accel/model/classifier.h"
#include "commands.h"
#include "output.h"

namespace accel::cli {

namespace {

struct ClassifyOptions {
    std::string path;  // a Hugging Face folder or a config.json
    std::string config;
    FormatOption format;
};

std::string config_file(const ClassifyOptions& o) {
    if (!o.path.empty() && !o.config.empty())
        throw Error(ErrorKind::invalid_input, "give a folder or config.json, or --config, not both");
    if (o.path.empty() && o.config.empty())
        throw Error(ErrorKind::invalid_input, "give a Hugging Face folder or its config.json (or --config FILE)");
    const std::string p = o.path.empty() ? o.config : o.path;
    std::error_code ec;
    return std::filesystem::is_directory(p, ec) ? (std::filesystem::path(p) / "config.json").string() : p;
}

int run_classify(const ClassifyOptions& o) {
    const std::string config = config_file(o);
    std::ifstream in(config, std::ios::binary);
    if (!in) throw Error(ErrorKind::invalid_input, fmt::format("{}: cannot open the config file", config));
    std::ostringstream text;
    text << in.rdbuf();
    const auto evidence = model::evidence_from_config_json(text.str(), config);
    const auto c = model::classify(evidence);
    const HfSupportView support = hf_support_of(evidence.architectures);
    if (o.format.resolve() == Format::json) {
        print_json({{"schema_version", json_schema_version},
                    {"family", c.family},
                    {"subfamily", c.subfamily},
                    {"tasks", c.tasks},
                    {"confidence", c.confidence},
                    {"reasons", c.reasons},
                    {"accel_convert", hf_support_json(support)}});
        return exit_ok;
    }
    std::string tasks;
    for (const auto& t : c.tasks) tasks += (tasks.empty() ? "" : ", ") + t;
    fmt::print("{}/{} (confidence {:.2f})\ntasks: {}\nreasons:\n", c.family, c.subfamily, c.confidence,
               tasks.empty() ? "-" : tasks);
    for (const auto& r : c.reasons) fmt::print("  - {}\n", r);
    fmt::print("{}\n", hf_support_line(support));
    return exit_ok;
}

}  // namespace

void register_classify(CLI::App& app, int& exit_code) {
    auto opts = std::make_shared<ClassifyOptions>();
    auto* cmd = app.add_subcommand(
        "classify",
        "Classify a Hugging Face folder (its config.json) into family/subfamily/tasks, with a confidence and the\n"
        "evidence behind it (see docs/model.md), and say whether accel converts and runs it. Exit 2 when the\n"
        "file is missing or not JSON.");
    cmd->add_option("path", opts->path, "Hugging Face folder or config.json");
    cmd->add_option("--config", opts->config, "config.json to classify (the same as PATH)");
    add_format_option(*cmd, opts->format, {"table", "json"});
    cmd->callback([opts, &exit_code] { exit_code = run_classify(*opts); });
}

}  // namespace accel::cli
