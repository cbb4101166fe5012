// cvshim_internal.hpp - helpers shared by the shim's C++ files only.
#ifndef PW_CVSHIM_INTERNAL_HPP
#define PW_CVSHIM_INTERNAL_HPP

#include <cerrno>
#include <new>
#include <opencv2/core.hpp>

#include "cvshim.h"

namespace pwcv {

// Wraps a borrowed plane as a Mat header without copying pixels.
inline cv::Mat wrap(const pw_plane *p)
{
    return cv::Mat(p->height, p->width, CV_8UC(p->channels), p->data, (size_t)p->stride);
}

// Runs fn, turning every exception into the project's error code, so that no
// C++ exception ever crosses into C.
template <typename Fn>
int guard(Fn &&fn) noexcept
{
    try {
        return fn();
    } catch (const cv::Exception &) {
        return PW_ECV;
    } catch (const std::bad_alloc &) {
        return -ENOMEM;
    } catch (...) {
        return PW_ECV;
    }
}

}  // namespace pwcv

#endif
