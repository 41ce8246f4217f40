// Placeholder until the quantization work (issue 11) lands the implementation.
#include "accel/engine/quality.h"

#include "accel/core/error.h"

namespace accel::engine {

PerplexityResult perplexity(const LoadedModel&, std::string_view, const PerplexityParams&) {
    throw Error(ErrorKind::internal, "perplexity is not implemented yet");
}
KlDivergenceResult kl_divergence(const LoadedModel&, const LoadedModel&, std::string_view, const PerplexityParams&) {
    throw Error(ErrorKind::internal, "kl_divergence is not implemented yet");
}
EmbeddingSimilarityResult embedding_similarity(const LoadedModel&, const LoadedModel&, const std::vector<std::string>&,
                                               int32_t) {
    throw Error(ErrorKind::internal, "embedding_similarity is not implemented yet");
}

}  // namespace accel::engine
