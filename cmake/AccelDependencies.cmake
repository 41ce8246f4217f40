# Third-party dependencies. Debian packages through find_package; llama.cpp and DuckDB from the pinned
# builds that scripts/bootstrap.sh puts in $ACCEL_DEPS_DIR/deps, unless the user opts in to system copies.
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(HWLOC REQUIRED IMPORTED_TARGET hwloc)
find_package(tomlplusplus QUIET)
if(NOT tomlplusplus_FOUND)
    pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
    add_library(tomlplusplus::tomlplusplus ALIAS PkgConfig::TOMLPP)
endif()

set(_bootstrap "${PROJECT_SOURCE_DIR}/scripts/bootstrap.sh")

# ---- llama.cpp ----
set(ACCEL_LLAMA_PREFIX "" CACHE PATH "Install prefix of the pinned llama.cpp build (default: from scripts/bootstrap.sh)")
if(ACCEL_SYSTEM_LLAMA)
    find_path(ACCEL_LLAMA_INCLUDE llama.h REQUIRED)
    find_library(ACCEL_LIBLLAMA llama REQUIRED)
    find_library(ACCEL_LIBMTMD mtmd REQUIRED)
    find_library(ACCEL_LIBGGML ggml REQUIRED)
    find_library(ACCEL_LIBGGML_BASE ggml-base REQUIRED)
    set(ACCEL_LLAMA_INTERNAL_INCLUDE "" CACHE PATH "llama.cpp's src/ folder at the same commit (for make-model)")
    if(NOT ACCEL_LLAMA_INTERNAL_INCLUDE)
        message(FATAL_ERROR "ACCEL_SYSTEM_LLAMA=ON needs -DACCEL_LLAMA_INTERNAL_INCLUDE=<llama.cpp>/src (make-model uses llama-model-saver.h)")
    endif()
    set(ACCEL_LLAMA_COMMIT "unknown" CACHE STRING "llama.cpp commit of the system install, if known")
    set(ACCEL_LLAMA_SOURCE "system")
    set(ACCEL_VOCAB_DIR "" CACHE PATH "Folder with llama.cpp's ggml-vocab-*.gguf files")
    set(ACCEL_LLAMA_BIN_DIR "" CACHE PATH "Folder with llama-bench and llama-perplexity")
else()
    if(NOT ACCEL_LLAMA_PREFIX)
        execute_process(COMMAND bash "${_bootstrap}" --print-prefix OUTPUT_VARIABLE _p OUTPUT_STRIP_TRAILING_WHITESPACE
                        COMMAND_ERROR_IS_FATAL ANY)
        set(ACCEL_LLAMA_PREFIX "${_p}")
    endif()
    if(NOT EXISTS "${ACCEL_LLAMA_PREFIX}/.complete")
        message(FATAL_ERROR "The pinned llama.cpp is not built at ${ACCEL_LLAMA_PREFIX}. Run scripts/bootstrap.sh first.")
    endif()
    set(ACCEL_LLAMA_INCLUDE "${ACCEL_LLAMA_PREFIX}/include")
    set(ACCEL_LLAMA_INTERNAL_INCLUDE "${ACCEL_LLAMA_PREFIX}/include/llama-internal")
    find_library(ACCEL_LIBLLAMA llama PATHS "${ACCEL_LLAMA_PREFIX}/lib" NO_DEFAULT_PATH REQUIRED)
    find_library(ACCEL_LIBMTMD mtmd PATHS "${ACCEL_LLAMA_PREFIX}/lib" NO_DEFAULT_PATH REQUIRED)
    find_library(ACCEL_LIBGGML ggml PATHS "${ACCEL_LLAMA_PREFIX}/lib" NO_DEFAULT_PATH REQUIRED)
    find_library(ACCEL_LIBGGML_BASE ggml-base PATHS "${ACCEL_LLAMA_PREFIX}/lib" NO_DEFAULT_PATH REQUIRED)
    file(READ "${ACCEL_LLAMA_PREFIX}/COMMIT" ACCEL_LLAMA_COMMIT)
    string(STRIP "${ACCEL_LLAMA_COMMIT}" ACCEL_LLAMA_COMMIT)
    set(ACCEL_LLAMA_SOURCE "pinned")
    set(ACCEL_VOCAB_DIR "${ACCEL_LLAMA_PREFIX}/share/vocab")
    set(ACCEL_LLAMA_BIN_DIR "${ACCEL_LLAMA_PREFIX}/bin")
endif()
add_library(accel_llama INTERFACE)
target_include_directories(accel_llama SYSTEM INTERFACE "${ACCEL_LLAMA_INCLUDE}")
target_link_libraries(accel_llama INTERFACE "${ACCEL_LIBLLAMA}" "${ACCEL_LIBGGML}" "${ACCEL_LIBGGML_BASE}")
get_filename_component(ACCEL_LLAMA_LIBDIR "${ACCEL_LIBLLAMA}" DIRECTORY)
# libmtmd (tools/mtmd: clip.cpp and the multimodal helpers; mtmd.h, mtmd-helper.h) from the same prefix, for the
# LLaVA engine (engine/multimodal_generator.cpp). The install copies it with the other lib*.so of the prefix.
add_library(accel_mtmd INTERFACE)
target_link_libraries(accel_mtmd INTERFACE "${ACCEL_LIBMTMD}" accel_llama)

# ---- DuckDB ----
if(ACCEL_SYSTEM_DUCKDB)
    find_path(ACCEL_DUCKDB_INCLUDE duckdb.h REQUIRED)
    find_library(ACCEL_LIBDUCKDB duckdb REQUIRED)
    set(ACCEL_DUCKDB_SOURCE "system")
else()
    execute_process(COMMAND bash "${_bootstrap}" --print-duckdb-prefix OUTPUT_VARIABLE _d OUTPUT_STRIP_TRAILING_WHITESPACE
                    COMMAND_ERROR_IS_FATAL ANY)
    if(NOT EXISTS "${_d}/.complete")
        message(FATAL_ERROR "The pinned DuckDB is not at ${_d}. Run scripts/bootstrap.sh first.")
    endif()
    set(ACCEL_DUCKDB_INCLUDE "${_d}/include")
    set(ACCEL_LIBDUCKDB "${_d}/lib/libduckdb.so")
    set(ACCEL_DUCKDB_SOURCE "pinned")
endif()
add_library(accel_duckdb INTERFACE)
target_include_directories(accel_duckdb SYSTEM INTERFACE "${ACCEL_DUCKDB_INCLUDE}")
target_link_libraries(accel_duckdb INTERFACE "${ACCEL_LIBDUCKDB}")
get_filename_component(ACCEL_DUCKDB_LIBDIR "${ACCEL_LIBDUCKDB}" DIRECTORY)

# ---- whisper.cpp: libwhisper.so built by scripts/bootstrap-whisper.sh against the llama.cpp prefix's ggml ----
set(ACCEL_WHISPER_PREFIX "" CACHE PATH "Install prefix of the pinned whisper.cpp build (default: from scripts/bootstrap.sh)")
if(NOT ACCEL_WHISPER_PREFIX)
    execute_process(COMMAND bash "${_bootstrap}" --print-whisper-prefix OUTPUT_VARIABLE _wp OUTPUT_STRIP_TRAILING_WHITESPACE
                    COMMAND_ERROR_IS_FATAL ANY)
    set(ACCEL_WHISPER_PREFIX "${_wp}")
endif()
if(NOT EXISTS "${ACCEL_WHISPER_PREFIX}/.complete")
    message(FATAL_ERROR "The pinned whisper.cpp is not built at ${ACCEL_WHISPER_PREFIX}. Run scripts/bootstrap.sh first.")
endif()
find_library(ACCEL_LIBWHISPER whisper PATHS "${ACCEL_WHISPER_PREFIX}/lib" NO_DEFAULT_PATH REQUIRED)
file(READ "${ACCEL_WHISPER_PREFIX}/VERSION" ACCEL_WHISPER_VERSION)
string(STRIP "${ACCEL_WHISPER_VERSION}" ACCEL_WHISPER_VERSION)
set(ACCEL_WHISPER_BIN_DIR "${ACCEL_WHISPER_PREFIX}/bin")  # whisper-bench and whisper-cli, the peer programs
add_library(accel_whisper INTERFACE)
target_include_directories(accel_whisper SYSTEM INTERFACE "${ACCEL_WHISPER_PREFIX}/include")
target_link_libraries(accel_whisper INTERFACE "${ACCEL_LIBWHISPER}" accel_llama)
get_filename_component(ACCEL_WHISPER_LIBDIR "${ACCEL_LIBWHISPER}" DIRECTORY)

# The build tree runs against the cached libraries; the install tree carries copies (see src/cli).
set(CMAKE_BUILD_RPATH "${ACCEL_LLAMA_LIBDIR};${ACCEL_WHISPER_LIBDIR};${ACCEL_DUCKDB_LIBDIR}")

# ---- cpp-httplib: the one HTTP library (net/, docs/net.md), from the pinned llama.cpp source's vendor/ ----
set(ACCEL_HTTPLIB_DIR "" CACHE PATH "Folder with cpp-httplib's httplib.h and httplib.cpp (default: the pinned llama.cpp source)")
if(NOT ACCEL_HTTPLIB_DIR)
    if(ACCEL_SYSTEM_LLAMA)
        message(FATAL_ERROR "ACCEL_SYSTEM_LLAMA=ON needs -DACCEL_HTTPLIB_DIR=<llama.cpp>/vendor/cpp-httplib")
    endif()
    # bootstrap.sh unpacks the source beside the install prefix: <deps>/llama.cpp-<commit:12>-src.
    get_filename_component(_deps "${ACCEL_LLAMA_PREFIX}" DIRECTORY)
    string(SUBSTRING "${ACCEL_LLAMA_COMMIT}" 0 12 _c12)
    set(ACCEL_HTTPLIB_DIR "${_deps}/llama.cpp-${_c12}-src/vendor/cpp-httplib")
endif()
if(NOT EXISTS "${ACCEL_HTTPLIB_DIR}/httplib.cpp")
    message(FATAL_ERROR "cpp-httplib not found at ${ACCEL_HTTPLIB_DIR}. Run scripts/bootstrap.sh first.")
endif()

# A folder that bootstrap.sh unpacks an npm package into (asked with `bootstrap.sh <flag>`), unless the cache
# variable already names one.
function(accel_bootstrap_dir var flag doc)
    set(${var} "" CACHE PATH "${doc} (default: from scripts/bootstrap.sh)")
    if(NOT ${var})
        execute_process(COMMAND bash "${_bootstrap}" ${flag} OUTPUT_VARIABLE _dir OUTPUT_STRIP_TRAILING_WHITESPACE
                        COMMAND_ERROR_IS_FATAL ANY)
        set(${var} "${_dir}" PARENT_SCOPE)
    endif()
endfunction()

# ---- wllama for web-bench ----
accel_bootstrap_dir(ACCEL_WLLAMA_DIR --print-wllama-dir "Extracted @wllama/wllama package")
if(NOT EXISTS "${ACCEL_WLLAMA_DIR}/esm/wasm/wllama.wasm")
    message(STATUS "wllama not found at ${ACCEL_WLLAMA_DIR}: web-bench will say so at run time (run scripts/bootstrap.sh)")
endif()

# ---- whisper.cpp's WebAssembly build for web-bench's Whisper runs (optional: bootstrap.sh --whisper-wasm) ----
accel_bootstrap_dir(ACCEL_WHISPER_WASM_DIR --print-whisper-wasm-dir "whisper.cpp WebAssembly build")

# ---- the openai npm client, for accel serve's tests (tests/serve) ----
accel_bootstrap_dir(ACCEL_OPENAI_DIR --print-openai-dir "Extracted openai npm package")

find_program(GIT_EXECUTABLE git)
set(ACCEL_GIT_COMMIT "unknown")
if(GIT_EXECUTABLE)
    execute_process(COMMAND "${GIT_EXECUTABLE}" rev-parse --short=12 HEAD WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
                    OUTPUT_VARIABLE _g OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _gr)
    if(_gr EQUAL 0 AND _g)
        set(ACCEL_GIT_COMMIT "${_g}")
    endif()
endif()
