#include "accel/core/error.h"

namespace accel {

std::string_view to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::invalid_input: return "invalid_input";
        case ErrorKind::io: return "io";
        case ErrorKind::out_of_memory: return "out_of_memory";
        case ErrorKind::backend: return "backend";
        case ErrorKind::busy: return "busy";
        case ErrorKind::internal: return "internal";
    }
    return "internal";
}

}  // namespace accel
