#pragma once

#include <string>

#include "accel/bench/run_hygiene.h"
#include "accel/core/invocation.h"
#include "accel/hw/backend_registry.h"
#include "accel/hw/inventory.h"
#include "accel/store/records.h"
#include "accel/store/result_writer.h"

namespace accel::bench {

// Where a run happened, with what, and what the machine was doing at the start: stored with every run (bench,
// tradeoffs, recommend --search, conform, web-bench) and printed in --json. The one builder is make_provenance.
struct RunProvenance {
    std::string machine_id;  // fingerprint_id of the machine
    std::string json_text;   // {"machine_fingerprint":…, "accel_version":…, "llama_cpp_commit":…, "argv":…, …}
    std::string command;     // the shell line that reruns it (core's shell_command), "" when argv is unknown
    store::MachineRecord machine;
    store::BuildRecord build;
    double other_cpu_percent = -1;
};

// The llama.cpp that actually runs (a GPU run loads a separately built libllama/libggml), as it reports itself.
struct LibraryRuntime {
    hw::GgmlRuntime ggml;           // commit, version, backends loaded with their build options, flash attention
    std::string llama_system_info;  // llama_print_system_info()
};

// The llama.cpp commit to record: the loaded library's own (ggml_commit()) when it knows it, written in full when it
// is a prefix of the commit accel was compiled against; accel's compile-time pin when the library says "unknown".
std::string resolve_llama_commit(const std::string& runtime_commit, const std::string& compiled_commit);

struct ProvenanceOptions {
    std::string cpu_mask{};  // --cpu-mask as given, "" when none
    bool cold = false;       // --cold
};

// Everything a provenance is made of; current_provenance reads them, tests pass fixtures.
struct ProvenanceInputs {
    hw::Inventory inventory;
    Hygiene hygiene;
    LibraryRuntime runtime;
    Invocation invocation;  // argv and the ACCEL_* environment
};

// The provenance of a run from `inputs`, with this build's facts. No I/O.
RunProvenance make_provenance(const ProvenanceInputs& inputs, const ProvenanceOptions& options = {});

// Detects the machine in this process (ggml devices and vendor probes, no browsers), reads the hygiene, the
// loaded llama.cpp's runtime and this process's invocation (about 250 ms). Initialises the GPU backends: a process that forks CUDA children afterwards uses read_run_provenance.
RunProvenance current_provenance(const ProvenanceOptions& options = {});

// current_provenance() read in a forked child, so that children forked later can still use the GPU.
// Throws Error{backend} when the child fails.
RunProvenance read_run_provenance(const std::string& cpu_mask = "", bool cold = false);

// The provenance read in a forked child while the caller goes on measuring (what run_points does): the child
// detects the machine and reports ready once that CPU work is done; it then samples the other processes' CPU share
// over Hygiene's window with the caller's whole process tree left out, so the caller may measure meanwhile without
// counting as "other". Not copyable; the destructor kills a child whose result was not collected.
class ProvenanceProbe {
public:
    // Forks the child (the caller must have no other threads running). during: what the caller does during the
    // window, recorded in other_cpu_window. Throws Error{io} when the fork fails.
    ProvenanceProbe(const ProvenanceOptions& options, std::string during);
    ProvenanceProbe(const ProvenanceProbe&) = delete;
    ProvenanceProbe& operator=(const ProvenanceProbe&) = delete;
    ~ProvenanceProbe();

    // Blocks until the child's inventory is read (or it failed: get() then says why).
    void wait_ready();
    // Ends the CPU-share window early (but not before its minimum): the caller has nothing left to run meanwhile.
    void stop_sampling();
    // Whether get() would return without waiting.
    bool done();
    // Blocks until the child has finished. Throws Error{backend} when it failed. Once only.
    RunProvenance get();

private:
    bool read_some(int timeout_ms);  // false at the end of the child's output
    int pid_ = -1;
    int fd_ = -1;
    std::string out_;
    bool eof_ = false;
};

// Opens a run in the warehouse with this provenance: its machine and build rows, run.git_commit,
// run.extra_json["provenance"] (merged into what `run` already has), and run.command = prov.command, which reruns
// it (a different run.command the caller gave is kept as extra "command_summary"). Throws as
// store::ResultWriter::begin does.
store::ResultWriter begin_run(const store::WriterOptions& writer, store::RunRecord run, const RunProvenance& prov);

}  // namespace accel::bench
