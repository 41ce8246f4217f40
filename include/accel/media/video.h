#pragma once
// Videos as frames: a video file decoded with FFmpeg (libavformat, libavcodec, libswscale), or a folder of PNG/JPEG
// frames through decode_image; both sampled to a model's frame count the same way (docs/xclip.md, "Frames").

#include <cstdint>
#include <filesystem>
#include <vector>

#include "accel/media/image.h"

namespace accel::media {

struct Video {
    uint32_t n_frames_total = 0;    // frames in the file (decoded) or the folder
    std::vector<uint32_t> indices;  // the sampled ones, 0-based, in order
    std::vector<Image> frames;      // their RGB images, one per index
};

// X-CLIP's uniform sampling: the middle frame of each of n equal segments of the clip, index
// floor((2i + 1) * n_total / (2n)) for i = 0 .. n - 1. n_total == n takes every frame; a shorter clip repeats
// frames. Throws Error{invalid_input} when n_total or n is 0.
std::vector<uint32_t> sample_frame_indices(uint32_t n_total, uint32_t n);

// Reads `path`: a folder takes its .png, .jpg and .jpeg files (any case) in file-name order as the clip's frames;
// anything else is a video file for FFmpeg (its best video stream, every decoded frame counted, converted to RGB at
// its own size). Samples n frames. Throws Error{invalid_input} in one line naming the path when it is missing, a
// folder without frames, a file FFmpeg cannot open or decode, or without a video stream; a frame that cannot be
// decoded throws as decode_image.
Video read_video(const std::filesystem::path& path, uint32_t n);

}  // namespace accel::media
