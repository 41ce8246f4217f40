// PIL's resampling for 8-bit images, written from the behaviour of Pillow's Resample.c (precompute_coeffs,
// normalize_coeffs_8bpc, the 8bpc horizontal and vertical passes), so that results match PIL's byte for byte.
#include "accel/media/resample.h"

#include <cmath>
#include <numbers>
#include <vector>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::media {
namespace {

constexpr int precision_bits = 32 - 8 - 2;

struct Filter {
    double (*weight)(double);
    double support;
};

double box_filter(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }

double bilinear_filter(double x) {
    x = std::fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

double hamming_filter(double x) {
    x = std::fabs(x);
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x *= std::numbers::pi;
    return std::sin(x) / x * (0.54 + 0.46 * std::cos(x));
}

double bicubic_filter(double x) {
    constexpr double a = -0.5;
    x = std::fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

double sinc(double x) {
    if (x == 0.0) return 1.0;
    x *= std::numbers::pi;
    return std::sin(x) / x;
}

double lanczos_filter(double x) { return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0; }

Filter filter_of(Resample r) {
    switch (r) {
        case Resample::box: return {box_filter, 0.5};
        case Resample::bilinear: return {bilinear_filter, 1.0};
        case Resample::hamming: return {hamming_filter, 1.0};
        case Resample::bicubic: return {bicubic_filter, 2.0};
        case Resample::lanczos: return {lanczos_filter, 3.0};
        case Resample::nearest: break;
    }
    throw Error(ErrorKind::invalid_input, "resample 0 (nearest) is not implemented: accel resizes with box, "
                                          "bilinear, hamming, bicubic or lanczos");
}

// For each output position: the first input index, the number of inputs, and ksize fixed-point coefficients.
struct Coefficients {
    int ksize = 0;
    std::vector<int> first, count;
    std::vector<int32_t> k;
};

Coefficients precompute(int in_size, int out_size, const Filter& f) {
    const double scale = static_cast<double>(in_size) / out_size;
    const double filterscale = scale < 1.0 ? 1.0 : scale;
    const double support = f.support * filterscale;
    Coefficients c;
    c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
    c.first.resize(out_size);
    c.count.resize(out_size);
    c.k.assign(static_cast<size_t>(out_size) * c.ksize, 0);
    std::vector<double> w(c.ksize);
    for (int xx = 0; xx < out_size; ++xx) {
        const double center = (xx + 0.5) * scale;
        const double ss = 1.0 / filterscale;
        int xmin = static_cast<int>(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = static_cast<int>(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; ++x) {
            w[x] = f.weight((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        for (int x = 0; x < xmax; ++x) {
            const double v = ww != 0.0 ? w[x] / ww : w[x];
            const double fixed = v * (1 << precision_bits);
            c.k[static_cast<size_t>(xx) * c.ksize + x] = static_cast<int32_t>(v < 0 ? -0.5 + fixed : 0.5 + fixed);
        }
        c.first[xx] = xmin;
        c.count[xx] = xmax;
    }
    return c;
}

uint8_t clip8(int32_t v) {
    if (v >= (1 << precision_bits << 8)) return 255;
    if (v <= 0) return 0;
    return static_cast<uint8_t>(v >> precision_bits);
}

Image horizontal(const Image& in, uint32_t width, const Filter& f) {
    const Coefficients c = precompute(static_cast<int>(in.width), static_cast<int>(width), f);
    Image out{width, in.height, std::vector<uint8_t>(size_t{width} * in.height * 3)};
    for (uint32_t y = 0; y < in.height; ++y) {
        const uint8_t* row = in.rgb.data() + size_t{y} * in.width * 3;
        for (uint32_t xx = 0; xx < width; ++xx) {
            const int32_t* k = &c.k[size_t{xx} * c.ksize];
            for (int ch = 0; ch < 3; ++ch) {
                int32_t ss = 1 << (precision_bits - 1);
                for (int x = 0; x < c.count[xx]; ++x) ss += row[(x + c.first[xx]) * 3 + ch] * k[x];
                out.rgb[(size_t{y} * width + xx) * 3 + ch] = clip8(ss);
            }
        }
    }
    return out;
}

Image vertical(const Image& in, uint32_t height, const Filter& f) {
    const Coefficients c = precompute(static_cast<int>(in.height), static_cast<int>(height), f);
    Image out{in.width, height, std::vector<uint8_t>(size_t{in.width} * height * 3)};
    const size_t stride = size_t{in.width} * 3;
    for (uint32_t yy = 0; yy < height; ++yy) {
        const int32_t* k = &c.k[size_t{yy} * c.ksize];
        const uint8_t* base = in.rgb.data() + size_t(c.first[yy]) * stride;
        for (size_t i = 0; i < stride; ++i) {
            int32_t ss = 1 << (precision_bits - 1);
            for (int y = 0; y < c.count[yy]; ++y) ss += base[y * stride + i] * k[y];
            out.rgb[yy * stride + i] = clip8(ss);
        }
    }
    return out;
}

}  // namespace

Resample resample_from_pil(int value) {
    if (value < 0 || value > 5)
        throw Error(ErrorKind::invalid_input, fmt::format("resample {} is not one of PIL's filters (0 to 5)", value));
    return static_cast<Resample>(value);
}

const char* to_string(Resample r) {
    switch (r) {
        case Resample::nearest: return "nearest";
        case Resample::lanczos: return "lanczos";
        case Resample::bilinear: return "bilinear";
        case Resample::bicubic: return "bicubic";
        case Resample::box: return "box";
        case Resample::hamming: return "hamming";
    }
    return "?";
}

Image resize(const Image& in, uint32_t width, uint32_t height, Resample filter) {
    if (width == 0 || height == 0 || in.width == 0 || in.height == 0)
        throw Error(ErrorKind::invalid_input, fmt::format("cannot resize a {}x{} image to {}x{}", in.width, in.height,
                                                          width, height));
    const Filter f = filter_of(filter);
    if (width == in.width && height == in.height) return in;  // PIL returns a copy
    // PIL runs the horizontal pass first, and each pass only when its size changes.
    if (width == in.width) return vertical(in, height, f);
    Image h = horizontal(in, width, f);
    if (height == in.height) return h;
    return vertical(h, height, f);
}

Image center_crop(const Image& in, uint32_t width, uint32_t height) {
    if (width > in.width || height > in.height || width == 0 || height == 0)
        throw Error(ErrorKind::invalid_input, fmt::format("cannot crop {}x{} out of a {}x{} image", width, height,
                                                          in.width, in.height));
    const uint32_t top = (in.height - height) / 2, left = (in.width - width) / 2;
    Image out{width, height, std::vector<uint8_t>(size_t{width} * height * 3)};
    for (uint32_t y = 0; y < height; ++y) {
        const uint8_t* src = in.rgb.data() + ((size_t{top} + y) * in.width + left) * 3;
        std::copy(src, src + size_t{width} * 3, out.rgb.begin() + static_cast<ptrdiff_t>(size_t{y} * width * 3));
    }
    return out;
}

}  // namespace accel::media
