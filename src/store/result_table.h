// Internal to store/: the results row the writer appends, derived from the column table (result_columns.h).
#pragma once

#include "accel/store/records.h"
#include "appender.h"

namespace accel::store {

// Appends one results row (every column, in table order) and ends it. created_at 0 is written as now.
void append_result(Appender& a, const ResultRecord& r);

}  // namespace accel::store
