#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

// The user's price of one machine-hour (any currency), for the cost per million tokens that accel report and accel
// recommend show next to measured throughput. Only what the user gives: accel has no built-in price list, and with
// no price there is no cost anywhere.
namespace accel::bench {

struct PriceTable {
    std::optional<double> any{};                   // --price-per-hour, or [price] per_hour: every machine and device
    std::map<std::string, double> by_machine{};    // [price.machine] "<fingerprint id or a prefix of 6+>" = P
    std::map<std::string, double> by_device{};     // [price.device] cuda0 = P (lowercase ggml device names)

    bool empty() const { return !any && by_machine.empty() && by_device.empty(); }
    // The price of an hour of `machine_id` running on `device`: the machine's entry (the longest key that is the id
    // or a prefix of it), else the device's, else `any`; nullopt when none applies.
    std::optional<double> per_hour(const std::string& machine_id, const std::string& device) const;
    // Where per_hour's answer comes from: "--price-per-hour", "price.machine.<key>", "price.device.<key>".
    std::string source(const std::string& machine_id, const std::string& device) const;
};

// price_per_hour / (per_second * 3600) * 1e6: the cost of a million units (tokens, texts) at `per_second` units a
// second; nullopt without a price or a positive throughput.
std::optional<double> cost_per_million(std::optional<double> per_second, std::optional<double> price_per_hour);

// Reads [price] from the configuration file (core/paths.h config_file(); a missing file is an empty table):
//   [price]
//   per_hour = 2.5                  # every machine
//   [price.machine]
//   "3f9a0c1d2e4b5a69" = 4.0        # a machine fingerprint (accel detect), or a prefix of at least 6 characters
//   [price.device]
//   cuda0 = 1.2
// Throws Error{invalid_input} naming the file, line and key for a price that is not a positive number, a machine
// key shorter than 6 characters, or a malformed file.
PriceTable load_price_table(const std::filesystem::path& config_file);

// --price-per-hour given: that price for everything (the flag replaces the file); else the file's table.
PriceTable resolve_prices(std::optional<double> flag, const std::filesystem::path& config_file);

}  // namespace accel::bench
