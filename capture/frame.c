/* frame.c - frame allocation, release and time stamps. */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "capture_internal.h"

int64_t pw_clock_ns(int clock_id)
{
    struct timespec ts;
    clock_gettime((clockid_t)clock_id, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void pw_frame_dispose_owned(pw_frame *f)
{
    pw_image_destroy(&f->grey_img);
    pw_image_destroy(&f->bgr_img);
    g_free(f);
}

pw_frame *pw_frame_new_owned(void)
{
    pw_frame *f = g_new0(pw_frame, 1);
    f->dispose = pw_frame_dispose_owned;
    f->info.pts_ns = -1;
    return f;
}

void pw_frame_stamp(pw_frame *f)
{
    f->info.realtime_ns = pw_clock_ns(CLOCK_REALTIME);
    f->info.monotonic_ns = pw_clock_ns(CLOCK_MONOTONIC);
}

void pw_frame_use_images(pw_frame *f)
{
    if (f->grey_img)
        f->info.grey = pw_image_plane(f->grey_img);
    if (f->bgr_img)
        f->info.bgr = pw_image_plane(f->bgr_img);
}

const pw_frame_info *pw_frame_get_info(const pw_frame *f)
{
    return f ? &f->info : NULL;
}

void pw_frame_release(pw_frame **f)
{
    if (!f || !*f)
        return;
    (*f)->dispose(*f);
    *f = NULL;
}
