// The full conformance suite on the CPU (KIND slow): every architecture variant in every weight type. It checks
// that the suite survives every case and that every variant gets a status; the matrix goes to stdout, and
// ACCEL_CONFORM_OUT=<file> keeps it as JSON lines.
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <gtest/gtest.h>

#include "accel/bench/conformance.h"

namespace accel::bench {
namespace {

TEST(ConformFull, EveryVariantOnCpuGetsAStatus) {
    ConformOptions o;
    o.devices = {"cpu"};
    const char* vocab = std::getenv("ACCEL_VOCAB_DIR");
    o.vocab_dir = vocab != nullptr ? vocab : ACCEL_TEST_VOCAB_DIR;
    const char* cache = std::getenv("ACCEL_TEST_CACHE");
    o.model_dir = std::filesystem::path(cache != nullptr ? cache : "/tmp") / "conform";
    const char* out_path = std::getenv("ACCEL_CONFORM_OUT");
    std::ofstream out;
    if (out_path != nullptr) out.open(out_path);
    o.on_result = [&](const ConformResult& r) {
        std::cout << r.arch << " " << r.device << " " << r.type << " " << to_string(r.status) << " nmse="
                  << (r.nmse ? std::to_string(*r.nmse) : "-") << " top1=" << (r.top1 ? std::to_string(*r.top1) : "-")
                  << " " << r.reason << "\n";
        if (out.is_open()) {
            out << r.arch << '\t' << r.type << '\t' << to_string(r.status) << '\t' << (r.nmse ? *r.nmse : -1) << '\t'
                << (r.top1 ? *r.top1 : -1) << '\t' << r.stage << '\t' << r.reason << '\n';
            out.flush();
        }
    };
    const auto results = run_conformance(o);
    const auto archs = engine::conformance_architectures();
    EXPECT_EQ(results.size(), archs.size() * o.types.size());
    int pass = 0;
    for (const auto& r : results) {
        EXPECT_FALSE(r.stage.empty()) << r.arch;
        if (r.status != ConformStatus::pass) {
            EXPECT_FALSE(r.reason.empty()) << r.arch << " " << r.type;
        }
        if (r.status == ConformStatus::pass) ++pass;
        if (r.arch == "llama" || r.arch == "qwen2") {
            EXPECT_EQ(r.status, ConformStatus::pass) << r.reason;
        }
    }
    EXPECT_GT(pass, 0);
}

}  // namespace
}  // namespace accel::bench
