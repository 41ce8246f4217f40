#include "accel/hw/inventory.h"

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "accel/core/log.h"
#include "accel/core/version.h"
#include "accel/hw/backend_registry.h"
#include "json_util.h"

namespace accel::hw {

Inventory detect(const DetectOptions& options) {
    Inventory inv;
    inv.cpu = read_cpu(options.root);
    inv.memory = read_memory(options.root);
    inv.os = read_os(options.root, inv.cpu.flags);
    if (options.devices) {
        inv.compiled_backends = compiled_backends();
        inv.ggml_cpu.library = ggml_backend_library("CPU");
        inv.ggml_cpu.features = ggml_backend_features("CPU");
        inv.devices = ggml_devices();
        for (auto& d : inv.devices) {
            // ggml reports the host's physical memory as both total and free for the CPU; what a model can use
            // is MemAvailable, and inside a container the cgroup limit.
            if (d.type != DeviceType::cpu) continue;
            d.memory_total_bytes = std::min<uint64_t>(d.memory_total_bytes, inv.memory.effective_total_bytes());
            d.memory_free_bytes = std::min<uint64_t>(d.memory_free_bytes, inv.memory.effective_available_bytes());
        }
        inv.probes = run_vendor_probes();
        merge_probed(inv.devices, inv.probes, inv.compiled_backends);
        for (auto& p : inv.probes) p.devices.clear();
    }
    if (options.allow_list) {
        inv.allow_list = *options.allow_list;
    } else if (const char* env = std::getenv("ACCEL_DEVICES"); env != nullptr) {
        inv.allow_list = env;
    }
    inv.unknown_allowed = apply_allow_list(inv.devices, inv.allow_list);
    for (const auto& id : inv.unknown_allowed) {
        ACCEL_LOG_WARN("ACCEL_DEVICES names '{}', which is not a device of this machine; ignored", id);
    }
    if (options.browsers) inv.browsers = find_browsers(options.browser_timeout);
    return inv;
}

MachineFingerprint machine_fingerprint(const Inventory& inventory) {
    MachineFingerprint fp;
    fp.cpu_model = inventory.cpu.model;
    fp.n_logical_cores = inventory.cpu.logical_cores;
    fp.memory_total_bytes = inventory.memory.total_bytes;
    std::vector<DeviceFacts> facts;
    for (const auto& d : inventory.devices) {
        fp.device_names.push_back(d.name);
        DeviceFacts f{.type = std::string(to_string(d.type)), .backend = d.backend, .name = d.name,
                      .description = d.description, .pci_bus_id = d.pci_bus_id,
                      .memory_total_bytes = d.memory_total_bytes};
        if (d.vendor) {
            f.vendor_memory_total_bytes = d.vendor->memory_total_bytes;
            f.compute_capability = d.vendor->compute_capability;
        }
        facts.push_back(std::move(f));
    }
    fp.accelerators = accelerators_of(facts);
    return fp;
}

namespace {

using nlohmann::json;
using detail::opt;

json cpu_json(const Inventory& inv) {
    const CpuInfo& c = inv.cpu;
    return {{"arch", c.arch},
            {"vendor", c.vendor},
            {"model", c.model},
            {"sockets", c.sockets},
            {"physical_cores", c.physical_cores},
            {"logical_cores", c.logical_cores},
            {"smt", c.smt},
            {"base_mhz", opt(c.base_mhz)},
            {"max_mhz", opt(c.max_mhz)},
            {"caches",
             {{"l1d_bytes", opt(c.caches.l1d_bytes)},
              {"l1i_bytes", opt(c.caches.l1i_bytes)},
              {"l2_bytes", opt(c.caches.l2_bytes)},
              {"l3_bytes", opt(c.caches.l3_bytes)}}},
            {"numa_nodes", opt(c.numa_nodes)},
            {"features", c.features},
            {"affinity", c.affinity},
            {"quota_cores", opt(c.quota_cores)},
            {"quota_source", c.quota_source.empty() ? json(nullptr) : json(c.quota_source)},
            {"effective_cores", c.effective_cores()},
            {"ggml", {{"library", inv.ggml_cpu.library}, {"features", inv.ggml_cpu.features}}}};
}

json memory_json(const MemoryInfo& m) {
    return {{"total_bytes", m.total_bytes},
            {"available_bytes", m.available_bytes},
            {"swap_total_bytes", m.swap_total_bytes},
            {"swap_free_bytes", m.swap_free_bytes},
            {"limit_bytes", opt(m.limit_bytes)},
            {"limit_source", m.limit_source.empty() ? json(nullptr) : json(m.limit_source)},
            {"effective_total_bytes", m.effective_total_bytes()},
            {"effective_available_bytes", m.effective_available_bytes()}};
}

json os_json(const OsInfo& o) {
    const auto s = [](const std::string& v) { return v.empty() ? json(nullptr) : json(v); };
    return {{"kernel", o.kernel},
            {"distro", s(o.distro)},
            {"container", s(o.container)},
            {"container_evidence", s(o.container_evidence)},
            {"vm", s(o.vm)},
            {"vm_evidence", s(o.vm_evidence)}};
}

json device_json(const Device& d) {
    json v = nullptr;
    if (d.vendor) {
        const auto s = [](const std::string& x) { return x.empty() ? json(nullptr) : json(x); };
        v = {{"probe", d.vendor->probe},
             {"driver_version", s(d.vendor->driver_version)},
             {"runtime_version", s(d.vendor->runtime_version)},
             {"compute_capability", s(d.vendor->compute_capability)},
             {"memory_total_bytes", opt(d.vendor->memory_total_bytes)},
             {"power_limit_w", opt(d.vendor->power_limit_w)},
             {"pcie_gen", opt(d.vendor->pcie_gen)},
             {"pcie_width", opt(d.vendor->pcie_width)}};
    }
    return {{"id", d.id},
            {"name", d.name},
            {"description", d.description},
            {"type", std::string(to_string(d.type))},
            {"backend", d.backend.empty() ? json(nullptr) : json(d.backend)},
            {"memory_total_bytes", d.memory_total_bytes},
            {"memory_free_bytes", d.memory_free_bytes},
            {"pci_bus_id", d.pci_bus_id.empty() ? json(nullptr) : json(d.pci_bus_id)},
            {"usable", d.usable},
            {"reason", d.reason},
            {"vendor", v}};
}

}  // namespace

std::string inventory_json(const Inventory& inv) {
    json devices = json::array();
    for (const auto& d : inv.devices) devices.push_back(device_json(d));
    json probes = json::array();
    for (const auto& p : inv.probes) {
        probes.push_back({{"probe", p.probe}, {"library", p.library}, {"loaded", p.loaded}, {"note", p.note}});
    }
    json browsers = nullptr;
    if (inv.browsers) {
        browsers = json::array();
        for (const auto& b : *inv.browsers) {
            browsers.push_back({{"name", b.name},
                                {"path", b.path},
                                {"version", b.version.empty() ? json(nullptr) : json(b.version)},
                                {"error", b.error.empty() ? json(nullptr) : json(b.error)}});
        }
    }
    json doc = {{"schema_version", json_schema_version},
                {"fingerprint", fingerprint_id(machine_fingerprint(inv))},
                {"cpu", cpu_json(inv)},
                {"memory", memory_json(inv.memory)},
                {"os", os_json(inv.os)},
                {"compiled_backends", inv.compiled_backends},
                {"devices", devices},
                {"accel_devices", inv.allow_list.empty() ? json(nullptr) : json(inv.allow_list)},
                {"probes", probes},
                {"browsers", browsers}};
    return doc.dump();
}

}  // namespace accel::hw
