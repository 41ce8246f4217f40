#include "accel/core/fingerprint.h"

#include <algorithm>
#include <tuple>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/sha256.h"

namespace accel {
namespace {

std::vector<AcceleratorIdentity> sorted(std::vector<AcceleratorIdentity> v) {
    std::sort(v.begin(), v.end(), [](const AcceleratorIdentity& x, const AcceleratorIdentity& y) {
        return std::tie(x.model, x.memory_total_mib, x.compute_capability) <
               std::tie(y.model, y.memory_total_mib, y.compute_capability);
    });
    return v;
}

}  // namespace

std::vector<AcceleratorIdentity> accelerators_of(const std::vector<DeviceFacts>& devices) {
    std::vector<AcceleratorIdentity> out;
    std::vector<std::string> buses;  // the PCI bus id of out[i], "" when unknown
    for (const auto& d : devices) {
        if (d.type == "cpu") continue;
        if (!d.backend.empty() && d.type != "gpu" && d.type != "igpu") continue;
        AcceleratorIdentity a{.model = d.backend.empty() ? d.name : d.description,
                              .memory_total_mib = d.vendor_memory_total_bytes.value_or(d.memory_total_bytes) >> 20,
                              .compute_capability = d.compute_capability};
        if (!d.pci_bus_id.empty()) {
            const auto same = std::find(buses.begin(), buses.end(), d.pci_bus_id);
            if (same != buses.end()) {
                auto& first = out[static_cast<size_t>(same - buses.begin())];
                if (first.compute_capability.empty()) first.compute_capability = a.compute_capability;
                continue;
            }
        }
        out.push_back(std::move(a));
        buses.push_back(d.pci_bus_id);
    }
    return sorted(std::move(out));
}

std::string fingerprint_id(const MachineFingerprint& fp) {
    std::string text = fmt::format("accel-machine-v2\n{}\n{}\n{}", fp.cpu_model, fp.n_logical_cores,
                                   fp.memory_total_bytes);
    for (const auto& a : sorted(fp.accelerators)) text += fmt::format("\n{}|{}|{}", a.model, a.memory_total_mib, a.compute_capability);
    return sha256_hex(text).substr(0, 16);
}

std::string fingerprint_id_v1(const MachineFingerprint& fp) {
    std::vector<std::string> devices = fp.device_names;
    std::sort(devices.begin(), devices.end());
    std::string text = fp.cpu_model + "\n" + std::to_string(fp.n_logical_cores) + "\n" +
                       std::to_string(fp.memory_total_bytes);
    for (const auto& d : devices) text += "\n" + d;
    return sha256_hex(text).substr(0, 16);
}

std::optional<MachineFingerprint> fingerprint_from_inventory_json(std::string_view inventory_json) {
    using nlohmann::json;
    const json j = json::parse(inventory_json, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    const json* cpu = j.contains("cpu") ? &j["cpu"] : nullptr;
    const json* mem = j.contains("memory") ? &j["memory"] : nullptr;
    if (cpu == nullptr || mem == nullptr || !cpu->is_object() || !mem->is_object()) return std::nullopt;
    if (!cpu->contains("model") || !cpu->contains("logical_cores") || !mem->contains("total_bytes")) return std::nullopt;
    const auto text = [](const json& o, const char* k) {
        return o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string();
    };
    try {
        MachineFingerprint fp{.cpu_model = cpu->at("model").get<std::string>(),
                              .n_logical_cores = cpu->at("logical_cores").get<int32_t>(),
                              .memory_total_bytes = mem->at("total_bytes").get<uint64_t>()};
        std::vector<DeviceFacts> facts;
        for (const json& d : j.value("devices", json::array())) {
            DeviceFacts f{.type = text(d, "type"), .backend = text(d, "backend"), .name = text(d, "name"),
                          .description = text(d, "description"), .pci_bus_id = text(d, "pci_bus_id"),
                          .memory_total_bytes = d.value("memory_total_bytes", uint64_t{0})};
            if (d.contains("vendor") && d["vendor"].is_object()) {
                const json& v = d["vendor"];
                f.compute_capability = text(v, "compute_capability");
                if (v.contains("memory_total_bytes") && v["memory_total_bytes"].is_number_unsigned()) {
                    f.vendor_memory_total_bytes = v["memory_total_bytes"].get<uint64_t>();
                }
            }
            fp.device_names.push_back(f.name);
            facts.push_back(std::move(f));
        }
        fp.accelerators = accelerators_of(facts);
        return fp;
    } catch (const json::exception&) {
        return std::nullopt;
    }
}

std::string accelerators_text(const std::vector<AcceleratorIdentity>& accelerators) {
    if (accelerators.empty()) return "none";
    std::string out;
    for (const auto& a : accelerators) {
        if (!out.empty()) out += "; ";
        out += fmt::format("{} ({} MiB{})", a.model, a.memory_total_mib,
                           a.compute_capability.empty() ? "" : ", cc " + a.compute_capability);
    }
    return out;
}

}  // namespace accel
