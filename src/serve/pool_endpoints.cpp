// /api/ps, /api/load, /api/unload and /api/pin: the pool as Ollama shows and steers it, for the served models only.
#include <time.h>

#include <chrono>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "server_impl.h"

namespace accel::serve {
namespace {

using nlohmann::json;

// A pool time point (steady clock) as RFC 3339 UTC text, as Ollama's expires_at.
std::string rfc3339(pool::Clock::time_point t) {
    const auto wall = std::chrono::system_clock::now() +
                      std::chrono::duration_cast<std::chrono::system_clock::duration>(t - pool::Clock::now());
    const std::time_t secs = std::chrono::system_clock::to_time_t(wall);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec);
}

}  // namespace

std::string Server::Impl::model_id_of(const std::string& path) const {
    for (const auto& m : catalog.models())
        if (m.path.string() == path) return m.id;
    std::error_code ec;
    const auto canonical = std::filesystem::weakly_canonical(path, ec);
    for (const auto& m : catalog.models())
        if (!ec && m.path == canonical) return m.id;
    return std::filesystem::path(path).stem().string();
}

net::HttpResponse Server::Impl::ps() const {
    const pool::PoolStats st = pool.stats();
    json models = json::array();
    for (const auto& e : st.entries) {
        json devices = json::array();
        uint64_t total = 0, vram = 0;
        for (const auto& [device, bytes] : e.bytes) {
            devices.push_back({{"device", device}, {"bytes", bytes}});
            total += bytes;
            if (device != "cpu") vram += bytes;
        }
        const std::string id = model_id_of(e.model);
        const uint32_t n_seq = std::max<uint32_t>(1, e.options.n_seq);
        models.push_back({{"name", id},
                          {"model", id},
                          {"path", e.model},
                          {"kind", e.options.embeddings ? "embedding" : "generation"},
                          {"device", e.device},
                          {"devices", devices},
                          {"size", total},
                          {"size_vram", vram},
                          {"context", e.options.n_ctx},
                          {"context_per_sequence", e.options.n_ctx / n_seq},
                          {"parallel", n_seq},
                          {"state", pool::to_string(e.state)},
                          {"leases", e.leases},
                          {"pinned", e.pinned},
                          {"expires_at", e.expires_at ? json(rfc3339(*e.expires_at)) : json()},
                          {"loads", e.loads},
                          {"hits", e.hits},
                          {"load_ms", std::chrono::duration<double, std::milli>(e.load_time).count()}});
    }
    json devices = json::array();
    for (const auto& d : st.devices) {
        devices.push_back({{"device", d.device}, {"budget_bytes", d.budget_bytes}, {"used_bytes", d.used_bytes},
                           {"free_bytes", d.free_bytes}});
    }
    return json_response(200, json{{"models", models}, {"devices", devices}}.dump());
}

net::HttpResponse Server::Impl::load(const net::HttpRequest& req) {
    const PoolActionRequest r = parse_pool_action(req.body);
    const ServedModel& model = model_of(r.model);  // only models under --models: anything else is 404
    pool::Lease l = lease(model, false, r.keep_alive);
    const json out{{"model", model.id}, {"device", l.device()}, {"loaded", true}, {"hit", l.hit()},
                   {"reasons", l.reasons()}};
    l.release();  // the model's keep-alive starts now
    return json_response(200, out.dump());
}

net::HttpResponse Server::Impl::unload(const net::HttpRequest& req) {
    const PoolActionRequest r = parse_pool_action(req.body);
    const ServedModel& model = model_of(r.model);
    if (pool.unload(model.path)) return json_response(200, json{{"model", model.id}, {"unloaded", true}}.dump());
    for (const auto& e : pool.stats().entries) {
        if (model_id_of(e.model) == model.id && e.leases > 0)
            throw ApiError(409, "model '" + model.id + "' is in use; unload it when its requests are done", "model",
                           "model_busy");
    }
    return json_response(200, json{{"model", model.id}, {"unloaded", false}, {"reason", "not loaded"}}.dump());
}

net::HttpResponse Server::Impl::pin(const net::HttpRequest& req) {
    const PoolActionRequest r = parse_pool_action(req.body);
    const ServedModel& model = model_of(r.model);
    if (!r.pinned) {
        const bool resident = pool.pin(model.path, false);
        return json_response(200, json{{"model", model.id}, {"pinned", false}, {"resident", resident}}.dump());
    }
    // Load it if needed; a pinned model stays until unpinned (or unloaded explicitly).
    pool::Lease l = lease(model, false, std::chrono::milliseconds(-1));
    pool.pin(model.path, true);
    const json out{{"model", model.id}, {"pinned", true}, {"device", l.device()}, {"resident", true}};
    l.release();
    return json_response(200, out.dump());
}

}  // namespace accel::serve
