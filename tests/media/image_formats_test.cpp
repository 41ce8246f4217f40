// decode_image on PNG layouts the fixture does not have (gray, gray+alpha, palette, RGBA, 16-bit, interlaced),
// written here with libpng's writer from known pixels, so the expected RGB is known independently of the decoder.
#include <gtest/gtest.h>

#include <png.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "accel/media/image.h"
#include "test_support.h"

namespace {

struct Layout {
    const char* name;
    int color_type, bit_depth, interlace;
};

// 5x3 pixels; value v(x, y) = 40 * x + 70 * y (mod 256) per channel, with an offset per channel for color.
uint8_t value(int x, int y, int c) { return static_cast<uint8_t>(40 * x + 70 * y + 50 * c); }

void write_png(const std::filesystem::path& file, const Layout& l) {
    constexpr int w = 5, h = 3;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "wb"), std::fclose);
    ASSERT_TRUE(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f.get());
    png_set_IHDR(png, info, w, h, l.bit_depth, l.color_type, l.interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    std::vector<png_color> palette;
    if (l.color_type == PNG_COLOR_TYPE_PALETTE) {
        for (int i = 0; i < w * h; ++i)
            palette.push_back({value(i % w, i / w, 0), value(i % w, i / w, 1), value(i % w, i / w, 2)});
        png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
    }
    png_write_info(png, info);
    const int channels = png_get_channels(png, info), bytes = l.bit_depth / 8;
    std::vector<std::vector<uint8_t>> rows(h, std::vector<uint8_t>(size_t(w) * channels * bytes));
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < channels; ++c) {
                const bool alpha = c == channels - 1 && (l.color_type & PNG_COLOR_MASK_ALPHA);
                const uint8_t v = l.color_type == PNG_COLOR_TYPE_PALETTE ? static_cast<uint8_t>(y * w + x)
                                  : alpha                                 ? uint8_t{17}
                                                                          : value(x, y, c);
                uint8_t* at = &rows[y][(size_t(x) * channels + c) * bytes];
                at[0] = v;
                if (bytes == 2) at[1] = 0xab;  // the low byte, which decoding drops
            }
    std::vector<png_bytep> ptrs;
    for (auto& r : rows) ptrs.push_back(r.data());
    png_write_image(png, ptrs.data());
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
}

class PngLayout : public testing::TestWithParam<Layout> {};

TEST_P(PngLayout, DecodesToTheKnownRgb) {
    const Layout l = GetParam();
    accel::test::TempDir tmp;
    const auto file = tmp / "x.png";
    write_png(file, l);
    const auto im = accel::media::decode_image(file);
    ASSERT_EQ(im.width, 5u);
    ASSERT_EQ(im.height, 3u);
    const bool gray = !(l.color_type & PNG_COLOR_MASK_COLOR);
    for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 5; ++x)
            for (int c = 0; c < 3; ++c)
                ASSERT_EQ(im.rgb[(size_t(y) * 5 + x) * 3 + c], value(x, y, gray ? 0 : c)) << l.name << " " << x << ","
                                                                                           << y << " channel " << c;
}

INSTANTIATE_TEST_SUITE_P(
    Formats, PngLayout,
    testing::Values(Layout{"rgb8", PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE},
                    Layout{"rgba8", PNG_COLOR_TYPE_RGB_ALPHA, 8, PNG_INTERLACE_NONE},
                    Layout{"gray8", PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE},
                    Layout{"gray_alpha8", PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE},
                    Layout{"palette8", PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE},
                    Layout{"rgb16", PNG_COLOR_TYPE_RGB, 16, PNG_INTERLACE_NONE},
                    Layout{"rgb8_interlaced", PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7}),
    [](const auto& p) { return std::string(p.param.name); });

}  // namespace
