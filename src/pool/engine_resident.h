#pragma once
// Private to the pool: callers reach a resident engine model only through Lease::session().

#include <mutex>
#include <optional>

#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"
#include "accel/pool/placement.h"
#include "accel/pool/pool_types.h"

namespace accel::pool {

// What the pool keeps for a llama.cpp model: the model, its placement, and one context sized by the request's
// options. A llama context serves one caller at a time: a SessionGuard holds `use` while its caller drives it.
class EngineResident : public Resident {
public:
    engine::LoadedModel model;
    std::optional<engine::Session> session;
    Placement placement;
    int32_t default_threads = 0;  // the session's threads when opened: what a lease with n_threads 0 gets
    std::mutex use;
    uint64_t last_guard = 0;  // the serial of the last SessionGuard taken on this session (under `use`)
};

}  // namespace accel::pool
