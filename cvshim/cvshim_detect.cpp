// cvshim_detect.cpp - OpenCV helpers for detect/ and its benchmark.
#include <opencv2/core.hpp>

#include "cvshim.h"
#include "cvshim_internal.hpp"

using pwcv::guard;

extern "C" int pw_cv_set_threads(int n)
{
    if (n < 0)
        return -EINVAL;
    return guard([&]() -> int {
        cv::setNumThreads(n);
        return 0;
    });
}
