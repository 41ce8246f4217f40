#include <gtest/gtest.h>

#include "accel/store/database.h"
#include "store_helpers.h"
#include "test_support.h"

namespace {

TEST(CrashLoop, FiftyKillsLoseNothingReported) {
    accel::test::TempDir dir;
    for (unsigned i = 0; i < 50; ++i) {
        SCOPED_TRACE(i);
        accel::store::test::crash_once(dir / "crash.duckdb", 7000 + i);
        if (HasFailure()) return;
    }
}

}  // namespace
