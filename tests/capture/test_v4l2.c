/*
 * test_v4l2.c - the direct libv4l2 backend against the fake camera of
 * fake_v4l2.c (there is no camera or video kernel module on the machines
 * that run these tests).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/videodev2.h>
#include <string.h>

#include "fake_v4l2.h"
#include "testutil.h"

#define DEV "/dev/video-pwfake"

TestSuite(v4l2, .timeout = 120);

static pw_fake_v4l2_config fake(uint32_t fmt)
{
    pw_fake_v4l2_config c;
    memset(&c, 0, sizeof c);
    c.path = DEV;
    c.formats[0] = fmt;
    c.width = 64;
    c.height = 48;
    c.fps = 50;
    return c;
}

static pw_capture *start(int want_bgr, int stall_ms)
{
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, "v4l2direct://" DEV);
    cfg.want_bgr = want_bgr;
    cfg.queue_depth = 8;
    cfg.stall_timeout_ms = stall_ms;
    cfg.backoff_initial_ms = 50;
    cfg.backoff_max_ms = 200;
    pw_capture *cap = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_capture_new(&cfg, &cap, &err), 0, "new: %s", err.msg);
    cr_assert_eq(pw_capture_start(cap, &err), 0, "start: %s", err.msg);
    return cap;
}

/* The fake's frame n has luma (n + x + y) & 255 and timestamp n / fps. */
static void check_pattern(const pw_frame_info *fi, int fps)
{
    cr_assert_eq(fi->grey.width, 64);
    cr_assert_eq(fi->grey.height, 48);
    int64_t n = fi->pts_ns / (1000000000LL / fps);
    uint8_t base = *pw_plane_at(&fi->grey, 0, 0);
    cr_assert_eq(base, (uint8_t)(n & 255), "frame %lld starts at %d", (long long)n, base);
    for (int y = 0; y < 48; y += 7)
        for (int x = 0; x < 64; x += 5)
            cr_assert_eq(*pw_plane_at(&fi->grey, x, y), (uint8_t)((base + x + y) & 255));
}

static void check_format(uint32_t fmt, int want_bgr)
{
    pw_fake_v4l2_config c = fake(fmt);
    pw_fake_v4l2_setup(&c);
    pw_capture *cap = start(want_bgr, 3000);
    for (int i = 0; i < 8; i++) {
        pw_frame *f = NULL;
        cr_assert_eq(pw_capture_next(cap, 10000, &f, NULL), 0);
        const pw_frame_info *fi = pw_frame_get_info(f);
        check_pattern(fi, c.fps);
        if (want_bgr) {
            cr_assert_eq(fi->bgr.channels, 3);
            /* Neutral chroma: the colour pixel is grey (its level is range-expanded). */
            const uint8_t *px = pw_plane_at(&fi->bgr, 3, 2);
            cr_assert(abs(px[0] - px[1]) <= 1 && abs(px[1] - px[2]) <= 1,
                      "neutral chroma gives grey colour (%d %d %d)", px[0], px[1], px[2]);
        }
        pw_frame_release(&f);
    }
    pw_capture_destroy(&cap);
}

Test(v4l2, grey_camera)
{
    check_format(V4L2_PIX_FMT_GREY, 0);
}

Test(v4l2, yuyv_camera_with_colour)
{
    check_format(V4L2_PIX_FMT_YUYV, 1);
}

Test(v4l2, prefers_grey_among_offered_formats)
{
    pw_fake_v4l2_config c = fake(V4L2_PIX_FMT_YUYV);
    c.formats[1] = V4L2_PIX_FMT_GREY;
    pw_fake_v4l2_setup(&c);
    pw_capture *cap = start(0, 3000);
    pw_frame *f = NULL;
    cr_assert_eq(pw_capture_next(cap, 10000, &f, NULL), 0);
    check_pattern(pw_frame_get_info(f), c.fps);
    pw_frame_release(&f);
    pw_capture_destroy(&cap);
}

Test(v4l2, mjpeg_camera_decoded)
{
    pw_image *img = NULL;
    cr_assert_eq(tu_render(3, 128, 96, &img), 0);
    pw_plane p = pw_image_plane(img);
    uint8_t *jpeg = NULL;
    size_t len = 0;
    cr_assert_eq(pw_cv_encode(&p, ".jpg", 95, &jpeg, &len), 0);
    pw_fake_v4l2_config c = fake(V4L2_PIX_FMT_MJPEG);
    c.width = 128;
    c.height = 96;
    c.jpeg = jpeg;
    c.jpeg_len = len;
    pw_fake_v4l2_setup(&c);
    pw_capture *cap = start(1, 3000);
    pw_frame *f = NULL;
    cr_assert_eq(pw_capture_next(cap, 10000, &f, NULL), 0);
    const pw_frame_info *fi = pw_frame_get_info(f);
    cr_assert_lt(tu_mad(&fi->grey, &p), 4.0);
    cr_assert_eq(fi->bgr.channels, 3);
    pw_frame_release(&f);
    pw_capture_destroy(&cap);
    free(jpeg);
    pw_image_destroy(&img);
}

static void expect_no_start(const char *source, const char *reason)
{
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, source);
    pw_capture *cap = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_capture_new(&cfg, &cap, &err), 0);
    cr_assert_eq(pw_capture_start(cap, &err), PW_ESOURCE);
    cr_assert(strstr(err.msg, source), "names the source: %s", err.msg);
    cr_assert(strcasestr(err.msg, reason), "says '%s': %s", reason, err.msg);
    pw_capture_destroy(&cap);
}

Test(v4l2, missing_device_cannot_start)
{
    pw_fake_v4l2_config c = fake(V4L2_PIX_FMT_GREY);
    pw_fake_v4l2_setup(&c);
    expect_no_start("v4l2direct:///dev/video-pw-absent", "no such file");
}

Test(v4l2, device_without_capture_cannot_start)
{
    pw_fake_v4l2_config c = fake(V4L2_PIX_FMT_GREY);
    c.caps = V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_STREAMING;
    pw_fake_v4l2_setup(&c);
    expect_no_start("v4l2direct://" DEV, "cannot capture video");
}

Test(v4l2, device_without_usable_format_cannot_start)
{
    pw_fake_v4l2_config c = fake(V4L2_PIX_FMT_RGB565);
    pw_fake_v4l2_setup(&c);
    expect_no_start("v4l2direct://" DEV, "none of GREY");
}

static void expect_recovery(pw_fake_v4l2_config *c, int stall_ms)
{
    pw_fake_v4l2_setup(c);
    pw_capture *cap = start(0, stall_ms);
    uint64_t prev = 0;
    int got = 0;
    /* Three opens' worth of frames: the device failed twice and came back. */
    while (pw_fake_v4l2_opens() < 3 || got < 25) {
        pw_frame *f = NULL;
        cr_assert_eq(pw_capture_next(cap, 15000, &f, NULL), 0, "after %d frames", got);
        const pw_frame_info *fi = pw_frame_get_info(f);
        check_pattern(fi, c->fps);
        if (got++)
            cr_assert_gt(fi->seq, prev);
        prev = fi->seq;
        pw_frame_release(&f);
        cr_assert_lt(got, 2000);
    }
    pw_capture_stats st;
    pw_capture_get_stats(cap, &st);
    cr_assert_geq(st.restarts, 2);
    cr_assert_eq(st.frames, st.delivered + st.dropped + (uint64_t)st.queued);
    pw_capture_destroy(&cap);
}

Test(v4l2, unplugged_camera_is_reopened)
{
    pw_fake_v4l2_config c = fake(V4L2_PIX_FMT_GREY);
    c.fail_after = 10;
    expect_recovery(&c, 3000);
}

Test(v4l2, stalled_camera_is_reopened)
{
    pw_fake_v4l2_config c = fake(V4L2_PIX_FMT_GREY);
    c.stall_after = 10;
    expect_recovery(&c, 400);
}
