#include "accel/bench/price_table.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <toml++/toml.h>

#include "accel/core/error.h"

namespace accel::bench {
namespace {

const std::pair<const std::string, double>* machine_entry(const PriceTable& t, const std::string& machine_id) {
    const std::pair<const std::string, double>* best = nullptr;
    for (const auto& e : t.by_machine) {
        if (machine_id.rfind(e.first, 0) != 0) continue;
        if (!best || e.first.size() > best->first.size()) best = &e;
    }
    return best;
}

std::string where(const std::filesystem::path& file, const toml::node& node, const std::string& key) {
    return file.string() + ":" + std::to_string(node.source().begin.line) + ": " + key;
}

double price_or_throw(const std::filesystem::path& file, const toml::node& node, const std::string& key) {
    const auto v = node.value<double>();
    if (!v || !std::isfinite(*v) || *v <= 0) {
        throw Error(ErrorKind::invalid_input,
                    where(file, node, key) + ": a price per machine-hour must be a positive number");
    }
    return *v;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

std::optional<double> PriceTable::per_hour(const std::string& machine_id, const std::string& device) const {
    if (const auto* m = machine_entry(*this, machine_id)) return m->second;
    if (const auto d = by_device.find(lower(device)); d != by_device.end()) return d->second;
    return any;
}

std::string PriceTable::source(const std::string& machine_id, const std::string& device) const {
    if (const auto* m = machine_entry(*this, machine_id)) return "price.machine." + m->first;
    if (const auto d = by_device.find(lower(device)); d != by_device.end()) return "price.device." + d->first;
    return any ? "price.per_hour" : "";
}

std::optional<double> cost_per_million(std::optional<double> per_second, std::optional<double> price_per_hour) {
    if (!price_per_hour || !per_second || *per_second <= 0) return std::nullopt;
    return *price_per_hour / (*per_second * 3600) * 1e6;
}

PriceTable load_price_table(const std::filesystem::path& file) {
    PriceTable t;
    std::error_code ec;
    if (file.empty() || !std::filesystem::exists(file, ec)) return t;
    toml::table root;
    try {
        root = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
        throw Error(ErrorKind::invalid_input, file.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                                                  std::string(e.description()));
    }
    const toml::table* price = root["price"].as_table();
    if (!price) return t;
    if (const toml::node* n = price->get("per_hour")) t.any = price_or_throw(file, *n, "price.per_hour");
    if (const toml::table* m = (*price)["machine"].as_table()) {
        for (const auto& [key, node] : *m) {
            const std::string k(key.str()), name = "price.machine." + k;
            if (k.size() < 6) {
                throw Error(ErrorKind::invalid_input,
                            where(file, node, name) + ": a machine key is its fingerprint id, or a prefix of at least "
                                                      "6 characters (accel detect prints it)");
            }
            t.by_machine[k] = price_or_throw(file, node, name);
        }
    }
    if (const toml::table* d = (*price)["device"].as_table()) {
        for (const auto& [key, node] : *d) {
            const std::string k(key.str());
            t.by_device[lower(k)] = price_or_throw(file, node, "price.device." + k);
        }
    }
    return t;
}

PriceTable resolve_prices(std::optional<double> flag, const std::filesystem::path& config_file) {
    if (flag) return {.any = flag};
    return load_price_table(config_file);
}

}  // namespace accel::bench
