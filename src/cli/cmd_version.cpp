#include <cstdio>
#include <memory>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/version.h"
#include "accel/hw/backend_registry.h"
#include "accel/store/database.h"
#include "commands.h"
#include "output.h"

namespace accel::cli {

void register_version(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("version", "Print the versions of accel, llama.cpp, ggml's backends and DuckDB");
    auto as_json = std::make_shared<bool>(false);
    cmd->add_flag("--json", *as_json, "Print JSON");
    cmd->callback([as_json, &exit_code] {
        const BuildInfo& b = build_info();
        const std::vector<std::string> backends = hw::compiled_backends();
        const std::string duckdb = store::duckdb_version();
        if (*as_json) {
            print_json({{"schema_version", json_schema_version},
                        {"accel_version", b.accel_version},
                        {"accel_commit", b.git_commit},
                        {"llama_cpp_commit", b.llama_cpp_commit},
                        {"llama_cpp_source", b.llama_cpp_source},
                        {"ggml_backends", backends},
                        {"duckdb_version", duckdb},
                        {"duckdb_source", b.duckdb_source},
                        {"compiler", b.compiler},
                        {"build_type", b.build_type}});
        } else {
            std::string list;
            for (const auto& name : backends) list += (list.empty() ? "" : ", ") + name;
            fmt::print("accel       {} ({})\n", b.accel_version, b.git_commit);
            fmt::print("llama.cpp   {} ({})\n", b.llama_cpp_commit, b.llama_cpp_source);
            fmt::print("ggml        {}\n", list);
            fmt::print("duckdb      {} ({})\n", duckdb, b.duckdb_source);
            fmt::print("compiler    {} {}\n", b.compiler, b.build_type);
        }
        exit_code = exit_ok;
    });
}

}  // namespace accel::cli
