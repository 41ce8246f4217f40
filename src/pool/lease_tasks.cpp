#include "accel/pool/lease_tasks.h"

#include "accel/engine/chat.h"
#include "accel/pool/session_guard.h"

namespace accel::pool {

GenerateOutcome generate(const Lease& lease, const GenerateRequest& request, const engine::TextSink& sink) {
    const SessionGuard guard = lease.session();
    const std::string prompt = request.chat ? engine::apply_chat_template(guard.model(), request.prompt)
                                            : request.prompt;
    engine::GenerateParams params = request.params;
    params.parse_special = request.chat;
    return {.stats = engine::generate(guard.session(), prompt, params, sink), .load_time = guard.model().load_time()};
}

std::vector<std::vector<float>> embed(const Lease& lease, const std::vector<std::string>& texts,
                                      const engine::EmbedParams& params) {
    const SessionGuard guard = lease.session();
    return engine::embed(guard.session(), texts, params);
}

Placement placement_of(const Lease& lease) { return lease.session().placement(); }

}  // namespace accel::pool
