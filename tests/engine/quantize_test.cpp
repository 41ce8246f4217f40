// Quantization and importance matrices on a synthetic llama: outputs load with the type and size they claim, an
// imatrix unlocks the low-bit types llama.cpp refuses without one, and bad inputs leave no file behind.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "accel/core/partial_file.h"
#include "accel/core/error.h"
#include "accel/engine/imatrix.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/quality.h"
#include "accel/engine/quantize.h"
#include "test_support.h"

namespace {

using namespace accel;
namespace fs = std::filesystem;

// Debian's base-files installs the default corpus, so under CI=true its absence fails the test.
#define REQUIRE_DEFAULT_CORPUS()                                                                            \
    if (!fs::exists(engine::default_corpus_path)) {                                                         \
        if (test::in_ci()) FAIL() << engine::default_corpus_path << " is absent (CI=true: it is required)"; \
        GTEST_SKIP() << "no default corpus";                                                                \
    }

std::vector<std::string> listing(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

struct Quantize : ::testing::Test {
    static void SetUpTestSuite() {
        f32 = new fs::path(test::synthetic_model("llama", "5M", "f32"));
        q4 = new fs::path(test::synthetic_model("llama", "5M", "q4_0"));
    }
    static void TearDownTestSuite() {
        delete f32;
        delete q4;
    }
    static fs::path* f32;
    static fs::path* q4;

    // Runs fn, expects Error{kind} whose message contains `needle`, and an empty out dir afterwards.
    template <typename Fn>
    static void expect_refused(Fn fn, ErrorKind kind, const std::string& needle, const fs::path& out_dir) {
        try {
            fn();
            ADD_FAILURE() << "no error; expected one containing: " << needle;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), kind) << e.what();
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
        EXPECT_EQ(listing(out_dir), std::vector<std::string>{});
    }
};
fs::path* Quantize::f32 = nullptr;
fs::path* Quantize::q4 = nullptr;

TEST_F(Quantize, RoundTripEveryOutputLoadsWithItsTypeAndSize) {
    test::TempDir dir;
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"Q8_0", "Q8_0"}, {"Q6_K", "Q6_K"}, {"Q4_K_M", "Q4_K - Medium"}, {"Q4_0", "Q4_0"}};
    std::vector<engine::QuantizeProgress> seen;
    const auto outs = engine::quantize({.input = *f32,
                                        .types = {"q8_0", "Q6_K", "q4_k_m", "q4_0"},
                                        .out_dir = dir.path(),
                                        .n_threads = 2,
                                        .on_progress = [&](const engine::QuantizeProgress& p) { seen.push_back(p); }});
    ASSERT_EQ(outs.size(), expected.size());
    const std::string stem = f32->stem().string();  // llama-5M-f32-s1
    for (size_t i = 0; i < outs.size(); ++i) {
        const auto& out = outs[i];
        SCOPED_TRACE(out.type.name);
        EXPECT_EQ(out.type.name, expected[i].first);
        EXPECT_EQ(out.path, dir.path() / (stem + "-" + expected[i].first + ".gguf"));
        EXPECT_EQ(out.file_bytes, fs::file_size(out.path));
        EXPECT_GT(out.elapsed.count(), 0);
        // The estimate is an upper bound a little above the real size.
        EXPECT_LE(out.file_bytes, out.estimated_bytes);
        EXPECT_LT(static_cast<double>(out.estimated_bytes), 1.05 * static_cast<double>(out.file_bytes));
        EXPECT_EQ(engine::gguf_file_type(out.path), expected[i].first);
        const auto model = engine::LoadedModel::load(out.path);
        EXPECT_NE(model.description().find(expected[i].second), std::string::npos) << model.description();
        // llama.cpp's weight bytes are the file minus its header, vocabulary and alignment.
        EXPECT_LT(model.size_bytes(), out.file_bytes);
    }
    // Smaller types give smaller files.
    EXPECT_GT(outs[0].file_bytes, outs[1].file_bytes);
    EXPECT_GT(outs[1].file_bytes, outs[3].file_bytes);
    EXPECT_EQ(listing(dir.path()).size(), outs.size());  // no temporary left
    // Progress: each type starts at tensor 0 and ends with every tensor counted, in order.
    ASSERT_FALSE(seen.empty());
    for (int32_t t = 0; t < 4; ++t) {
        std::vector<engine::QuantizeProgress> mine;
        for (const auto& p : seen)
            if (p.type_index == t) mine.push_back(p);
        ASSERT_GE(mine.size(), 3u);
        EXPECT_EQ(mine.front().tensor, 0);
        EXPECT_FALSE(mine.front().done);
        EXPECT_GT(mine.back().n_tensors, 0);
        EXPECT_TRUE(mine.back().done);
        EXPECT_EQ(mine.back().tensor, mine.back().n_tensors);
        EXPECT_EQ(std::count_if(mine.begin(), mine.end(), [](const auto& p) { return p.done; }), 1);
        EXPECT_EQ(mine.size(), static_cast<size_t>(mine.back().n_tensors) + 2);  // start, one per tensor, done
        for (size_t k = 1; k < mine.size(); ++k) EXPECT_GE(mine[k].tensor, mine[k - 1].tensor);
    }
}

TEST_F(Quantize, OutputNamesArePredictable) {
    const auto& q4_k_m = engine::parse_quant_type("q4_k");  // an alias
    EXPECT_EQ(q4_k_m.name, "Q4_K_M");
    EXPECT_EQ(engine::quantized_path("/m/llama-3-8b-F16.gguf", "", q4_k_m), fs::path("/m/llama-3-8b-Q4_K_M.gguf"));
    EXPECT_EQ(engine::quantized_path("/m/tiny.gguf", "/out", q4_k_m), fs::path("/out/tiny-Q4_K_M.gguf"));
    EXPECT_EQ(engine::quantized_path("model_bf16.GGUF", "", engine::parse_quant_type("Q8_0")),
              fs::path("model-Q8_0.gguf"));
}

TEST_F(Quantize, ImatrixHasAnEntryPerMatmulWeightAndUnlocksLowBitTypes) {
    REQUIRE_DEFAULT_CORPUS();
    test::TempDir dir;
    fs::create_directories(dir / "out");
    const auto model = engine::LoadedModel::load(*f32);
    const auto m = engine::compute_imatrix(model, engine::read_corpus(engine::default_corpus_path),
                                           {.n_ctx = 64, .n_threads = 2, .max_chunks = 2, .dataset = "GPL-3"});
    EXPECT_EQ(m.chunk_count, 2);
    EXPECT_EQ(m.chunk_size, 64);
    const auto n_embd = static_cast<size_t>(model.n_embd());
    for (int32_t l = 0; l < model.n_layer(); ++l) {
        for (const char* w : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}) {
            const std::string name = "blk." + std::to_string(l) + "." + w + ".weight";
            ASSERT_TRUE(m.entries.contains(name)) << name;
            const auto& e = m.entries.at(name);
            ASSERT_EQ(e.counts.size(), 1u);
            EXPECT_EQ(e.counts[0], 2 * 64) << name;  // every token of both chunks
            if (std::string(w) == "ffn_down") {
                EXPECT_GT(e.sums.size(), n_embd) << name;  // n_ff columns
            } else {
                EXPECT_EQ(e.sums.size(), n_embd) << name;
            }
            EXPECT_GT(*std::max_element(e.sums.begin(), e.sums.end()), 0.0f) << name;
        }
    }
    EXPECT_EQ(m.entries.size(), static_cast<size_t>(7 * model.n_layer()));  // no output.weight, no embeddings

    const fs::path file = dir / "m.imatrix.gguf";
    engine::save_imatrix(m, file);
    const auto back = engine::load_imatrix(file);
    EXPECT_EQ(back.datasets, std::vector<std::string>{"GPL-3"});
    EXPECT_EQ(back.chunk_count, 2);
    ASSERT_EQ(back.entries.size(), m.entries.size());
    for (const auto& [name, e] : m.entries) {
        EXPECT_EQ(back.entries.at(name).sums, e.sums) << name;
        EXPECT_EQ(back.entries.at(name).counts, e.counts) << name;
    }

    // Without an imatrix llama.cpp refuses IQ2_XXS here, so accel refuses it before writing anything...
    expect_refused([&] { engine::quantize({.input = *f32, .types = {"iq2_xxs"}, .out_dir = dir / "out"}); },
                   ErrorKind::invalid_input, "IQ2_XXS needs an importance matrix for " + f32->string(), dir / "out");
    // ...and with one it succeeds, and the output loads as IQ2_XXS.
    const auto outs = engine::quantize(
        {.input = *f32, .types = {"iq2_xxs"}, .out_dir = dir / "out", .imatrix = file, .n_threads = 2});
    ASSERT_EQ(outs.size(), 1u);
    EXPECT_EQ(engine::gguf_file_type(outs[0].path), "IQ2_XXS");
    const auto low = engine::LoadedModel::load(outs[0].path);
    EXPECT_NE(low.description().find("IQ2_XXS"), std::string::npos) << low.description();
}

TEST_F(Quantize, LegacyImatrixFormatLoads) {
    test::TempDir dir;
    // llama.cpp's legacy .dat: n_entries, then per entry name length, name, ncall, nval, values; then chunks, dataset.
    std::ofstream out(dir / "legacy.dat", std::ios::binary);
    auto put = [&](const auto& v) { out.write(reinterpret_cast<const char*>(&v), sizeof(v)); };
    put(int32_t{1});
    const std::string name = "blk.0.attn_q.weight";
    put(static_cast<int32_t>(name.size()));
    out.write(name.data(), static_cast<std::streamsize>(name.size()));
    put(int32_t{4});  // ncall
    put(int32_t{2});  // nval
    put(8.0f);
    put(12.0f);
    put(int32_t{3});
    const std::string ds = "wiki";
    put(static_cast<int32_t>(ds.size()));
    out.write(ds.data(), static_cast<std::streamsize>(ds.size()));
    out.close();
    const auto m = engine::load_imatrix(dir / "legacy.dat");
    EXPECT_EQ(m.chunk_count, 3);
    EXPECT_EQ(m.datasets, std::vector<std::string>{"wiki"});
    EXPECT_EQ(engine::imatrix_weights(m).at(name), (std::vector<float>{2.0f, 3.0f}));
    test::write_file(dir / "junk.dat", "not an imatrix");
    EXPECT_THROW(engine::load_imatrix(dir / "junk.dat"), Error);
}

TEST_F(Quantize, BadInputsAreRefusedBeforeAnyWorkAndLeaveNoFile) {
    test::TempDir dir;
    const fs::path out = dir / "out";
    fs::create_directories(out);
    expect_refused([&] { engine::quantize({.input = *f32, .types = {"q4_0", "q9_9"}, .out_dir = out}); },
                   ErrorKind::invalid_input, "unknown quantization type 'q9_9' (valid: Q1_0, Q2_0, Q4_0", out);
    test::write_file(dir / "notes.gguf", "this is text, not a model");
    expect_refused([&] { engine::quantize({.input = dir / "notes.gguf", .types = {"q4_0"}, .out_dir = out}); },
                   ErrorKind::invalid_input, "not a GGUF file (bad magic): " + (dir / "notes.gguf").string(), out);
    expect_refused([&] { engine::quantize({.input = *q4, .types = {"q8_0"}, .out_dir = out}); },
                   ErrorKind::invalid_input, q4->string() + " is already quantized (Q4_0)", out);
    expect_refused([&] { engine::quantize({.input = *f32, .types = {"q8_0", "Q8_0"}, .out_dir = out}); },
                   ErrorKind::invalid_input, "type Q8_0 is given twice", out);
    expect_refused([&] { engine::quantize({.input = *f32, .types = {"q8_0"}, .out_dir = dir / "missing"}); },
                   ErrorKind::invalid_input, "output folder does not exist: " + (dir / "missing").string(), out);
    expect_refused(
        [&] { engine::quantize({.input = *f32, .types = {"q8_0"}, .out_dir = out, .imatrix = dir / "none.dat"}); },
        ErrorKind::invalid_input, "imatrix file not found", out);
}

TEST_F(Quantize, TooLittleDiskSpaceIsRefusedBeforeWriting) {
    // A tiny tmpfs, where mounting is allowed (root in a container usually may).
    test::TempDir dir;
    const fs::path mnt = dir / "tiny";
    fs::create_directories(mnt);
    const auto m = test::run_process({"/usr/bin/mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt.string()});
    if (m.exit_code != 0) {
        if (test::in_ci()) FAIL() << "cannot mount a tmpfs (CI=true: the disk-space check must run): " << m.err;
        GTEST_SKIP() << "cannot mount a tmpfs here: " << m.err;
    }
    expect_refused([&] { engine::quantize({.input = *f32, .types = {"q8_0"}, .out_dir = mnt}); },
                   ErrorKind::invalid_input, "not enough disk space in " + mnt.string(), mnt);
    test::run_process({"/usr/bin/umount", mnt.string()});
}

TEST_F(Quantize, FailingWriteLeavesNoPartialFile) {
    // RLIMIT_FSIZE makes the write fail with EFBIG part-way (SIGXFSZ ignored, so the write returns the error).
    test::TempDir dir;
    const fs::path out = dir / "out";
    fs::create_directories(out);
    const char* accel_bin = std::getenv("ACCEL_BIN");
    ASSERT_NE(accel_bin, nullptr);
    const std::string script = std::string("trap '' XFSZ; ulimit -f 64; exec '") + accel_bin + "' quantize '" +
                               f32->string() + "' --type q8_0 --out-dir '" + out.string() + "'";
    const auto r = test::run_process({"/bin/bash", "-c", script});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    // The progress line, then the error in one line that says where the write stopped and why.
    const auto error_at = r.err.find("accel: error: ");
    ASSERT_NE(error_at, std::string::npos) << r.err;
    const std::string error = r.err.substr(error_at);
    EXPECT_TRUE(error.starts_with("accel: error: quantizing " + f32->string() + " to Q8_0 failed: ")) << error;
    EXPECT_NE(error.find(" (the output stopped at 65536 bytes, the file size limit (ulimit -f)); nothing was left in " +
                         out.string() + "\n"),
              std::string::npos)
        << error;
    EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 1) << error;
    EXPECT_EQ(listing(out), std::vector<std::string>{});
}

TEST_F(Quantize, SigtermRemovesTheTemporaryOutput) {
    test::TempDir dir;
    const char* accel_bin = std::getenv("ACCEL_BIN");
    ASSERT_NE(accel_bin, nullptr);
    // Many types, so that the run lasts long enough to be caught in the middle of one.
    const std::string types = "q8_0,q6_k,q5_k_m,q5_k_s,q5_1,q5_0,q4_k_m,q4_k_s,q4_1,q4_0,q3_k_l,q3_k_m,q3_k_s,q2_k,"
                              "iq4_nl,iq4_xs,f16,bf16";
    std::vector<std::string> args = {accel_bin, "quantize", f32->string(), "--type", types, "--out-dir",
                                     dir.path().string(), "-t", "1"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    ASSERT_EQ(posix_spawn(&pid, accel_bin, &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    bool seen_tmp = false;
    int status = 0;
    for (int i = 0; i < 60000 && !seen_tmp; ++i) {
        for (const auto& name : listing(dir.path())) seen_tmp = seen_tmp || accel::is_partial_file_name(name);
        if (seen_tmp) {
            ::kill(pid, SIGTERM);
        } else if (::waitpid(pid, &status, WNOHANG) == pid) {
            pid = 0;
            break;
        }
        ::usleep(500);
    }
    if (pid != 0) {
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    }
    ASSERT_TRUE(seen_tmp) << "the run ended before a temporary output was seen";
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
    for (const auto& name : listing(dir.path())) {
        EXPECT_FALSE(accel::is_partial_file_name(name)) << name;
        EXPECT_TRUE(name.ends_with(".gguf")) << name;  // only complete outputs of earlier types
    }
}

TEST_F(Quantize, CliErrorsAreOneLineWithExit2) {
    test::TempDir dir;
    test::write_file(dir / "notes.gguf", "text");
    struct Case {
        std::vector<std::string> args;
        std::string err;
    };
    const std::vector<Case> cases = {
        {{"quantize", (dir / "notes.gguf").string(), "--type", "q4_0"},
         "accel: error: not a GGUF file (bad magic): " + (dir / "notes.gguf").string() + "\n"},
        {{"quantize", q4->string(), "--type", "q8_0"},
         "accel: error: " + q4->string() + " is already quantized (Q4_0); quantize from its F32, F16 or BF16 original\n"},
        {{"quantize", (dir / "absent.gguf").string(), "--type", "q8_0"},
         "accel: error: model file not found: " + (dir / "absent.gguf").string() + "\n"},
        {{"imatrix", "--model", f32->string(), "--text", "/nonexistent.txt", "--out", (dir / "m.gguf").string()},
         "accel: error: text file not found: /nonexistent.txt\n"},
        {{"imatrix", "--model", f32->string(), "--out", "/nonexistent/m.gguf"},
         "accel: error: output folder does not exist: /nonexistent\n"},
        {{"quantize", f32->string(), "--type", "q8_0", "--imatrix", (dir / "notes.gguf").string()},
         "accel: error: not an imatrix file (neither GGUF nor llama.cpp's legacy .dat): " +
             (dir / "notes.gguf").string() + "\n"},
        {{"quantize", f32->string(), "--type", "q8_0", "--imatrix", f32->string()},
         "accel: error: GGUF file has no imatrix metadata (imatrix.chunk_count): " + f32->string() + "\n"},
    };
    for (const auto& c : cases) {
        const auto r = test::run_accel(c.args);
        EXPECT_EQ(r.exit_code, 2) << c.args[1];
        EXPECT_EQ(r.err, c.err);
        EXPECT_EQ(r.out, "");
    }
    const auto r = test::run_accel({"quantize", f32->string(), "--type", "q4_0,bogus", "--out-dir", dir.path().string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(r.err.starts_with("accel: error: unknown quantization type 'bogus' (valid: Q1_0, ")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(listing(dir.path()), std::vector<std::string>{"notes.gguf"});
}

TEST_F(Quantize, CliImatrixThenLowBitQuantize) {
    REQUIRE_DEFAULT_CORPUS();
    test::TempDir dir;
    const fs::path im = dir / "m.imatrix.gguf";
    const auto made = test::run_accel(
        {"imatrix", "--model", f32->string(), "-c", "64", "--chunks", "1", "-t", "2", "--out", im.string()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    EXPECT_TRUE(made.out.starts_with("wrote " + im.string() + ": 98 weight entries from 1 chunks of 64 tokens of " +
                                     std::string(engine::default_corpus_path)))
        << made.out;
    const fs::path out = dir / "out";
    fs::create_directories(out);
    const auto refused = test::run_accel({"quantize", f32->string(), "--type", "iq2_xxs", "--out-dir", out.string()});
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_EQ(refused.err, "accel: error: IQ2_XXS needs an importance matrix for " + f32->string() +
                               " (llama.cpp refuses it without one): make one with `accel imatrix --model " +
                               f32->string() + " --out FILE` and pass --imatrix FILE\n");
    EXPECT_EQ(listing(out), std::vector<std::string>{});
    const auto done = test::run_accel(
        {"quantize", f32->string(), "--type", "iq2_xxs", "--imatrix", im.string(), "--out-dir", out.string()});
    EXPECT_EQ(done.exit_code, 0) << done.err;
    EXPECT_EQ(listing(out), std::vector<std::string>{f32->stem().string() + "-IQ2_XXS.gguf"});
}

TEST_F(Quantize, CliWritesEachTypeAndReportsIt) {
    test::TempDir dir;
    const auto r = test::run_accel({"quantize", f32->string(), "--type", "q8_0,q4_0", "--out-dir",
                                    dir.path().string(), "-t", "2", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string stem = f32->stem().string();
    EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{stem + "-Q4_0.gguf", stem + "-Q8_0.gguf"}));
    EXPECT_NE(r.out.find("\"file_bytes\": " + std::to_string(fs::file_size(dir / (stem + "-Q8_0.gguf")))),
              std::string::npos)
        << r.out;
    // stderr is not a terminal here: one line per type start and end, no bar.
    EXPECT_NE(r.err.find("quantize: [1/2] Q8_0: started\n"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("quantize: [2/2] Q4_0: done ("), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\r'), std::string::npos);
}

}  // namespace
