#pragma once
// Test doubles for the ResourcePool: a loader whose sizes, delays and failures are scripted, a device monitor
// with fixed memory, and a clock the test moves by hand.
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "accel/core/error.h"
#include "accel/pool/resource_pool.h"
#include "test_support.h"

namespace accel::test {

class FakeResident : public pool::Resident {
public:
    FakeResident(std::atomic<int>& live, std::string model_name) : live_(live), name(std::move(model_name)) { ++live_; }
    ~FakeResident() override { --live_; }
    std::atomic<bool> alive{true};
    std::atomic<int>& live_;
    std::string name;
};

class FakeLoader : public pool::Loader {
public:
    std::map<std::string, uint64_t> size;  // file name -> bytes (estimate and measured unless overridden)
    std::map<std::string, uint64_t> measured_size;
    std::map<std::string, std::chrono::milliseconds> delay;
    std::set<std::string> fail;     // file names whose load throws Error{invalid_input}
    std::set<std::string> oom_once; // file names whose first load throws Error{out_of_memory}
    std::atomic<int> loads{0};
    std::atomic<int> live{0};
    std::mutex m;
    std::condition_variable cv;
    bool gate_open = true;  // when false, loads block until open_gate()

    void close_gate() {
        std::lock_guard l(m);
        gate_open = false;
    }
    void open_gate() {
        {
            std::lock_guard l(m);
            gate_open = true;
        }
        cv.notify_all();
    }

    pool::DeviceBytes estimate(const pool::LoadSpec& spec) override {
        return {{spec.device, size.at(spec.model.filename().string())}};
    }
    std::unique_ptr<pool::Resident> load(const pool::LoadSpec& spec, pool::DeviceBytes& measured) override {
        const std::string name = spec.model.filename().string();
        ++loads;
        {
            std::unique_lock l(m);
            cv.wait(l, [&] { return gate_open; });
        }
        if (auto it = delay.find(name); it != delay.end()) std::this_thread::sleep_for(it->second);
        if (fail.count(name) > 0) throw Error(ErrorKind::invalid_input, "corrupt model " + name);
        {
            std::lock_guard l(m);
            if (oom_once.erase(name) > 0) throw Error(ErrorKind::out_of_memory, "device out of memory loading " + name);
        }
        auto it = measured_size.find(name);
        measured[spec.device] = it != measured_size.end() ? it->second : size.at(name);
        return std::make_unique<FakeResident>(live, name);
    }
};

class FakeMonitor : public pool::DeviceMonitor {
public:
    std::map<std::string, uint64_t> total;
    std::map<std::string, uint64_t> driver_free;  // absent: equal to total
    uint64_t available = 64ull << 30;
    std::mutex m;

    std::vector<std::string> devices() override {
        std::vector<std::string> out;
        for (const auto& [d, _] : total) out.push_back(d);
        return out;
    }
    uint64_t total_bytes(const std::string& d) override { return total.at(d); }
    uint64_t free_bytes(const std::string& d) override {
        std::lock_guard l(m);
        auto it = driver_free.find(d);
        return it != driver_free.end() ? it->second : total.at(d);
    }
    bool is_gpu(const std::string& d) override { return d.rfind("cuda", 0) == 0; }
    uint64_t system_available_bytes() override { return available; }
};

struct FakeClock {
    std::atomic<int64_t> ms{1'000'000};
    pool::ResourcePool::Now fn() {
        return [this] { return pool::Clock::time_point(std::chrono::milliseconds(ms.load())); };
    }
    void advance(std::chrono::milliseconds d) { ms += d.count(); }
};

// Model files that exist (the pool keys models by path, size and mtime).
struct ModelFiles {
    TempDir dir;
    std::filesystem::path make(const std::string& name) {
        auto p = dir / name;
        write_file(p, name);
        return p;
    }
};

inline constexpr uint64_t MiB = 1ull << 20;

}  // namespace accel::test
