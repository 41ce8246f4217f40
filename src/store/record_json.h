// Internal to store/: records to and from accel's JSON (the spool's JSONL lines and `accel db import` of accel
// JSON/JSONL). Every document carries schema_version.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "accel/store/record_batch.h"

namespace accel::store {

// One JSONL line per record: {"schema_version":1,"kind":"run"|"machine"|"build"|"model"|"result"|"failure"|"end",...}
std::string batch_to_jsonl(const RecordBatch& batch);
// The whole batch as one document: {"schema_version":1,"runs":[...],"results":[...],...}
nlohmann::json batch_to_json(const RecordBatch& batch);

// Adds one parsed JSONL line to `batch`. Throws Error{invalid_input} naming `where` (FILE:LINE) and the field.
void add_json_line(const nlohmann::json& line, const std::string& where, RecordBatch& batch);
void add_json_document(const nlohmann::json& doc, const std::string& where, RecordBatch& batch);

}  // namespace accel::store
