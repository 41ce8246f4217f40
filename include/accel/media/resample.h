#pragma once
// Resampling as PIL does it for 8-bit images (Pillow's Resample.c): separable, horizontal pass then vertical, each
// with the filter's support stretched by the scale when downsampling (antialiasing), coefficients normalized to
// sum 1 and rounded to 22-bit fixed point, each pass rounded and clipped to u8. Hugging Face's PIL image processors
// resize this way, so the results match theirs exactly.

#include <cstdint>

#include "accel/media/image.h"

namespace accel::media {

// PIL's resample numbers, as preprocessor_config.json stores them ("resample": 2).
enum class Resample : uint8_t { nearest = 0, lanczos = 1, bilinear = 2, bicubic = 3, box = 4, hamming = 5 };

// Throws Error{invalid_input} for a number that is not one of the above.
Resample resample_from_pil(int value);
const char* to_string(Resample r);

// `in` resized to width x height (both > 0). Throws Error{invalid_input} for nearest (not implemented: no processor
// accel supports uses it) and for a zero size.
Image resize(const Image& in, uint32_t width, uint32_t height, Resample filter);

// The width x height window at the center, as transformers' center_crop: top = (h - height) / 2, left likewise
// (rounded down). Throws Error{invalid_input} when the window is larger than the image.
Image center_crop(const Image& in, uint32_t width, uint32_t height);

}  // namespace accel::media
