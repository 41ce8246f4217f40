#include "accel/hw/os_info.h"

#include <algorithm>
#include <array>
#include <sstream>
#include <string_view>
#include <utility>

#include "text_files.h"

namespace accel::hw {
namespace {

using detail::read_line;
using detail::under;

std::string os_release_value(const std::string& text, std::string_view key) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.size() <= key.size() || line.compare(0, key.size(), key) != 0 || line[key.size()] != '=') continue;
        std::string v = line.substr(key.size() + 1);
        if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
            v = v.substr(1, v.size() - 2);
        }
        return v;
    }
    return {};
}

void detect_container(const std::filesystem::path& root, OsInfo& os) {
    std::error_code ec;
    if (std::filesystem::exists(under(root, "/.dockerenv"), ec)) {
        os.container = "docker";
        os.container_evidence = "/.dockerenv";
        return;
    }
    if (std::filesystem::exists(under(root, "/run/.containerenv"), ec)) {
        os.container = "podman";
        os.container_evidence = "/run/.containerenv";
        return;
    }
    if (auto text = detail::read_text(under(root, "/proc/1/cgroup"))) {
        static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> marks = {
            {{"kubepods", "kubernetes"}, {"docker", "docker"}, {"libpod", "podman"}, {"lxc", "lxc"},
             {"containerd", "containerd"}}};
        for (const auto& [mark, name] : marks) {
            if (text->find(mark) != std::string::npos) {
                os.container = name;
                os.container_evidence = "/proc/1/cgroup";
                return;
            }
        }
    }
}

void detect_vm(const std::filesystem::path& root, const std::vector<std::string>& cpu_flags, OsInfo& os) {
    static constexpr std::array<std::string_view, 9> vm_products = {
        "KVM", "QEMU", "VMware", "VirtualBox", "Virtual Machine", "Google Compute Engine", "HVM domU",
        "Amazon EC2", "Standard PC"};
    const auto product = read_line(under(root, "/sys/class/dmi/id/product_name"));
    const auto vendor = read_line(under(root, "/sys/class/dmi/id/sys_vendor"));
    for (const auto& text : {product, vendor}) {
        if (!text) continue;
        for (auto mark : vm_products) {
            if (text->find(mark) != std::string::npos) {
                os.vm = *text;
                os.vm_evidence = text == product ? "/sys/class/dmi/id/product_name" : "/sys/class/dmi/id/sys_vendor";
                return;
            }
        }
    }
    if (std::find(cpu_flags.begin(), cpu_flags.end(), "hypervisor") != cpu_flags.end()) {
        os.vm = "unknown hypervisor";
        os.vm_evidence = "/proc/cpuinfo flag 'hypervisor'";
        return;
    }
    if (auto hv = read_line(under(root, "/sys/hypervisor/type"))) {
        os.vm = *hv;
        os.vm_evidence = "/sys/hypervisor/type";
    }
}

}  // namespace

OsInfo read_os(const std::filesystem::path& root, const std::vector<std::string>& cpu_flags) {
    OsInfo os;
    os.kernel = read_line(under(root, "/proc/sys/kernel/osrelease")).value_or("");
    for (const char* file : {"/etc/os-release", "/usr/lib/os-release"}) {
        if (auto text = detail::read_text(under(root, file))) {
            os.distro = os_release_value(*text, "PRETTY_NAME");
            break;
        }
    }
    detect_container(root, os);
    detect_vm(root, cpu_flags, os);
    return os;
}

}  // namespace accel::hw
