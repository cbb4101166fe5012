/*
 * test_files.c - recordings and image folders made by the test itself:
 * every frame arrives, in order, with the rendered pixels; damaged and
 * foreign files end or fail cleanly with errors naming the source.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include "testutil.h"

#define W 320
#define H 240
#define N 24
#define FPS 12

static char *dir;

static void setup(void)
{
    dir = tu_tmpdir();
    cr_assert_not_null(dir);
}

static void teardown(void)
{
    tu_rmtree(dir);
    g_free(dir);
}

TestSuite(files, .init = setup, .fini = teardown, .timeout = 120);

static char *make_recording(const char *kind)
{
    char *path = g_strdup_printf("%s/rec.%s", dir, kind);
    cr_assert_eq(tu_write_recording(path, kind, N, W, H, FPS), 0, "cannot write %s", path);
    return path;
}

static pw_capture *start(const pw_capture_config *cfg)
{
    pw_capture *cap = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_capture_new(cfg, &cap, &err), 0, "new: %s", err.msg);
    cr_assert_eq(pw_capture_start(cap, &err), 0, "start: %s", err.msg);
    return cap;
}

/* Every frame of a recording arrives once, in order, close to what was rendered. */
static void check_recording(const char *kind, double max_mad, int want_bgr)
{
    char *path = make_recording(kind);
    char *uri = g_filename_to_uri(path, NULL, NULL);
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, uri);
    cfg.want_bgr = want_bgr;
    pw_capture *cap = start(&cfg);
    int64_t last_pts = -1, last_mono = 0;
    int i = 0;
    for (;; i++) {
        pw_frame *f = NULL;
        pw_err err;
        int rc = pw_capture_next(cap, 20000, &f, &err);
        if (rc == PW_EEOS)
            break;
        cr_assert_eq(rc, 0, "frame %d: %s", i, pw_strerror(rc));
        const pw_frame_info *fi = pw_frame_get_info(f);
        cr_assert_eq(fi->seq, (uint64_t)i);
        cr_assert_eq(fi->grey.width, W);
        cr_assert_eq(fi->grey.height, H);
        cr_assert_geq(fi->grey.stride, W);
        cr_assert_eq(pw_plane_check(&fi->grey), 0);
        cr_assert_gt(fi->pts_ns, last_pts, "PTS must increase");
        cr_assert_geq(fi->monotonic_ns, last_mono);
        cr_assert_gt(fi->realtime_ns, (int64_t)1600000000 * 1000000000LL);
        if (want_bgr) {
            cr_assert_eq(fi->bgr.channels, 3);
            cr_assert_eq(fi->bgr.width, W);
            cr_assert_eq(pw_plane_check(&fi->bgr), 0);
        } else {
            cr_assert_null(fi->bgr.data);
        }
        last_pts = fi->pts_ns;
        last_mono = fi->monotonic_ns;
        pw_image *ref = NULL;
        cr_assert_eq(tu_render(i, W, H, &ref), 0);
        pw_plane rp = pw_image_plane(ref);
        double mad = tu_mad(&fi->grey, &rp);
        cr_assert_lt(mad, max_mad, "%s frame %d differs from its rendering (MAD %.1f)", kind, i,
                     mad);
        pw_image_destroy(&ref);
        pw_frame_release(&f);
        cr_assert_null(f);
    }
    cr_assert_eq(i, N, "%s: %d frames of %d", kind, i, N);
    pw_capture_stats st;
    pw_capture_get_stats(cap, &st);
    cr_assert_eq(st.state, PW_CAPTURE_ENDED);
    cr_assert_eq(st.dropped, 0);
    cr_assert_eq(st.frames, (uint64_t)N);
    pw_capture_destroy(&cap);
    cr_assert_null(cap);
    g_free(uri);
    g_free(path);
}

Test(files, webm_vp8_every_frame_in_order)
{
    check_recording("webm", 8.0, 0);
}

Test(files, avi_mjpeg_every_frame_in_order)
{
    check_recording("avi", 6.0, 0);
}

Test(files, avi_mjpeg_with_colour)
{
    check_recording("avi", 6.0, 1);
}

/* A slow consumer of a recording loses nothing: the producer waits instead. */
Test(files, slow_consumer_of_recording_loses_nothing)
{
    char *path = make_recording("avi");
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, path); /* a plain path is a recording too */
    cfg.queue_depth = 1;
    pw_capture *cap = start(&cfg);
    for (int i = 0; i < N; i++) {
        pw_frame *f = NULL;
        cr_assert_eq(pw_capture_next(cap, 20000, &f, NULL), 0);
        cr_assert_eq(pw_frame_get_info(f)->seq, (uint64_t)i);
        pw_frame_release(&f);
        if (i < 4)
            g_usleep(100000);
    }
    pw_frame *f = NULL;
    cr_assert_eq(pw_capture_next(cap, 20000, &f, NULL), PW_EEOS);
    pw_capture_stats st;
    pw_capture_get_stats(cap, &st);
    cr_assert_eq(st.dropped, 0);
    pw_capture_destroy(&cap);
    g_free(path);
}

Test(files, loop_restarts_recording_with_continuing_sequence)
{
    char *path = make_recording("avi");
    char *uri = g_filename_to_uri(path, NULL, NULL);
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, uri);
    cfg.loop = 1;
    pw_capture *cap = start(&cfg);
    int64_t prev_pts = -1;
    int wraps = 0;
    for (int i = 0; i < 2 * N + 5; i++) {
        pw_frame *f = NULL;
        cr_assert_eq(pw_capture_next(cap, 20000, &f, NULL), 0, "frame %d", i);
        const pw_frame_info *fi = pw_frame_get_info(f);
        cr_assert_eq(fi->seq, (uint64_t)i);
        wraps += fi->pts_ns < prev_pts;
        prev_pts = fi->pts_ns;
        pw_frame_release(&f);
    }
    cr_assert_eq(wraps, 2, "the recording should have started over twice");
    pw_capture_destroy(&cap);
    g_free(uri);
    g_free(path);
}

/* A recording cut short gives the frames it holds and then ends; no hang. */
Test(files, truncated_recording_ends_cleanly)
{
    char *path = make_recording("webm");
    char *bytes = NULL;
    gsize len = 0;
    cr_assert(g_file_get_contents(path, &bytes, &len, NULL));
    char *cut = g_strdup_printf("%s/cut.webm", dir);
    cr_assert(g_file_set_contents(cut, bytes, (gssize)(len / 2), NULL));
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, cut);
    pw_capture *cap = start(&cfg);
    int n = 0;
    int rc = tu_drain(cap, 20000, 10 * N, &n);
    cr_assert(rc == PW_EEOS || (rc < 0 && rc != -ETIMEDOUT), "ends with %s", pw_strerror(rc));
    cr_assert_gt(n, 0);
    cr_assert_lt(n, N, "half a file gave %d frames", n);
    pw_capture_destroy(&cap);
    g_free(bytes);
    g_free(cut);
    g_free(path);
}

/* Garbage in the middle of a recording: frames before it arrive, the end comes. */
Test(files, corrupt_recording_ends_cleanly)
{
    char *path = make_recording("avi");
    char *bytes = NULL;
    gsize len = 0;
    cr_assert(g_file_get_contents(path, &bytes, &len, NULL));
    for (gsize i = len / 3; i < len / 3 + len / 4; i++)
        bytes[i] = (char)(i * 131 + 7);
    char *bad = g_strdup_printf("%s/bad.avi", dir);
    cr_assert(g_file_set_contents(bad, bytes, (gssize)len, NULL));
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, bad);
    pw_capture *cap = start(&cfg);
    int n = 0;
    for (;;) {
        pw_frame *f = NULL;
        int rc = pw_capture_next(cap, 20000, &f, NULL);
        if (rc) {
            cr_assert(rc == PW_EEOS || (rc < 0 && rc != -ETIMEDOUT), "ends with %s",
                      pw_strerror(rc));
            break;
        }
        cr_assert_eq(pw_plane_check(&pw_frame_get_info(f)->grey), 0);
        pw_frame_release(&f);
        cr_assert_lt(++n, 4 * N);
    }
    cr_assert_gt(n, 0);
    pw_capture_destroy(&cap);
    g_free(bytes);
    g_free(bad);
    g_free(path);
}

/* The first frame of a GStreamer description, as its own pipeline delivers it. */
static GstSample *reference_sample(const char *desc)
{
    char *full = g_strdup_printf("%s ! appsink name=ref", desc);
    GstElement *pipe = gst_parse_launch(full, NULL);
    g_free(full);
    cr_assert_not_null(pipe);
    GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), "ref");
    gst_element_set_state(pipe, GST_STATE_PLAYING);
    GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND);
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(sink);
    gst_object_unref(pipe);
    cr_assert_not_null(s, "no reference frame from '%s'", desc);
    return s;
}

/*
 * A decoder's planar YUV reaches the reader as it comes: the grey plane is
 * the luma plane, value for value, whatever the stream's colour matrix.
 * Converted to GRAY8, BT.709 luma (720p H.264 and VP8) was re-derived from
 * all three planes, at a third of a lane's CPU.
 */
static void check_luma_is_the_grey_plane(const char *format)
{
    char *desc = g_strdup_printf("videotestsrc num-buffers=1 pattern=smpte ! "
                                 "video/x-raw,format=%s,width=64,height=48,colorimetry=bt709",
                                 format);
    GstSample *ref = reference_sample(desc);
    GstVideoInfo info;
    cr_assert(gst_video_info_from_caps(&info, gst_sample_get_caps(ref)));
    GstVideoFrame vf;
    cr_assert(gst_video_frame_map(&vf, &info, gst_sample_get_buffer(ref), GST_MAP_READ));
    pw_plane luma = {GST_VIDEO_FRAME_PLANE_DATA(&vf, 0), 64, 48,
                     GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 0), 1};
    char *source = g_strdup_printf("gst:%s", desc);
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, source);
    pw_capture *cap = start(&cfg);
    pw_frame *f = NULL;
    cr_assert_eq(pw_capture_next(cap, 20000, &f, NULL), 0);
    const pw_frame_info *fi = pw_frame_get_info(f);
    cr_assert_eq(tu_mad(&fi->grey, &luma), 0.0, "%s: the grey plane is not the luma (MAD %.2f)",
                 format, tu_mad(&fi->grey, &luma));
    pw_frame_release(&f);
    pw_capture_destroy(&cap);
    gst_video_frame_unmap(&vf);
    gst_sample_unref(ref);
    g_free(source);
    g_free(desc);
}

Test(files, planar_yuv_luma_is_the_grey_plane)
{
    gst_init(NULL, NULL);
    check_luma_is_the_grey_plane("I420");
    check_luma_is_the_grey_plane("NV12");
}

static void expect_no_start(const char *source, const char *reason_part)
{
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, source);
    cfg.start_timeout_ms = 15000;
    pw_capture *cap = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_capture_new(&cfg, &cap, &err), 0, "new: %s", err.msg);
    int rc = pw_capture_start(cap, &err);
    cr_assert_eq(rc, PW_ESOURCE, "'%s' started (%s)", source, pw_strerror(rc));
    cr_assert(strstr(err.msg, source), "the error names the source: %s", err.msg);
    if (reason_part)
        cr_assert(strcasestr(err.msg, reason_part), "reason '%s' missing: %s", reason_part,
                  err.msg);
    pw_capture_stats st;
    pw_capture_get_stats(cap, &st);
    cr_assert_eq(st.state, PW_CAPTURE_FAILED);
    pw_capture_destroy(&cap);
}

Test(files, file_that_is_not_video_cannot_start)
{
    char *txt = g_strdup_printf("%s/notes.webm", dir);
    cr_assert(g_file_set_contents(txt, "lane 3 camera notes, not a video\n", -1, NULL));
    expect_no_start(txt, "type");
    g_free(txt);
}

Test(files, missing_file_cannot_start)
{
    char *p = g_strdup_printf("%s/absent.webm", dir);
    expect_no_start(p, "no such file");
    g_free(p);
}

Test(files, missing_plugin_cannot_start)
{
    expect_no_start("gst:nosuchelement0 ! videoconvert", "nosuchelement0");
}

Test(files, missing_v4l2_device_cannot_start)
{
    expect_no_start("v4l2:///dev/video-pw-absent", "/dev/video-pw-absent");
}

Test(files, bad_descriptions_are_refused_at_new)
{
    const char *bad[] = {"", "ftp://example/x", "relative/path", "testsrc://bad pattern",
                         "v4l2://dev", "rtsp://127.0.0.1/\"x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        pw_capture_config cfg;
        pw_capture_config_defaults(&cfg, bad[i]);
        pw_capture *cap = NULL;
        pw_err err;
        pw_err_clear(&err);
        cr_assert_eq(pw_capture_new(&cfg, &cap, &err), PW_ECONFIG, "'%s' accepted", bad[i]);
        cr_assert_null(cap);
        cr_assert_neq(err.msg[0], '\0');
    }
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, "testsrc://");
    cfg.queue_depth = 0;
    pw_capture *cap = NULL;
    cr_assert_eq(pw_capture_new(&cfg, &cap, NULL), PW_ECONFIG);
}

static void write_stills(int n)
{
    for (int i = 0; i < n; i++) {
        pw_image *img = NULL;
        cr_assert_eq(tu_render(i, W, H, &img), 0);
        char *p = g_strdup_printf("%s/still_%03d.png", dir, i);
        pw_plane pl = pw_image_plane(img);
        cr_assert_eq(pw_cv_write_file(&pl, p, NULL), 0);
        g_free(p);
        pw_image_destroy(&img);
    }
}

static void check_stills(const char *source, int n)
{
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, source);
    cfg.want_bgr = 1;
    pw_capture *cap = start(&cfg);
    for (int i = 0; i < n; i++) {
        pw_frame *f = NULL;
        cr_assert_eq(pw_capture_next(cap, 20000, &f, NULL), 0, "still %d", i);
        const pw_frame_info *fi = pw_frame_get_info(f);
        pw_image *ref = NULL;
        cr_assert_eq(tu_render(i, W, H, &ref), 0);
        pw_plane rp = pw_image_plane(ref);
        cr_assert_lt(tu_mad(&fi->grey, &rp), 1.0, "still %d is not the rendered one", i);
        cr_assert_eq(fi->bgr.channels, 3);
        pw_image_destroy(&ref);
        pw_frame_release(&f);
    }
    pw_frame *f = NULL;
    cr_assert_eq(pw_capture_next(cap, 20000, &f, NULL), PW_EEOS);
    pw_capture_destroy(&cap);
}

Test(files, image_folder_in_name_order_skipping_others)
{
    write_stills(5);
    char *junk = g_strdup_printf("%s/still_002b.png", dir);
    cr_assert(g_file_set_contents(junk, "not a png", -1, NULL));
    char *txt = g_strdup_printf("%s/readme.txt", dir);
    cr_assert(g_file_set_contents(txt, "ignored", -1, NULL));
    check_stills(dir, 5);
    g_free(junk);
    g_free(txt);
}

Test(files, image_glob)
{
    write_stills(4);
    char *glob = g_strdup_printf("%s/still_*.png", dir);
    check_stills(glob, 4);
    g_free(glob);
}

Test(files, empty_glob_cannot_start)
{
    char *glob = g_strdup_printf("%s/none_*.jpg", dir);
    expect_no_start(glob, "no image files");
    g_free(glob);
}
