#pragma once

#include <cstdint>
#include <mutex>

#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"
#include "accel/pool/placement.h"

namespace accel::pool {

class EngineResident;  // src/pool: what the EngineLoader keeps (model, session, placement, the session's lock)

// Exclusive use of a leased engine model's session, from Lease::session(). While it lives it holds the session's
// lock, and it has set the session's threads to the lease's (Request::n_threads), so a reused session never keeps
// another caller's count. Move-only; must not outlive its lease; not to be shared between threads.
class SessionGuard {
public:
    SessionGuard(SessionGuard&&) noexcept = default;
    SessionGuard& operator=(SessionGuard&&) noexcept = default;
    SessionGuard(const SessionGuard&) = delete;
    SessionGuard& operator=(const SessionGuard&) = delete;
    ~SessionGuard() = default;

    engine::Session& session() const;
    engine::Session& operator*() const { return session(); }
    engine::Session* operator->() const { return &session(); }
    const engine::LoadedModel& model() const;
    const Placement& placement() const;  // where the pool placed the model, and why
    // Every guard has a serial unique in the process. untouched_since(s): no other guard was taken on this session
    // since the guard with serial s was released, so the session's memory (KV cache) is as that guard left it.
    uint64_t serial() const { return serial_; }
    bool untouched_since(uint64_t serial) const { return serial != 0 && previous_ == serial; }

private:
    friend class Lease;
    SessionGuard(EngineResident& resident, int32_t n_threads);
    EngineResident* resident_;
    std::unique_lock<std::mutex> lock_;
    uint64_t serial_ = 0;
    uint64_t previous_ = 0;
};

}  // namespace accel::pool
