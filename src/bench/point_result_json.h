// Internal to bench/: the JSON form of a measured point, one to_json/from_json pair per type (nlohmann's ADL
// style), so that `nlohmann::json j = r;` and `j.get<PointResult>()` work. The measuring child's output, the stored
// "extra" and `accel bench --json` all go through these; the keys are the stored ones (docs/store.md).
//
// from_json throws nlohmann::json::exception on a missing or mistyped key; point_result_from_json turns that into
// Error{internal}. Keys added after results were first stored are read with a default.
#pragma once

#include <nlohmann/json.hpp>

#include "accel/bench/point_result.h"

namespace accel::bench {

// An optional value as JSON: the value, or null.
template <class T>
nlohmann::json json_or_null(const std::optional<T>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// An optional value from JSON: absent and null both read as nullopt.
template <class T>
std::optional<T> get_opt(const nlohmann::json& j, const char* key) {
    if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
    return j.at(key).template get<T>();
}

void to_json(nlohmann::json& j, const PointSpec& s);
void from_json(const nlohmann::json& j, PointSpec& s);

// Flat keys (samples_ns, samples_ts, samples_tokens, ttft_ns, tpot_ns, noisy, valid, reasons, wall_ns) that a
// PointResult's object holds at its top level; from_json recomputes the summaries from the samples.
void to_json(nlohmann::json& j, const Measurement& m);
void from_json(const nlohmann::json& j, Measurement& m);

// Flat keys at the PointResult's top level: decode_bandwidth_pct, prefill_flops_pct, roofline_basis.
void to_json(nlohmann::json& j, const RooflineEfficiency& r);
// Flat keys at the PointResult's top level: verified (always true here), verify_pass, verify_summary.
void to_json(nlohmann::json& j, const VerifyOutcome& v);

void to_json(nlohmann::json& j, const PeakProbe& p);
void from_json(const nlohmann::json& j, PeakProbe& p);
void to_json(nlohmann::json& j, const ServerStats& s);
void from_json(const nlohmann::json& j, ServerStats& s);
void to_json(nlohmann::json& j, const OfflineStats& s);
void from_json(const nlohmann::json& j, OfflineStats& s);
void to_json(nlohmann::json& j, const AudioStats& a);
void from_json(const nlohmann::json& j, AudioStats& a);
void to_json(nlohmann::json& j, const VisionStats& s);
void from_json(const nlohmann::json& j, VisionStats& s);
void to_json(nlohmann::json& j, const TradeoffsMeasure& m);
void from_json(const nlohmann::json& j, TradeoffsMeasure& m);

void to_json(nlohmann::json& j, const EarlyStopping& e);
void from_json(const nlohmann::json& j, EarlyStopping& e);
// remote_stats.cpp
void to_json(nlohmann::json& j, const RemoteStats& s);
void from_json(const nlohmann::json& j, RemoteStats& s);

void to_json(nlohmann::json& j, const PointResult& r);
void from_json(const nlohmann::json& j, PointResult& r);

}  // namespace accel::bench
