#pragma once
// Decoded images: 8-bit RGB, row-major, 3 bytes per pixel (what PIL's Image.convert("RGB") holds).

#include <cstdint>
#include <filesystem>
#include <vector>

namespace accel::media {

struct Image {
    uint32_t width = 0, height = 0;
    std::vector<uint8_t> rgb;  // height rows of width pixels, R G B each
};

// Reads a PNG (libpng) or JPEG (libjpeg-turbo) file, told apart by its first bytes, into RGB. Gray and palette
// images are expanded to RGB, an alpha channel is dropped (as PIL's convert("RGB")), 16-bit samples keep their
// high byte (as PIL does for 16-bit color; for 16-bit gray PIL clips to 255 instead). Throws Error{invalid_input} in one line naming the file when it is unreadable, truncated,
// corrupt, neither PNG nor JPEG, CMYK, or larger than 2^28 pixels. Thread-safe.
Image decode_image(const std::filesystem::path& file);

}  // namespace accel::media
