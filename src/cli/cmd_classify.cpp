// `accel classify --config config.json [--json]`: the model family from a config.json alone.
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
    std::string config;
    FormatOption format;
};

int run_classify(const ClassifyOptions& o) {
    std::ifstream in(o.config, std::ios::binary);
    if (!in) throw Error(ErrorKind::invalid_input, fmt::format("{}: cannot open the config file", o.config));
    std::ostringstream text;
    text << in.rdbuf();
    const auto c = model::classify(model::evidence_from_config_json(text.str(), o.config));
    if (o.format.resolve() == Format::json) {
        print_json({{"schema_version", json_schema_version},
                    {"family", c.family},
                    {"subfamily", c.subfamily},
                    {"tasks", c.tasks},
                    {"confidence", c.confidence},
                    {"reasons", c.reasons}});
        return exit_ok;
    }
    std::string tasks;
    for (const auto& t : c.tasks) tasks += (tasks.empty() ? "" : ", ") + t;
    fmt::print("{}/{} (confidence {:.2f})\ntasks: {}\nreasons:\n", c.family, c.subfamily, c.confidence,
               tasks.empty() ? "-" : tasks);
    for (const auto& r : c.reasons) fmt::print("  - {}\n", r);
    return exit_ok;
}

}  // namespace

void register_classify(CLI::App& app, int& exit_code) {
    auto opts = std::make_shared<ClassifyOptions>();
    auto* cmd = app.add_subcommand(
        "classify",
        "Classify a Hugging Face config.json into family/subfamily/tasks, with a confidence and the\n"
        "evidence behind it (see docs/model.md). Exit 2 when the file is missing or not JSON.");
    cmd->add_option("--config", opts->config, "config.json to classify")->required();
    add_format_option(*cmd, opts->format, {"table", "json"});
    cmd->callback([opts, &exit_code] { exit_code = run_classify(*opts); });
}

}  // namespace accel::cli
