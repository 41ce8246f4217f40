// accel's entry point: flags, wiring and the mapping from outcomes to exit codes. No measuring here.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "commands.h"

namespace {

int exit_code_for(accel::ErrorKind kind) {
    switch (kind) {
        case accel::ErrorKind::invalid_input:
            return accel::cli::exit_usage;
        case accel::ErrorKind::io:
        case accel::ErrorKind::out_of_memory:
        case accel::ErrorKind::backend:
        case accel::ErrorKind::busy:
        case accel::ErrorKind::internal:
            return accel::cli::exit_runtime;
    }
    return accel::cli::exit_runtime;
}

void print_error(const std::string& message) {
    // One line, always: a multi-line backend message is folded so scripts can grep it.
    std::string line = message;
    for (char& c : line) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    std::fprintf(stderr, "accel: error: %s\n", line.c_str());
}

// llama-bench's multi-letter single-dash flags (-ub, -ngl, -ctk, -ctv, -fa) keep their meaning in accel, but
// CLI11 takes single-dash names as one letter only; spell them with two dashes before parsing.
std::vector<std::string> normalize_args(int argc, char** argv) {
    static const char* const long_single_dash[] = {"-ub", "-ngl", "-ctk", "-ctv", "-fa", "-pg", "-mmp"};
    std::vector<std::string> out;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        for (const char* flag : long_single_dash) {
            if (a == flag || a.rfind(std::string(flag) + "=", 0) == 0) {
                a.insert(a.begin(), '-');
                break;
            }
        }
        out.push_back(std::move(a));
    }
    return out;
}

// The first argument that is neither an option nor the value of --log-level: what the user meant as a subcommand.
std::string first_positional(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--log-level") {
            ++i;
            continue;
        }
        if (!a.empty() && a[0] != '-') return a;
    }
    return "";
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"accel: hardware-aware ML inference and benchmarking. Every number it prints was measured here."};
    app.footer(
        "Exit codes (all subcommands):\n"
        "  0  success\n"
        "  1  runtime failure (I/O, backend, out of memory)\n"
        "  2  usage error or invalid input\n"
        "  3  the command ran but its check failed (regression, --verify, SLO, conformance, nothing feasible)\n"
        "Files: cache ~/.cache/accel (ACCEL_CACHE_DIR), data ~/.local/share/accel (ACCEL_DATA_DIR),\n"
        "       config ~/.config/accel/config.toml (ACCEL_CONFIG), results database $ACCEL_DB.");
    app.require_subcommand(1);
    app.fallthrough();
    std::string log_level = "warn";
    app.add_option("--log-level", log_level, "Diagnostics on stderr: debug, info, warn, error, off")
        ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}))
        ->default_val("warn");
    app.parse_complete_callback([&] { accel::set_log_level(*accel::parse_log_level(log_level)); });

    int exit_code = accel::cli::exit_ok;
    try {
        accel::cli::register_version(app, exit_code);
        accel::cli::register_generate(app, exit_code);
        accel::cli::register_make_model(app, exit_code);
        accel::cli::register_embed(app, exit_code);
        accel::cli::register_infer(app, exit_code);
        accel::cli::register_bench(app, exit_code);
        accel::cli::register_db(app, exit_code);
        accel::cli::register_detect(app, exit_code);
        accel::cli::register_inspect(app, exit_code);
        accel::cli::register_classify(app, exit_code);
        accel::cli::register_conform(app, exit_code);
        accel::cli::register_web_bench(app, exit_code);
        accel::cli::register_report(app, exit_code);
        accel::cli::register_recommend(app, exit_code);
        accel::cli::register_quantize(app, exit_code);
        accel::cli::register_perplexity(app, exit_code);
        accel::cli::register_tradeoffs(app, exit_code);
        accel::cli::register_convert(app, exit_code);
        accel::cli::register_serve(app, exit_code);
        accel::cli::register_plan(app, exit_code);
        accel::cli::register_run_shard(app, exit_code);
        accel::cli::register_validate_load(app, exit_code);
    } catch (const std::exception& e) {
        print_error(std::string("internal error while setting up the command line: ") + e.what());
        return accel::cli::exit_runtime;
    }

    // An unknown subcommand is a usage error even next to --help, which CLI11 would otherwise answer first with
    // the main help and exit 0.
    if (const std::string first = first_positional(argc, argv); !first.empty()) {
        const auto known = app.get_subcommands([&](CLI::App* sub) { return sub->check_name(first); });
        if (known.empty()) {
            print_error("unknown subcommand '" + first + "'");
            std::fprintf(stderr, "Run 'accel --help' (or 'accel SUBCOMMAND --help') for usage.\n");
            return accel::cli::exit_usage;
        }
    }

    std::vector<std::string> args = normalize_args(argc, argv);
    std::vector<char*> arg_ptrs;
    for (auto& a : args) arg_ptrs.push_back(a.data());
    try {
        app.parse(static_cast<int>(arg_ptrs.size()), arg_ptrs.data());
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // Usage errors: the message, then where to find help, and exit 2 whatever CLI11's own code is.
        const std::string unknown = app.get_subcommands().empty() ? first_positional(argc, argv) : "";
        print_error(unknown.empty() ? std::string(e.what()) : "unknown subcommand '" + unknown + "'");
        std::fprintf(stderr, "Run 'accel --help' (or 'accel SUBCOMMAND --help') for usage.\n");
        return accel::cli::exit_usage;
    } catch (const accel::Error& e) {
        print_error(e.what());
        return exit_code_for(e.kind());
    } catch (const std::bad_alloc&) {
        print_error("out of memory");
        return accel::cli::exit_runtime;
    } catch (const std::exception& e) {
        print_error(std::string("internal error: ") + e.what());
        return accel::cli::exit_runtime;
    }
    std::fflush(stdout);
    if (std::ferror(stdout)) {
        print_error("cannot write to standard output");
        return accel::cli::exit_runtime;
    }
    return exit_code;
}
