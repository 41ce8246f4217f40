#pragma once

#include <string>

namespace accel::bench {

// Who answered a remote point (accel bench --target): stored with every remote result so that runs against
// different servers compare in the report.
struct TargetIdentity {
    std::string url;
    std::string served_model;
    std::string server_header;  // the Server header of the /v1/models answer ("" when absent)
    std::string models_json;    // the /v1/models answer as sent
};

}  // namespace accel::bench
