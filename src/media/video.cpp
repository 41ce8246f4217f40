// Frames of a video: a folder of images, or a file decoded by FFmpeg in two passes (count the frames, then keep the
// sampled ones), each converted to RGB24 by libswscale at the stream's size.
#include "accel/media/video.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>

#include <fmt/core.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

#include "accel/core/error.h"

namespace accel::media {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void bad(const fs::path& p, const std::string& why) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", p.string(), why));
}

std::string av_message(int err) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(err, buf, sizeof buf);
    return buf;
}

bool is_frame_file(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

Video read_folder(const fs::path& dir, uint32_t n) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file() && is_frame_file(e.path())) files.push_back(e.path());
    if (files.empty()) bad(dir, "a folder without frames (.png, .jpg or .jpeg files)");
    std::sort(files.begin(), files.end());
    Video v{static_cast<uint32_t>(files.size()), sample_frame_indices(static_cast<uint32_t>(files.size()), n), {}};
    for (const uint32_t i : v.indices) v.frames.push_back(decode_image(files[i]));
    return v;
}

struct FormatClose {
    void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct CodecFree {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketFree {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFree {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct SwsFree {
    void operator()(SwsContext* s) const { sws_freeContext(s); }
};

// One decoding pass over the file's best video stream; `on_frame` gets each decoded frame with its 0-based index.
template <class OnFrame>
void decode_all(const fs::path& path, OnFrame on_frame) {
    av_log_set_level(AV_LOG_QUIET);  // errors come back as one line each, not FFmpeg's log
    AVFormatContext* raw = nullptr;
    if (const int err = avformat_open_input(&raw, path.c_str(), nullptr, nullptr); err < 0)
        bad(path, fmt::format("not a video FFmpeg can open ({})", av_message(err)));
    std::unique_ptr<AVFormatContext, FormatClose> fmt_ctx(raw);
    if (const int err = avformat_find_stream_info(raw, nullptr); err < 0)
        bad(path, fmt::format("no stream information ({})", av_message(err)));
    const AVCodec* codec = nullptr;
    const int stream = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (stream < 0 || codec == nullptr) bad(path, "no video stream FFmpeg can decode");
    std::unique_ptr<AVCodecContext, CodecFree> dec(avcodec_alloc_context3(codec));
    if (!dec || avcodec_parameters_to_context(dec.get(), raw->streams[stream]->codecpar) < 0 ||
        avcodec_open2(dec.get(), codec, nullptr) < 0)
        bad(path, fmt::format("cannot open its {} decoder", codec->name));
    std::unique_ptr<AVPacket, PacketFree> pkt(av_packet_alloc());
    std::unique_ptr<AVFrame, FrameFree> frame(av_frame_alloc());
    uint32_t index = 0;
    auto drain = [&] {
        for (;;) {
            const int err = avcodec_receive_frame(dec.get(), frame.get());
            if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
            if (err < 0) bad(path, fmt::format("a frame cannot be decoded ({})", av_message(err)));
            on_frame(*frame, index++);
            av_frame_unref(frame.get());
        }
    };
    for (int err = 0; (err = av_read_frame(raw, pkt.get())) >= 0;) {
        if (pkt->stream_index == stream) {
            const int sent = avcodec_send_packet(dec.get(), pkt.get());
            av_packet_unref(pkt.get());
            if (sent < 0 && sent != AVERROR(EAGAIN))
                bad(path, fmt::format("corrupt video data ({})", av_message(sent)));
            drain();
        } else {
            av_packet_unref(pkt.get());
        }
    }
    avcodec_send_packet(dec.get(), nullptr);  // flush the decoder's delayed frames
    drain();
}

Image to_rgb(const AVFrame& f, const fs::path& path) {
    if (f.width <= 0 || f.height <= 0 || int64_t{f.width} * f.height > (int64_t{1} << 28))
        bad(path, fmt::format("a frame of {}x{} pixels", f.width, f.height));
    std::unique_ptr<SwsContext, SwsFree> sws(
        sws_getContext(f.width, f.height, static_cast<AVPixelFormat>(f.format), f.width, f.height, AV_PIX_FMT_RGB24,
                       SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr));
    if (!sws) bad(path, "its pixel format cannot be converted to RGB");
    Image im{static_cast<uint32_t>(f.width), static_cast<uint32_t>(f.height), {}};
    im.rgb.resize(size_t{im.width} * im.height * 3);
    uint8_t* dst[4] = {im.rgb.data(), nullptr, nullptr, nullptr};
    const int dst_stride[4] = {f.width * 3, 0, 0, 0};
    sws_scale(sws.get(), f.data, f.linesize, 0, f.height, dst, dst_stride);
    return im;
}

Video read_file(const fs::path& path, uint32_t n) {
    uint32_t total = 0;
    decode_all(path, [&](const AVFrame&, uint32_t) { ++total; });
    if (total == 0) bad(path, "a video without frames");
    Video v{total, sample_frame_indices(total, n), {}};
    v.frames.resize(v.indices.size());
    decode_all(path, [&](const AVFrame& f, uint32_t i) {
        for (size_t k = 0; k < v.indices.size(); ++k)
            if (v.indices[k] == i) v.frames[k] = to_rgb(f, path);
    });
    for (const auto& f : v.frames)
        if (f.rgb.empty()) bad(path, "the second decoding pass gave fewer frames than the first");
    return v;
}

}  // namespace

std::vector<uint32_t> sample_frame_indices(uint32_t n_total, uint32_t n) {
    if (n_total == 0 || n == 0)
        throw Error(ErrorKind::invalid_input, fmt::format("cannot sample {} frames of a clip of {}", n, n_total));
    std::vector<uint32_t> out;
    for (uint64_t i = 0; i < n; ++i) out.push_back(static_cast<uint32_t>((2 * i + 1) * n_total / (2 * uint64_t{n})));
    return out;
}

Video read_video(const fs::path& path, uint32_t n) {
    std::error_code ec;
    if (!fs::exists(path, ec)) bad(path, "no such file or folder");
    if (fs::is_directory(path, ec)) return read_folder(path, n);
    return read_file(path, n);
}

}  // namespace accel::media
