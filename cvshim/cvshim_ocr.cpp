// cvshim_ocr.cpp - image processing that prepares plate crops for OCR.
#include <opencv2/imgproc.hpp>

#include "cvshim_internal.hpp"

using pwcv::guard;
using pwcv::wrap;

static bool same_grey(const pw_plane *a, const pw_plane *b)
{
    return pw_plane_check(a) == 0 && pw_plane_check(b) == 0 && a->channels == 1 && b->channels == 1 &&
           a->width == b->width && a->height == b->height;
}

extern "C" int pw_cv_clahe(const pw_plane *src, pw_plane *dst, double clip_limit, int tiles)
{
    if (!same_grey(src, dst) || tiles <= 0)
        return -EINVAL;
    return guard([&]() -> int {
        cv::Ptr<cv::CLAHE> clahe = cv::createCLAHE(clip_limit, cv::Size(tiles, tiles));
        cv::Mat out = wrap(dst);
        clahe->apply(wrap(src), out);
        return 0;
    });
}

extern "C" int pw_cv_threshold_otsu(const pw_plane *src, pw_plane *dst, int invert)
{
    if (!same_grey(src, dst))
        return -EINVAL;
    return guard([&]() -> int {
        cv::Mat out = wrap(dst);
        int type = (invert ? cv::THRESH_BINARY_INV : cv::THRESH_BINARY) | cv::THRESH_OTSU;
        cv::threshold(wrap(src), out, 0, 255, type);
        return 0;
    });
}

extern "C" int pw_cv_threshold_adaptive(const pw_plane *src, pw_plane *dst, int block, double c, int invert)
{
    if (!same_grey(src, dst) || block < 3 || block % 2 == 0)
        return -EINVAL;
    return guard([&]() -> int {
        cv::Mat out = wrap(dst);
        cv::adaptiveThreshold(wrap(src), out, 255, cv::ADAPTIVE_THRESH_MEAN_C,
                              invert ? cv::THRESH_BINARY_INV : cv::THRESH_BINARY, block, c);
        return 0;
    });
}

extern "C" int pw_cv_components(const pw_plane *bin, int32_t *labels, pw_cc *ccs, size_t max, size_t *n)
{
    if (pw_plane_check(bin) != 0 || bin->channels != 1 || !n || (max && !ccs))
        return -EINVAL;
    return guard([&]() -> int {
        /* Labels are written straight into the caller's buffer when one is given. */
        cv::Mat lab = labels ? cv::Mat(bin->height, bin->width, CV_32S, labels) : cv::Mat();
        cv::Mat stats, centroids;
        /*
         * Grana's block-based scan (BBDT) labels a plate crop in about half
         * the time of OpenCV's default for 8-connectivity, with the same
         * labels: all its algorithms number components in raster order.
         */
        int count = cv::connectedComponentsWithStats(wrap(bin), lab, stats, centroids, 8, CV_32S, cv::CCL_GRANA);
        *n = count > 0 ? (size_t)(count - 1) : 0;
        for (size_t i = 0; i < *n && i < max; i++) {
            const int *s = stats.ptr<int>((int)i + 1);
            ccs[i] = pw_cc{s[cv::CC_STAT_LEFT], s[cv::CC_STAT_TOP], s[cv::CC_STAT_WIDTH],
                           s[cv::CC_STAT_HEIGHT], s[cv::CC_STAT_AREA]};
        }
        if (labels && lab.ptr<int32_t>() != labels) /* OpenCV chose to allocate after all */
            lab.copyTo(cv::Mat(bin->height, bin->width, CV_32S, labels));
        return 0;
    });
}

extern "C" int pw_cv_median_blur(pw_plane *p, int ksize)
{
    if (pw_plane_check(p) != 0 || p->channels != 1 || (ksize != 3 && ksize != 5))
        return -EINVAL;
    return guard([&]() -> int {
        cv::Mat m = wrap(p);
        cv::Mat tmp;
        cv::medianBlur(m, tmp, ksize);
        tmp.copyTo(m);
        return 0;
    });
}
