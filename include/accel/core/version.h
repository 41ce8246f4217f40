#pragma once

#include <string_view>

namespace accel {

// Compile-time facts about this build, from CMake (src/core/build_info.cpp.in).
struct BuildInfo {
    std::string_view accel_version;
    std::string_view git_commit;        // accel's own commit, "unknown" outside a git checkout
    std::string_view llama_cpp_commit;  // "unknown" for an opted-in system llama.cpp of unknown commit
    std::string_view llama_cpp_source;  // "pinned" or "system"
    std::string_view duckdb_source;     // "pinned" or "system"
    std::string_view compiler;
    std::string_view build_type;
    std::string_view cxx_flags;
};

const BuildInfo& build_info();

// Version of every JSON document accel prints or writes (see docs/cli.md).
inline constexpr int json_schema_version = 1;

}  // namespace accel
