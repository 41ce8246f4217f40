#include "accel/hw/device.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <fmt/core.h>
#include <ggml-backend.h>

#include "accel/core/error.h"
#include "accel/core/text.h"

namespace accel::hw {
namespace {

DeviceType from_ggml(enum ggml_backend_dev_type t) {
    switch (t) {
        case GGML_BACKEND_DEVICE_TYPE_CPU: return DeviceType::cpu;
        case GGML_BACKEND_DEVICE_TYPE_GPU: return DeviceType::gpu;
        case GGML_BACKEND_DEVICE_TYPE_IGPU: return DeviceType::igpu;
        case GGML_BACKEND_DEVICE_TYPE_ACCEL: return DeviceType::accel;
        case GGML_BACKEND_DEVICE_TYPE_META: return DeviceType::meta;
    }
    return DeviceType::other;
}

}  // namespace

std::string_view to_string(DeviceType type) {
    switch (type) {
        case DeviceType::cpu: return "cpu";
        case DeviceType::gpu: return "gpu";
        case DeviceType::igpu: return "igpu";
        case DeviceType::accel: return "accel";
        case DeviceType::meta: return "meta";
        case DeviceType::other: return "other";
    }
    return "other";
}

std::string parse_device_id(std::string_view text) {
    if (text.empty()) {
        throw Error(ErrorKind::invalid_input, "empty device name (use cpu, cuda0, ...; see accel detect)");
    }
    if (text.find_first_of(" \t\r\n,'\"") != std::string_view::npos) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("device name '{}' has a blank, comma or quote (use cpu, cuda0, ...; see accel detect)",
                                text));
    }
    return lower(text);
}

std::vector<Device> ggml_devices() {
    std::vector<Device> devices;
    const size_t n = ggml_backend_dev_count();
    devices.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        ggml_backend_dev_props props{};
        ggml_backend_dev_get_props(dev, &props);
        Device d;
        d.name = props.name != nullptr ? props.name : "";
        d.id = lower(d.name);
        d.description = props.description != nullptr ? props.description : "";
        d.type = from_ggml(props.type);
        ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
        d.backend = reg != nullptr ? ggml_backend_reg_name(reg) : "";
        d.memory_total_bytes = props.memory_total;
        d.memory_free_bytes = props.memory_free;
        d.pci_bus_id = props.device_id != nullptr ? lower(props.device_id) : "";
        d.usable = true;
        d.reason = fmt::format("compiled ggml backend {}", d.backend);
        devices.push_back(std::move(d));
    }
    return devices;
}

std::vector<std::string> ggml_backend_features(const std::string& backend) {
    std::vector<std::string> out;
    ggml_backend_dev_count();  // registers the compiled backends
    ggml_backend_reg_t reg = ggml_backend_reg_by_name(backend.c_str());
    if (reg == nullptr) return out;
    auto get = reinterpret_cast<ggml_backend_get_features_t>(ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features"));
    if (get == nullptr) return out;
    for (const ggml_backend_feature* f = get(reg); f != nullptr && f->name != nullptr; ++f) {
        out.push_back(fmt::format("{}={}", f->name, f->value != nullptr ? f->value : ""));
    }
    return out;
}

std::string ggml_backend_library(const std::string& backend) {
    ggml_backend_dev_count();
    ggml_backend_reg_t reg = ggml_backend_reg_by_name(backend.c_str());
    if (reg == nullptr) return {};
    // Any function the backend hands out lives in the library that was loaded for it.
    void* fn = ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features");
    if (fn == nullptr) return {};
    Dl_info info{};
    if (dladdr(fn, &info) == 0 || info.dli_fname == nullptr) return {};
    return std::filesystem::path(info.dli_fname).filename().string();
}

std::vector<std::string> apply_allow_list(std::vector<Device>& devices, std::string_view allow_list) {
    std::vector<std::string> wanted;
    while (!allow_list.empty()) {
        const size_t comma = allow_list.find(',');
        std::string id = lower(allow_list.substr(0, comma));
        id.erase(std::remove_if(id.begin(), id.end(), [](unsigned char c) { return std::isspace(c) != 0; }), id.end());
        if (!id.empty()) wanted.push_back(id);
        if (comma == std::string_view::npos) break;
        allow_list.remove_prefix(comma + 1);
    }
    std::vector<std::string> unknown;
    if (wanted.empty()) return unknown;
    for (const auto& w : wanted) {
        if (std::none_of(devices.begin(), devices.end(), [&](const Device& d) { return d.id == w; })) {
            unknown.push_back(w);
        }
    }
    for (auto& d : devices) {
        if (std::find(wanted.begin(), wanted.end(), d.id) != wanted.end()) continue;
        if (d.usable) {
            d.usable = false;
            d.reason = "not in ACCEL_DEVICES";
        }
    }
    return unknown;
}

}  // namespace accel::hw
