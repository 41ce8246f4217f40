#pragma once

#include <memory>
#include <string>

#include "accel/bench/llm_target.h"
#include "accel/bench/target.h"
#include "accel/engine/batch_decoder.h"
#include "accel/engine/session.h"

namespace accel::bench {

// The llm scenario's target over an engine session (typically a pool lease's). The caller keeps the session
// alive and holds its resident's `use` mutex while the target runs.
class EngineLlmTarget : public LlmTarget {
public:
    explicit EngineLlmTarget(engine::Session& session);
    std::string_view name() const override { return "llama.cpp"; }
    int32_t n_vocab() const override { return decoder_.n_vocab(); }
    bool add_bos() const override { return add_bos_; }
    int32_t bos() const override { return bos_; }
    void reset() override { decoder_.clear_memory(); }
    void prefill(std::span<const int32_t> tokens, int32_t pos) override;
    void decode_one(int32_t token, int32_t pos) override;
    int32_t greedy() override { return decoder_.argmax(-1); }

private:
    engine::BatchDecoder decoder_;
    bool add_bos_;
    int32_t bos_;
};

// The embed scenario's target: texts in, one pooled vector per text out (the session must be an embedding
// context). The caller keeps the session alive and holds its lease's guard while the target runs.
class EngineEmbedTarget : public Target<std::string> {
public:
    explicit EngineEmbedTarget(engine::Session& session) : session_(session) {}
    std::string_view name() const override { return "llama.cpp"; }
    std::string_view kind() const override { return "embed"; }
    WorkDone run(std::span<const std::string> texts) override;
    // The vectors of the last run, for --verify.
    const std::vector<std::vector<float>>& last() const { return last_; }

private:
    engine::Session& session_;
    std::vector<std::string> batch_;
    std::vector<std::vector<float>> last_;
};

}  // namespace accel::bench
