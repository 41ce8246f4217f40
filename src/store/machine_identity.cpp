#include "machine_identity.h"

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/fingerprint.h"
#include "accel/core/log.h"

namespace accel::store {

std::string machine_identity(const MachineRecord& m) {
    const auto fp = fingerprint_from_inventory_json(m.inventory_json);
    return fmt::format("CPU '{}', {} logical cores, {} bytes of memory, accelerators: {}", m.cpu_model,
                       m.n_logical_cores, m.memory_total_bytes, fp ? accelerators_text(fp->accelerators) : "unknown");
}

std::vector<MachineRecord> read_machines(Database& db, const std::string& table, const std::vector<std::string>& ids) {
    std::string where;
    for (const auto& id : ids) where += (where.empty() ? " WHERE id IN (" : ",") + sql_quote(id);
    if (!where.empty()) where += ")";
    const auto q = db.query(fmt::format("SELECT id, coalesce(cpu_model, ''), coalesce(n_logical_cores, 0), "
                                        "coalesce(memory_total_bytes, 0), coalesce(inventory::VARCHAR, '{{}}') "
                                        "FROM {}{} ORDER BY id",
                                        table, where));
    std::vector<MachineRecord> out;
    for (const auto& row : q.rows) {
        out.push_back({.id = row[0].value_or(""), .cpu_model = row[1].value_or(""),
                       .n_logical_cores = std::stoi(row[2].value_or("0")),
                       .memory_total_bytes = std::stoull(row[3].value_or("0")),
                       .inventory_json = row[4].value_or("{}")});
    }
    return out;
}

void check_same_machine(const MachineRecord& stored, const MachineRecord& incoming, const std::string& incoming_from) {
    const std::string a = machine_identity(stored);
    const std::string b = machine_identity(incoming);
    if (a == b) return;
    throw Error(ErrorKind::invalid_input,
                fmt::format("machine {} is stored as {}, but {} describes it as {}: two machines under one id; "
                            "nothing was written",
                            stored.id, a, incoming_from, b));
}

std::string current_machine_id(const MachineRecord& m) {
    const auto fp = fingerprint_from_inventory_json(m.inventory_json);
    return fp ? fingerprint_id(*fp) : m.id;
}

int remap_machine_ids(Database& db, const std::vector<std::string>& ids) {
    int moved = 0;
    for (const auto& m : read_machines(db, "machines", ids)) {
        const std::string id = current_machine_id(m);
        if (id == m.id) continue;
        const auto have = read_machines(db, "machines", {id});
        if (have.empty()) {
            db.exec(fmt::format("INSERT INTO machines SELECT * REPLACE ({} AS id) FROM machines WHERE id = {}",
                                sql_quote(id), sql_quote(m.id)));
        } else {
            check_same_machine(have.front(), m, "machine " + m.id);
        }
        for (const char* table : {"runs", "results", "failures"}) {
            db.exec(fmt::format("UPDATE {} SET machine_id = {} WHERE machine_id = {}", table, sql_quote(id),
                                sql_quote(m.id)));
        }
        db.exec("DELETE FROM machines WHERE id = " + sql_quote(m.id));
        ACCEL_LOG_INFO("machine {} is now {} (its id includes its accelerators)", m.id, id);
        ++moved;
    }
    return moved;
}

}  // namespace accel::store
