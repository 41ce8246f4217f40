// Parity of accel's mtmd path (engine::MultimodalGenerator) with the pinned llama-mtmd-cli on the same model and
// image (issue 20): time to first token split into image encode and prefill, interleaved rounds, raw data as JSONL
// on stdout, medians and the encode ratio on stderr. docs/benchmarks.md, "LLaVA: accel against llama-mtmd-cli".
//
//     mtmd_parity TEXT.gguf MMPROJ.gguf IMAGE [ROUNDS=5] [THREADS=2] [LLAMA_MTMD_CLI]
//
// llama-mtmd-cli reports its image encode in whole milliseconds ("mtmd batch encoding done in N ms"); in single-turn
// mode (-p) it prints no prefill or first-token time, so the prefill is accel's alone. Both load once per process:
// accel's load is outside the timed steps, the CLI's is outside its reported encode.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "accel/engine/multimodal_generator.h"
#include "accel/media/image.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct PcloseFile {
    void operator()(std::FILE* f) const { pclose(f); }
};

// One llama-mtmd-cli run; its reported image encode in ms, or -1 when the line is missing.
double cli_encode_ms(const std::string& cli, const std::string& model, const std::string& mmproj,
                     const std::string& image, int threads) {
    const std::string cmd = fmt::format("'{}' -m '{}' --mmproj '{}' --image '{}' -p 'What is in the picture?' -n 1 "
                                        "--temp 0 -t {} 2>&1", cli, model, mmproj, image, threads);
    std::unique_ptr<std::FILE, PcloseFile> p(popen(cmd.c_str(), "r"));
    if (!p) return -1;
    double out = -1;
    std::array<char, 4096> line{};
    while (std::fgets(line.data(), line.size(), p.get()) != nullptr) {
        const std::string s(line.data());
        const auto at = s.find("mtmd batch encoding done in ");
        if (at != std::string::npos) out = std::stod(s.substr(at + 28));
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s TEXT.gguf MMPROJ.gguf IMAGE [ROUNDS] [THREADS] [LLAMA_MTMD_CLI]\n", argv[0]);
        return 2;
    }
    const std::string model = argv[1], mmproj = argv[2], image = argv[3];
    const int rounds = argc > 4 ? std::stoi(argv[4]) : 5;
    const int threads = argc > 5 ? std::stoi(argv[5]) : 2;
    const std::string cli = argc > 6 ? argv[6] : "";
    try {
        const std::vector<accel::media::Image> images{accel::media::decode_image(image)};
        auto gen = accel::engine::MultimodalGenerator::load(model, mmproj, {.n_threads = threads});
        const std::string prompt = accel::engine::MultimodalGenerator::llava_prompt("What is in the picture?", 1);
        std::vector<double> enc, pre, first, cli_enc;
        for (int r = 0; r < rounds; ++r) {
            gen.prepare(prompt, images);
            const auto t0 = Clock::now();
            gen.encode_images();
            const auto t1 = Clock::now();
            gen.prefill();
            const auto t2 = Clock::now();
            gen.next();
            const auto t3 = Clock::now();
            enc.push_back(ms(t1 - t0));
            pre.push_back(ms(t2 - t1));
            first.push_back(ms(t3 - t0));
            fmt::print("{{\"who\":\"accel\",\"round\":{},\"encode_ms\":{:.3f},\"prefill_ms\":{:.3f},\"ttft_ms\":{:.3f}}}\n",
                       r, enc.back(), pre.back(), first.back());
            if (!cli.empty()) {
                cli_enc.push_back(cli_encode_ms(cli, model, mmproj, image, threads));
                fmt::print("{{\"who\":\"llama-mtmd-cli\",\"round\":{},\"encode_ms\":{}}}\n", r, cli_enc.back());
            }
            std::fflush(stdout);
        }
        fmt::print(stderr, "accel: encode {:.1f} ms, prefill {:.1f} ms, first token {:.1f} ms (medians of {})\n",
                   median(enc), median(pre), median(first), rounds);
        if (!cli.empty())
            fmt::print(stderr, "llama-mtmd-cli: encode {:.1f} ms; accel / cli encode = {:.3f}\n", median(cli_enc),
                       median(enc) / median(cli_enc));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mtmd_parity: %s\n", e.what());
        return 1;
    }
    return 0;
}
