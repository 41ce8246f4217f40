#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace accel {

// What went wrong, coarse enough that cli/ can map it to an exit code (see docs/cli.md).
enum class ErrorKind : uint8_t { invalid_input, io, out_of_memory, backend, busy, internal };

std::string_view to_string(ErrorKind kind);

// Thrown when the current operation cannot go on. The message names the input and says what to do.
// An expected outcome ("this model does not fit") is a return value, not an Error.
class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

}  // namespace accel
