#include "accel/pool/session_guard.h"

#include <atomic>
#include <utility>

#include "accel/core/error.h"
#include "accel/pool/resource_pool.h"
#include "engine_resident.h"

namespace accel::pool {

SessionGuard::SessionGuard(EngineResident& resident, int32_t n_threads) : resident_(&resident), lock_(resident.use) {
    static std::atomic<uint64_t> next_serial{0};
    serial_ = ++next_serial;
    previous_ = std::exchange(resident.last_guard, serial_);
    const int32_t want = n_threads > 0 ? n_threads : resident.default_threads;
    if (resident.session->n_threads() != want) resident.session->set_threads(want);
}

engine::Session& SessionGuard::session() const { return *resident_->session; }

const engine::LoadedModel& SessionGuard::model() const { return resident_->model; }

const Placement& SessionGuard::placement() const { return resident_->placement; }

const engine::LoadedModel& Lease::model() const {
    auto* engine_resident = dynamic_cast<EngineResident*>(resident_);
    if (engine_resident == nullptr) {
        throw Error(ErrorKind::internal, resident_ == nullptr ? "model() on an empty lease"
                                                              : "this lease's model was not loaded by an EngineLoader");
    }
    return engine_resident->model;
}

SessionGuard Lease::session() const {
    auto* engine_resident = dynamic_cast<EngineResident*>(resident_);
    if (engine_resident == nullptr || !engine_resident->session) {
        throw Error(ErrorKind::internal, resident_ == nullptr ? "session() on an empty lease"
                                                              : "this lease's model was not loaded by an EngineLoader");
    }
    return SessionGuard(*engine_resident, n_threads_);
}

}  // namespace accel::pool
