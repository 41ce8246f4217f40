// Internal to store/: what makes two machine rows the same machine, and moving rows to their current id.
#pragma once

#include <string>
#include <vector>

#include "accel/store/database.h"
#include "accel/store/records.h"

namespace accel::store {

// One line naming what identifies a machine row: CPU model, logical cores, total memory and the accelerators of
// its stored inventory ("unknown" when it has none, as for an imported llama-bench machine). Free memory, drivers
// and runtimes are not part of it.
std::string machine_identity(const MachineRecord& m);

// The machine rows with these ids (all of them when `ids` is empty): id, cpu_model, n_logical_cores,
// memory_total_bytes and inventory_json filled. `table` may be another database's ("src.machines") or a
// read_parquet(...) expression.
std::vector<MachineRecord> read_machines(Database& db, const std::string& table, const std::vector<std::string>& ids);

// Throws Error{invalid_input} naming both descriptions when `stored` and `incoming` share an id but describe
// different machines. `incoming_from` says where the second came from ("the records being written", a file).
void check_same_machine(const MachineRecord& stored, const MachineRecord& incoming, const std::string& incoming_from);

// The id a machine row should have: core's fingerprint_id of its stored inventory, or its own id when the
// inventory is not one accel wrote.
std::string current_machine_id(const MachineRecord& m);

// Moves each machine row (those with these ids; all when empty) whose id is not current_machine_id() to that id,
// with the runs, results and failures that name it. A row whose new id is already stored is merged into it after
// check_same_machine. Returns the number of rows moved. Call inside a transaction.
int remap_machine_ids(Database& db, const std::vector<std::string>& ids = {});

}  // namespace accel::store
