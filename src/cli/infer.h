#pragma once
// accel infer: one command for every class. cmd_infer.cpp reads the model's architecture and hands the options
// to that architecture's task; each task is one file (infer_<task>.cpp): one library call and its printing.
#include <cstdint>
#include <string>
#include <vector>

namespace accel::cli {

struct InferOptions {
    std::string model;
    std::string architecture;  // general.architecture, or "whisper" for a whisper.cpp model file
    std::string mmproj;        // the multimodal projector (LLaVA)
    std::vector<std::string> images;
    std::vector<std::string> texts;  // candidate texts (CLIP, CLAP, XCLIP)
    std::string audio;
    std::string video;  // a video file or a folder of frames
    std::string prompt;
    std::string language;
    bool timestamps = false;
    int32_t top = 5;
    int32_t n_predict = 64;  // tokens to generate at most (LLaVA)
    double threshold = 0.5;  // detection score threshold
    bool json = false;
    std::string device;
    int32_t threads = 0;
};

// The tasks. Each returns the process exit code; bad input throws Error{invalid_input} (exit 2 in main).
int infer_image_classification(const InferOptions& o);  // vit: infer_image_classification.cpp
int infer_detection(const InferOptions& o);             // detr: infer_detection.cpp
int infer_ctc(const InferOptions& o);                   // wav2vec2: infer_ctc.cpp (CTC transcript of --audio)
// A text model ("llama") with --mmproj: the streamed answer to --prompt about --image (infer_llava.cpp).
int infer_llava(const InferOptions& o);
int infer_whisper(const InferOptions& o);               // whisper: infer_whisper.cpp
int infer_clip(const InferOptions& o);                  // clip_model: infer_clip.cpp
int infer_clap(const InferOptions& o);                  // clap: infer_clap.cpp (audio-text similarity of --audio)
int infer_xclip(const InferOptions& o);                 // xclip: infer_xclip.cpp (--video and --text)

}  // namespace accel::cli
