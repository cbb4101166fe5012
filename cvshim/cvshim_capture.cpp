// cvshim_capture.cpp - colour conversions used by capture/.
#include <opencv2/imgproc.hpp>

#include "cvshim.h"
#include "cvshim_internal.hpp"

namespace {

bool same_size(const pw_plane *a, const pw_plane *b)
{
    return a->width == b->width && a->height == b->height;
}

}  // namespace

extern "C" int pw_cv_bgr_to_grey(const pw_plane *bgr, pw_plane *grey)
{
    if (pw_plane_check(bgr) || pw_plane_check(grey) || bgr->channels != 3 ||
        grey->channels != 1 || !same_size(bgr, grey))
        return -EINVAL;
    return pwcv::guard([&] {
        cv::Mat out = pwcv::wrap(grey);
        cv::cvtColor(pwcv::wrap(bgr), out, cv::COLOR_BGR2GRAY);
        return 0;
    });
}

extern "C" int pw_cv_grey_to_bgr(const pw_plane *grey, pw_plane *bgr)
{
    if (pw_plane_check(bgr) || pw_plane_check(grey) || bgr->channels != 3 ||
        grey->channels != 1 || !same_size(bgr, grey))
        return -EINVAL;
    return pwcv::guard([&] {
        cv::Mat out = pwcv::wrap(bgr);
        cv::cvtColor(pwcv::wrap(grey), out, cv::COLOR_GRAY2BGR);
        return 0;
    });
}

extern "C" int pw_cv_yuyv_convert(const uint8_t *yuyv, int width, int height, int stride,
                                  pw_plane *grey, pw_plane *bgr)
{
    if (!yuyv || width <= 0 || height <= 0 || (width & 1) || stride < 2 * width)
        return -EINVAL;
    pw_plane want = {nullptr, width, height, 0, 1};
    if (grey && (pw_plane_check(grey) || grey->channels != 1 || !same_size(grey, &want)))
        return -EINVAL;
    if (bgr && (pw_plane_check(bgr) || bgr->channels != 3 || !same_size(bgr, &want)))
        return -EINVAL;
    return pwcv::guard([&] {
        // OpenCV reads the packed frame through a header; nothing is copied in.
        cv::Mat src(height, width, CV_8UC2, const_cast<uint8_t *>(yuyv), (size_t)stride);
        if (grey) {
            cv::Mat g = pwcv::wrap(grey);
            cv::cvtColor(src, g, cv::COLOR_YUV2GRAY_YUYV);
        }
        if (bgr) {
            cv::Mat c = pwcv::wrap(bgr);
            cv::cvtColor(src, c, cv::COLOR_YUV2BGR_YUYV);
        }
        return 0;
    });
}
