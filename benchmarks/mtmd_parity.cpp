// Parity of accel's LLaVA path (engine::MultimodalGenerator: the image on accel's own graph, then llama.cpp's
// prefill) with the pinned llama-mtmd-cli on the same model, image and threads (issue 20). Interleaved rounds, raw
// data as JSONL on stdout, medians and ratios on stderr. docs/benchmarks.md, "LLaVA: accel against llama-mtmd-cli".
//
//     mtmd_parity TEXT.gguf MMPROJ.gguf IMAGE [ROUNDS=5] [THREADS=2] [LLAMA_MTMD_CLI]
//
// Each round runs three sides:
//   "accel":   prepare (tokenize + transformers' preprocessing), encode (accel's LLaVA graph), prefill, first token;
//   "libmtmd": the same generator with the image on the pinned clip.cpp (MultimodalParams::libmtmd_vision, what
//              llama-mtmd-cli runs, in this process): prepare (mtmd_tokenize, clip.cpp's preprocessing), encode;
//   "llama-mtmd-cli" (when given): one process with -lv 4; its own figures: the encode ("mtmd batch encoding done in
//              N ms", whole ms, preprocessing excluded as in accel's encode), the image decode ("image decoded ...
//              in N ms") and llama_perf's prompt eval. At the pin that prompt eval spans every llama_decode of the
//              prompt *and* the encode between them (the first decode starts its clock and nothing synchronizes
//              until sampling), so the CLI's prefill is derived: prompt eval - encode.
// Each side's process CPU time over the encode is recorded too ("encode_cpu_ms", not for the CLI): with THREADS=1
// it is the encode's work, which a loaded machine inflates far less than the wall clock.
// One warm-up round of the in-process sides comes first and is not recorded (llama-mtmd-cli warms clip.cpp up at
// load, outside its reported encode).
#include <ctime>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "accel/engine/multimodal_generator.h"
#include "accel/media/image.h"

namespace {

using Clock = std::chrono::steady_clock;
using accel::engine::MultimodalGenerator;

double ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

double cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// The figures of one round, by name; every side's round is one JSONL line.
using Figures = std::map<std::string, double>;

std::string jsonl(const std::string& who, int round, const Figures& f) {
    std::string s = fmt::format("{{\"who\":\"{}\",\"round\":{}", who, round);
    for (const auto& [k, v] : f) s += fmt::format(",\"{}\":{:.3f}", k, v);
    return s + "}";
}

// One round of an in-process side: the four steps, timed apart.
Figures run_steps(MultimodalGenerator& gen, const std::string& prompt, const std::vector<accel::media::Image>& images,
                  bool through_first_token) {
    Figures f;
    const auto t0 = Clock::now();
    const accel::engine::MultimodalPrompt p = gen.prepare(prompt, images);
    const auto t1 = Clock::now();
    const double c1 = cpu_ms();
    gen.encode_images();
    const double c2 = cpu_ms();
    const auto t2 = Clock::now();
    f["prepare_ms"] = ms(t1 - t0);
    f["encode_ms"] = ms(t2 - t1);
    f["encode_cpu_ms"] = c2 - c1;
    f["text_tokens"] = p.n_text_tokens;
    f["image_tokens"] = p.n_image_tokens;
    if (!through_first_token) return f;
    gen.prefill();
    const auto t3 = Clock::now();
    gen.next();
    const auto t4 = Clock::now();
    f["prefill_ms"] = ms(t3 - t2);
    f["first_token_ms"] = ms(t4 - t3);
    f["ttft_ms"] = ms(t4 - t1);  // from the encode: the CLI's prepare is not reported either
    return f;
}

struct PcloseFile {
    void operator()(std::FILE* f) const { pclose(f); }
};

// The number after `key` in `line`, or nothing.
bool number_after(const std::string& line, const std::string& key, double& out) {
    const auto at = line.find(key);
    if (at == std::string::npos) return false;
    out = std::stod(line.substr(at + key.size()));
    return true;
}

// One llama-mtmd-cli run; its reported figures (absent when the line is missing).
Figures run_cli(const std::string& cli, const std::string& model, const std::string& mmproj, const std::string& image,
                const std::string& text, int threads) {
    const std::string cmd =
        fmt::format("'{}' -m '{}' --mmproj '{}' --image '{}' -p '{}' -n 1 --temp 0 -t {} -lv 4 2>&1", cli, model,
                    mmproj, image, text, threads);
    std::unique_ptr<std::FILE, PcloseFile> p(popen(cmd.c_str(), "r"));
    Figures f;
    if (!p) return f;
    std::array<char, 4096> buf{};
    double v = 0;
    while (std::fgets(buf.data(), buf.size(), p.get()) != nullptr) {
        const std::string s(buf.data());
        if (number_after(s, "mtmd batch encoding done in ", v)) f["encode_ms"] = v;
        if (number_after(s, "n_tokens_batch = ", v)) f["image_tokens"] += v;
        if (s.find("image decoded (batch") != std::string::npos && number_after(s, ") in ", v))
            f["image_decode_ms"] += v;
        if (number_after(s, "prompt eval time = ", v)) {
            f["prompt_eval_ms"] = v;
            if (number_after(s, " ms / ", v)) f["prompt_tokens"] = v;
        }
    }
    if (f.count("prompt_eval_ms") && f.count("encode_ms")) f["prefill_ms"] = f["prompt_eval_ms"] - f["encode_ms"];
    if (f.count("prompt_tokens")) f["text_tokens"] = f["prompt_tokens"] - f["image_tokens"];
    return f;
}

// accel's figures over the other sides' in one round (absent where a side lacks the figure).
Figures round_ratios(const Figures& a, const Figures& l, const Figures& c) {
    Figures r;
    auto put = [&](const std::string& name, const Figures& other, const std::string& key) {
        if (a.count(key) && other.count(key) && other.at(key) > 0) r[name] = a.at(key) / other.at(key);
    };
    put("encode_vs_libmtmd", l, "encode_ms");
    put("encode_cpu_vs_libmtmd", l, "encode_cpu_ms");
    put("encode_vs_cli", c, "encode_ms");
    put("prefill_vs_cli", c, "prefill_ms");
    return r;
}

void summary(const std::string& who, const std::vector<Figures>& rounds, Figures& medians) {
    std::string line = who + ":";
    for (const char* k :
         {"prepare_ms", "encode_ms", "encode_cpu_ms", "prefill_ms", "ttft_ms", "text_tokens", "image_tokens"}) {
        std::vector<double> v;
        for (const auto& r : rounds)
            if (r.count(k)) v.push_back(r.at(k));
        if (v.empty()) continue;
        medians[k] = median(v);
        line += fmt::format(" {} {:.1f}", k, medians[k]);
    }
    fmt::print(stderr, "{} (medians of {})\n", line, rounds.size());
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
    // llama-mtmd-cli puts the marker before the text and formats it with the model's chat template; for the llava
    // template at the pin (not run as jinja) that is the prompt below, so that both sides prefill the same tokens
    // (the JSONL's text_tokens and image_tokens show it).
    const std::string text = "What is in the picture?";
    const std::string prompt = "USER: " + MultimodalGenerator::image_marker() + text + "\nASSISTANT:";
    try {
        const std::vector<accel::media::Image> images{accel::media::decode_image(image)};
        auto accel_gen = MultimodalGenerator::load(model, mmproj, {.n_threads = threads});
        auto clip_gen = MultimodalGenerator::load(model, mmproj, {.n_threads = threads, .libmtmd_vision = true});
        if (accel_gen.vision_runtime() != "accel")
            throw std::runtime_error(mmproj + ": not a LLaVA projector that accel's graph runs");
        run_steps(accel_gen, prompt, images, true);  // warm-up, not recorded
        run_steps(clip_gen, prompt, images, false);
        std::vector<Figures> a, l, c, ratios;
        for (int r = 0; r < rounds; ++r) {
            a.push_back(run_steps(accel_gen, prompt, images, true));
            fmt::print("{}\n", jsonl("accel", r, a.back()));
            l.push_back(run_steps(clip_gen, prompt, images, false));
            fmt::print("{}\n", jsonl("libmtmd", r, l.back()));
            if (!cli.empty()) {
                c.push_back(run_cli(cli, model, mmproj, image, text, threads));
                fmt::print("{}\n", jsonl("llama-mtmd-cli", r, c.back()));
            }
            ratios.push_back(round_ratios(a.back(), l.back(), cli.empty() ? Figures{} : c.back()));
            fmt::print("{}\n", jsonl("ratio", r, ratios.back()));
            std::fflush(stdout);
        }
        Figures ma, ml, mc;
        summary("accel", a, ma);
        summary("libmtmd (in-process clip.cpp)", l, ml);
        if (!cli.empty()) summary("llama-mtmd-cli", c, mc);
        std::string line = "accel / other, median of the per-round ratios:";
        for (const char* k : {"encode_vs_cli", "prefill_vs_cli", "encode_vs_libmtmd", "encode_cpu_vs_libmtmd"}) {
            std::vector<double> v;
            for (const auto& r : ratios)
                if (r.count(k)) v.push_back(r.at(k));
            if (!v.empty()) line += fmt::format(" {} {:.3f}", k, median(v));
        }
        fmt::print(stderr, "{}\n", line);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mtmd_parity: %s\n", e.what());
        return 1;
    }
    return 0;
}
