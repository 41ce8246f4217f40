#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace accel::hw {

// The operating system and what can be seen of the box around it.
struct OsInfo {
    std::string kernel;     // /proc/sys/kernel/osrelease
    std::string distro;     // /etc/os-release PRETTY_NAME; "" when absent
    std::string container;  // "docker", "podman", "kubernetes", "lxc", ...; "" when none can be seen
    std::string container_evidence;  // the file that showed it
    std::string vm;                  // hypervisor or product name; "" when none can be seen
    std::string vm_evidence;
};

// Reads the files under `root`; `cpu_flags` are /proc/cpuinfo's flags (the x86 "hypervisor" flag marks a VM).
// Never throws: what is missing stays empty. Thread-safe.
OsInfo read_os(const std::filesystem::path& root, const std::vector<std::string>& cpu_flags);

}  // namespace accel::hw
