#include "accel/media/log_mel.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <thread>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::media {
namespace {

using Complex = std::complex<double>;

// A complex FFT of one size, mixed radix (decimation in time by the smallest prime factor; a prime length is a
// plain DFT). n_fft = 400 = 2^4 * 5^2. Not thread-safe: one per thread.
class Fft {
public:
    explicit Fft(size_t n) : n_(n), twiddle_(n), scratch_(n) {
        for (size_t j = 0; j < n; ++j)
            twiddle_[j] = std::polar(1.0, -2.0 * std::numbers::pi * static_cast<double>(j) / static_cast<double>(n));
    }

    void run(const Complex* in, Complex* out) { step(in, 1, n_, out); }

private:
    static size_t smallest_factor(size_t n) {
        for (size_t p = 2; p * p <= n; ++p)
            if (n % p == 0) return p;
        return n;
    }

    void step(const Complex* in, size_t stride, size_t n, Complex* out) {
        if (n == 1) {
            out[0] = in[0];
            return;
        }
        const size_t p = smallest_factor(n), m = n / p, scale = n_ / n;
        for (size_t r = 0; r < p; ++r) step(in + r * stride, stride * p, m, out + r * m);
        for (size_t k = 0; k < n; ++k) {  // X[k] = sum_r W_n^(r k) Y_r[k mod m]
            Complex sum = out[k % m];
            for (size_t r = 1; r < p; ++r) sum += twiddle_[((r * k) % n) * scale] * out[r * m + k % m];
            scratch_[k] = sum;
        }
        std::copy_n(scratch_.begin(), n, out);
    }

    size_t n_;
    std::vector<Complex> twiddle_, scratch_;
};

struct FilterRow {
    size_t begin = 0, end = 0;  // the bins where the filter is non-zero
};

std::vector<FilterRow> nonzero_ranges(std::span<const float> filters, size_t n_mels, size_t n_bins) {
    std::vector<FilterRow> rows(n_mels);
    for (size_t m = 0; m < n_mels; ++m) {
        const float* f = filters.data() + m * n_bins;
        size_t b = 0, e = n_bins;
        while (b < n_bins && f[b] == 0.0f) ++b;
        while (e > b && f[e - 1] == 0.0f) --e;
        rows[m] = {b, e};
    }
    return rows;
}

// Frames [t0, t1) of the mel power, into out[m * n_frames + t].
void log_mel_frames(std::span<const float> x, std::span<const float> filters, const std::vector<FilterRow>& rows,
                    const LogMelSpec& spec, size_t n_frames, size_t t0, size_t t1, double* out) {
    const auto n_fft = static_cast<size_t>(spec.n_fft), n_bins = n_fft / 2 + 1, hop = static_cast<size_t>(spec.hop_length);
    const auto len = static_cast<int64_t>(x.size()), half = static_cast<int64_t>(n_fft / 2);
    std::vector<double> window(n_fft), power(n_bins);
    for (size_t i = 0; i < n_fft; ++i)  // torch.hann_window(n_fft), periodic
        window[i] = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(n_fft));
    std::vector<Complex> in(n_fft), spectrum(n_fft);
    Fft fft(n_fft);
    for (size_t t = t0; t < t1; ++t) {
        for (size_t i = 0; i < n_fft; ++i) {
            int64_t j = static_cast<int64_t>(t * hop + i) - half;  // centred: reflect padding on both ends
            if (j < 0) j = -j;
            if (j >= len) j = 2 * (len - 1) - j;
            in[i] = Complex(static_cast<double>(x[static_cast<size_t>(j)]) * window[i], 0.0);
        }
        fft.run(in.data(), spectrum.data());
        for (size_t k = 0; k < n_bins; ++k) power[k] = std::norm(spectrum[k]);
        for (size_t m = 0; m < rows.size(); ++m) {
            double sum = 0;
            const float* f = filters.data() + m * n_bins;
            for (size_t k = rows[m].begin; k < rows[m].end; ++k) sum += static_cast<double>(f[k]) * power[k];
            out[m * n_frames + t] = sum;
        }
    }
}

void check_spec(std::span<const float> samples, std::span<const float> filters, const LogMelSpec& spec) {
    if (spec.n_fft < 2 || spec.hop_length < 1 || spec.n_mels < 1)
        throw Error(ErrorKind::invalid_input, fmt::format("log-mel: n_fft {}, hop_length {}, n_mels {} must be positive",
                                                          spec.n_fft, spec.hop_length, spec.n_mels));
    const size_t want = static_cast<size_t>(spec.n_mels) * static_cast<size_t>(spec.n_fft / 2 + 1);
    if (filters.size() != want)
        throw Error(ErrorKind::invalid_input, fmt::format("log-mel: the filter bank has {} values, {} mels x {} bins "
                                                          "need {}", filters.size(), spec.n_mels, spec.n_fft / 2 + 1, want));
    if (samples.size() < static_cast<size_t>(spec.n_fft / 2 + 1))
        throw Error(ErrorKind::invalid_input, fmt::format("log-mel: {} samples, fewer than the {} a frame needs",
                                                          samples.size(), spec.n_fft / 2 + 1));
}

}  // namespace

std::vector<double> mel_power(std::span<const float> samples, std::span<const float> filters, const LogMelSpec& spec,
                              size_t n_frames, int32_t n_threads) {
    check_spec(samples, filters, spec);
    const auto n_mels = static_cast<size_t>(spec.n_mels);
    const auto rows = nonzero_ranges(filters, n_mels, static_cast<size_t>(spec.n_fft / 2 + 1));
    std::vector<double> power(n_mels * n_frames);
    const size_t n_workers = std::clamp<size_t>(static_cast<size_t>(std::max(n_threads, 1)), 1, std::max<size_t>(n_frames, 1));
    std::vector<std::thread> workers;
    for (size_t w = 1; w < n_workers; ++w)
        workers.emplace_back(log_mel_frames, samples, filters, std::cref(rows), std::cref(spec), n_frames,
                             n_frames * w / n_workers, n_frames * (w + 1) / n_workers, power.data());
    log_mel_frames(samples, filters, rows, spec, n_frames, 0, n_frames / n_workers, power.data());
    for (auto& t : workers) t.join();
    return power;
}

LogMel whisper_log_mel(std::span<const float> samples, std::span<const float> filters, const LogMelSpec& spec,
                       int32_t n_threads) {
    check_spec(samples, filters, spec);
    const size_t n_frames = samples.size() / static_cast<size_t>(spec.hop_length);  // the last STFT frame is dropped
    std::vector<double> logs = mel_power(samples, filters, spec, n_frames, n_threads);
    for (double& v : logs) v = std::log10(std::max(v, 1e-10));
    const double floor = (logs.empty() ? 0.0 : *std::max_element(logs.begin(), logs.end())) - 8.0;
    LogMel out{.n_mels = spec.n_mels, .n_frames = static_cast<int32_t>(n_frames), .data = std::vector<float>(logs.size())};
    for (size_t i = 0; i < logs.size(); ++i) out.data[i] = static_cast<float>((std::max(logs[i], floor) + 4.0) / 4.0);
    return out;
}

std::vector<float> pad_or_trim(std::span<const float> samples, size_t n) {
    std::vector<float> out(n, 0.0f);
    std::copy_n(samples.begin(), std::min(n, samples.size()), out.begin());
    return out;
}

}  // namespace accel::media
