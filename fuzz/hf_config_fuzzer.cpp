// libFuzzer target for the Hugging Face config.json readers: the classifier's (model::evidence_from_config_json)
// and `accel convert`'s (each architecture's hyperparameters, through model::convert_hf on a folder whose only file
// is the input as config.json). Any input must be read, or refused with accel::Error, within the memory limit.
// Seeds: fuzz/corpus/hf_config and the committed fixtures' config.json files (tests/fixtures/hf/*/config.json).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <cstring>

#include "accel/core/error.h"
#include "accel/model/classifier.h"
#include "accel/model/hf_convert.h"

namespace {

// A folder with one tiny, valid model.safetensors: the converter reads the weights' names before each
// architecture reads its hyperparameters, so without it the hyperparameter readers would never see the input.
const std::filesystem::path& folder() {
    static const std::filesystem::path dir = [] {
        auto d = std::filesystem::temp_directory_path() / ("accel-config-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        const std::string header = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
        std::ofstream w(d / "model.safetensors", std::ios::binary);
        const uint64_t n = header.size();
        w.write(reinterpret_cast<const char*>(&n), 8);
        w << header << std::string(4, '\0');
        return d;
    }();
    return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)accel::model::evidence_from_config_json(text, "fuzz/config.json");
    } catch (const accel::Error&) {
    }
    {
        std::ofstream out(folder() / "config.json", std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
    }
    try {
        // Its one tensor fits no architecture: a config that reads is still refused, never crashes.
        (void)accel::model::convert_hf(folder(), folder() / "out.gguf");
    } catch (const accel::Error&) {
    }
    return 0;
}
