// accel infer on a vision-language model (LLaVA-1.5, LLaVA-Next): a text model with --mmproj streams the answer to
// --prompt about the --image files, through engine::MultimodalGenerator (a LLaVA projector's images on accel's graph,
// transformers' preprocessing; other projectors on libmtmd: docs/llava.md).
#include <chrono>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/version.h"
#include "accel/engine/multimodal_generator.h"
#include "accel/media/image.h"
#include "commands.h"
#include "infer.h"
#include "output.h"

namespace accel::cli {

int infer_llava(const InferOptions& o) {
    if (o.images.empty()) throw Error(ErrorKind::invalid_input, fmt::format("{}: a vision-language model needs --image", o.model));
    std::vector<media::Image> images;
    for (const auto& f : o.images) images.push_back(media::decode_image(f));
    const std::string text = o.prompt.empty() ? "Describe the image." : o.prompt;
    auto gen = engine::MultimodalGenerator::load(o.model, o.mmproj, {.device = o.device, .n_threads = o.threads});
    const auto prompt = gen.prepare(engine::MultimodalGenerator::llava_prompt(text, images.size()), images);
    gen.encode_images();
    gen.prefill();
    std::string answer;
    int32_t n_gen = 0;
    for (; n_gen < o.n_predict; ++n_gen) {
        const auto piece = gen.next();
        if (!piece) break;
        answer += *piece;
        if (!o.json) {
            fmt::print("{}", *piece);
            std::fflush(stdout);
        }
    }
    if (o.json) {
        const nlohmann::json doc = {{"schema_version", json_schema_version},
                    {"model", o.model},
                    {"mmproj", o.mmproj},
                    {"task", "image_text_to_text"},
                    {"images", o.images},
                    {"prompt", text},
                    {"n_image_tokens", prompt.n_image_tokens},
                    {"vision", gen.vision_runtime()},
                    {"n_text_tokens", prompt.n_text_tokens},
                    {"n_generated", n_gen},
                    {"answer", answer}};
        // a random or cut-short model can end on part of a UTF-8 sequence: U+FFFD stands in for it
        fmt::print("{}\n", doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
        fmt::print("\n");
    }
    return exit_ok;
}

}  // namespace accel::cli
