#pragma once

#include <filesystem>
#include <string>

#include "accel/store/database.h"
#include "accel/store/record_batch.h"

namespace accel::store {

// A file from another tool (or accel), parsed into records. format is one of: llama-bench-json,
// llama-bench-jsonl, llama-bench-csv, llama-bench-sql, optimum-benchmark, accel-json, accel-jsonl.
struct ParsedImport {
    std::string format{};
    RecordBatch batch{};
};

// Detects the format from the extension and the content. Ids of imported rows are name-based UUIDs over the file's
// content and the row, so importing the same file twice stores it once. Throws Error{invalid_input} naming
// FILE:LINE and the field for malformed input, Error{io} when the file cannot be read.
ParsedImport parse_import(const std::filesystem::path& file);

struct ImportReport {
    std::string format{};
    WriteCounts counts{};
};

// Parses the whole file first, then writes it in one transaction: a malformed file stores nothing.
ImportReport import_file(Database& db, const std::filesystem::path& file);

}  // namespace accel::store
