// PNG through libpng's classic API and JPEG through libjpeg(-turbo). Both report errors by longjmp: each decoder
// keeps every C++ object out of the frame that calls setjmp (the output lives in the caller's Image), and the
// error text is copied into a plain buffer before the jump.
#include "accel/media/image.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

// clang-format off
#include <png.h>
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::media {
namespace {

constexpr uint64_t max_pixels = 1ull << 28;

struct FileClose {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileClose>;

[[noreturn]] void refuse(const std::filesystem::path& file, const std::string& why) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", file.string(), why));
}

void check_size(const std::filesystem::path& file, uint64_t width, uint64_t height) {
    if (width == 0 || height == 0) refuse(file, "the image has no pixels");
    if (width * height > max_pixels)
        refuse(file, fmt::format("{}x{} pixels is more than accel decodes (2^28)", width, height));
}

// ---- PNG

struct PngState {
    std::jmp_buf jump;
    char message[256] = {};
};

void png_fail(png_structp png, png_const_charp message) {
    auto* s = static_cast<PngState*>(png_get_error_ptr(png));
    std::snprintf(s->message, sizeof s->message, "%s", message);
    std::longjmp(s->jump, 1);
}

void png_warn(png_structp /*png*/, png_const_charp /*message*/) {}

// Returns false with state.message set on a libpng error. `out` is the caller's.
bool read_png(std::FILE* f, PngState& state, Image& out, const std::filesystem::path& file) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, png_fail, png_warn);
    if (png == nullptr) refuse(file, "libpng could not start");
    png_infop info = png_create_info_struct(png);
    if (info == nullptr || setjmp(state.jump) != 0) {
        png_destroy_read_struct(&png, &info, nullptr);
        return false;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    const png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    if (width == 0 || height == 0 || uint64_t{width} * height > max_pixels) {
        std::snprintf(state.message, sizeof state.message, "%ux%u pixels: empty, or more than accel decodes (2^28)",
                      width, height);
        png_destroy_read_struct(&png, &info, nullptr);
        return false;
    }
    png_set_strip_16(png);
    png_set_palette_to_rgb(png);
    png_set_expand_gray_1_2_4_to_8(png);
    png_set_gray_to_rgb(png);
    png_set_strip_alpha(png);
    const int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != size_t{width} * 3) {
        std::snprintf(state.message, sizeof state.message, "a PNG layout accel does not read");
        png_destroy_read_struct(&png, &info, nullptr);
        return false;
    }
    out.width = width;
    out.height = height;
    out.rgb.assign(size_t{width} * height * 3, 0);
    for (int pass = passes; pass > 0; --pass)
        for (png_uint_32 y = 0; y < height; ++y) png_read_row(png, out.rgb.data() + size_t{y} * width * 3, nullptr);
    png_read_end(png, nullptr);
    png_destroy_read_struct(&png, &info, nullptr);
    return true;
}

// ---- JPEG

struct JpegError {
    jpeg_error_mgr mgr;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX] = {};
};

void jpeg_fail(j_common_ptr cinfo) {
    auto* e = reinterpret_cast<JpegError*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, e->message);
    std::longjmp(e->jump, 1);
}

// Warnings stay quiet, except a file that ends early: libjpeg pads it with gray, PIL refuses it ("image file is
// truncated"), and so does accel.
void jpeg_warn(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_fail(cinfo);
}

bool read_jpeg(std::FILE* f, JpegError& err, Image& out) {
    jpeg_decompress_struct cinfo{};
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_fail;
    err.mgr.emit_message = jpeg_warn;
    if (setjmp(err.jump) != 0) {
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        std::snprintf(err.message, sizeof err.message, "a CMYK JPEG (accel reads gray and color JPEGs)");
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    const uint64_t width = cinfo.output_width, height = cinfo.output_height;
    if (cinfo.output_components != 3 || width * height > max_pixels) {
        std::snprintf(err.message, sizeof err.message, "%llux%llu pixels: more than accel decodes (2^28)",
                      static_cast<unsigned long long>(width), static_cast<unsigned long long>(height));
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    out.width = static_cast<uint32_t>(width);
    out.height = static_cast<uint32_t>(height);
    out.rgb.assign(width * height * 3, 0);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out.rgb.data() + size_t{cinfo.output_scanline} * width * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return true;
}

}  // namespace

Image decode_image(const std::filesystem::path& file) {
    FilePtr f(std::fopen(file.c_str(), "rb"));
    if (!f) refuse(file, fmt::format("cannot read ({})", std::strerror(errno)));
    unsigned char magic[8] = {};
    const size_t n = std::fread(magic, 1, sizeof magic, f.get());
    std::rewind(f.get());
    Image out;
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n == 8 && std::memcmp(magic, png_magic, 8) == 0) {
        PngState state;
        if (!read_png(f.get(), state, out, file)) refuse(file, fmt::format("not a readable PNG ({})", state.message));
    } else if (n >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff) {
        auto err = std::make_unique<JpegError>();
        if (!read_jpeg(f.get(), *err, out)) refuse(file, fmt::format("not a readable JPEG ({})", err->message));
    } else {
        refuse(file, "not a PNG or JPEG image (accel reads PNG and JPEG)");
    }
    check_size(file, out.width, out.height);
    return out;
}

}  // namespace accel::media
