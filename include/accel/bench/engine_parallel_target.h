#pragma once

#include "accel/engine/session_parallel_target.h"

namespace accel::bench {

// The engine's target for --parallel (engine/session_parallel_target.h), which accel serve decodes through too.
using EngineParallelTarget = engine::SessionParallelTarget;

}  // namespace accel::bench
