// Detect the hardware, acquire a model from accel's ResourcePool, generate a few tokens.
// Usage: embed-a-pool MODEL.gguf [PROMPT]
#include <cstdio>
#include <exception>
#include <string_view>

#include "accel/engine/generator.h"
#include "accel/hw/inventory.h"
#include "accel/pool/engine_loader.h"
#include "accel/pool/resource_pool.h"

int main(int argc, char** argv) try {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s MODEL.gguf [PROMPT]\n", argv[0]);
        return 2;
    }
    using namespace accel;
    const hw::Inventory inventory = hw::detect();
    pool::EngineLoader loader(inventory.devices);
    pool::SystemMonitor monitor(inventory.devices);
    pool::ResourcePool pool({}, loader, monitor);
    pool::Request request{.model = argv[1], .options = {.n_ctx = 256}};
    for (const hw::Device& d : inventory.devices) {
        if (d.usable) request.devices.push_back(d.id);  // ggml's order: GPUs first, the CPU last
    }
    pool::Lease lease = pool.acquire(request);
    const pool::SessionGuard session = lease.session();  // the model's session, its lock held
    std::printf("[%s] ", lease.device().c_str());
    engine::generate(*session, argc > 2 ? argv[2] : "Once upon a time", {.n_predict = 16},
                     [](std::string_view piece) {
                         return std::fwrite(piece.data(), 1, piece.size(), stdout) == piece.size();
                     });
    std::printf("\n");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "embed-a-pool: %s\n", e.what());
    return 1;
}
