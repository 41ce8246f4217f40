#pragma once

// The runs behind `accel conform`'s cases against transformers (hf_conformance.cpp): one function per HfRun, each
// running accel on a class's fixture and adding every figure with its limit (model::hf_limits()) to the result.
// Internal to bench.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "accel/bench/conformance.h"
#include "accel/bench/hf_conformance.h"
#include "accel/model/hf_limits.h"

namespace accel::bench::detail {

// One case's inputs: the class, its fixture folder, the converted model file, where and at which type it runs.
struct HfCase {
    const HfClass& cls;
    std::filesystem::path dir;
    std::filesystem::path model;
    std::string device;  // "cpu", "cuda0", ...
    model::ConvertType type;
    int32_t n_threads;
};

// Shared by the runs (hf_cases_text.cpp).
std::string read_text(const std::filesystem::path& p);
// An F32 tensor of a reference.safetensors (the oracle writes every reference in f32).
std::vector<float> read_f32_tensor(const std::filesystem::path& file, const std::string& name);
double range_of(const std::vector<float>& v);
double max_abs_diff(const float* a, const float* b, size_t n);
size_t argmax(const float* row, size_t n);
bool perturbed(const HfClass& c);  // ACCEL_CONFORM_PERTURB=hf:<model_type>: the test switch that negates an output
// Adds the figure with its limit from the one table; a metric the table has no limit for is not recorded.
void add_metric(ConformResult& r, const HfCase& c, model::HfMetric m, double value);
// Top-1 agreement over teacher-forced rows (row i of got/expected predicts the token after input i): rows
// first_greedy .. first_greedy + generated.size() - 1 predicted the reference's own greedy ids, with the margins it
// stored; the others are judged by the reference's top-2 margin. Only rows whose margin exceeds hf_top1_epsilon count.
double teacher_forced_top1(const std::vector<float>& got, const std::vector<float>& expected, size_t n_vocab,
                           size_t first_greedy, const std::vector<int32_t>& generated, const std::vector<double>& margins);

// The runs (text: hf_cases_text.cpp; images and speech: hf_cases_media.cpp). Each sets r.loaded once the model is
// loaded, and throws Error when the fixture or the model is unusable.
void run_decoder(const HfCase& c, ConformResult& r);         // HfRun::decoder_logits
void run_encoder(const HfCase& c, ConformResult& r);         // HfRun::encoder_embeddings
void run_classifier(const HfCase& c, ConformResult& r);      // encoder_embeddings' head_fixture (c.dir is it)
void run_seq2seq(const HfCase& c, ConformResult& r);         // HfRun::seq2seq_logits
void run_image_classes(const HfCase& c, ConformResult& r);   // HfRun::image_classes
void run_image_text(const HfCase& c, ConformResult& r);      // HfRun::image_text
void run_speech(const HfCase& c, ConformResult& r);          // HfRun::speech_logits
void run_object_detection(const HfCase& c, ConformResult& r);  // HfRun::object_detection (hf_cases_detr.cpp)
// object_detection's second fixture (c.dir is it; converted to c.model here): each metric of r becomes the worse of
// r's and this fixture's.
void run_object_detection_also(const HfCase& c, ConformResult& r);
void run_ctc(const HfCase& c, ConformResult& r);             // HfRun::ctc_logits (hf_cases_wav2vec2.cpp)
void run_vision_language(const HfCase& c, ConformResult& r); // HfRun::vision_language (hf_cases_llava.cpp)
void run_audio_text(const HfCase& c, ConformResult& r);      // HfRun::audio_text (hf_cases_clap.cpp)
void run_video_text(const HfCase& c, ConformResult& r);      // HfRun::video_text (hf_cases_xclip.cpp)

}  // namespace accel::bench::detail
