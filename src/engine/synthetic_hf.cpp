#include "synthetic_hf.h"

#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "deterministic_rng.h"

namespace accel::engine::detail {

namespace fs = std::filesystem;
using nlohmann::json;

void write_text(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
    if (!out) throw Error(ErrorKind::io, fmt::format("{}: cannot write", p.string()));
}

void write_hf_safetensors(const fs::path& p, const std::vector<HfTensor>& ts, uint64_t seed) {
    json header = json::object();
    uint64_t at = 0;
    for (const auto& t : ts) {
        header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {at, at + 4 * t.n()}}};
        at += 4 * t.n();
    }
    std::string h = header.dump();
    h.append((8 - h.size() % 8) % 8, ' ');
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(p.c_str(), "wb"), std::fclose);
    if (!f) throw Error(ErrorKind::io, fmt::format("{}: cannot create", p.string()));
    const uint64_t n = h.size();
    bool ok = std::fwrite(&n, 8, 1, f.get()) == 1 && std::fwrite(h.data(), 1, h.size(), f.get()) == h.size();
    std::vector<float> v;
    for (const auto& t : ts) {
        Rng rng{seed ^ fnv1a(t.name.c_str())};
        v.assign(t.n(), 0.0f);
        for (float& x : v) {
            switch (t.fill) {
                case HfTensor::Fill::random: x = static_cast<float>(0.02 * rng.normal()); break;
                case HfTensor::Fill::ones: x = 1.0f; break;
                case HfTensor::Fill::zeros: break;
                case HfTensor::Fill::positive: x = static_cast<float>(0.5 + rng.uniform()); break;
            }
        }
        ok = ok && std::fwrite(v.data(), 4, v.size(), f.get()) == v.size();
    }
    if (!ok || std::fflush(f.get()) != 0) throw Error(ErrorKind::io, fmt::format("{}: write failed (disk full?)", p.string()));
}

}  // namespace accel::engine::detail
