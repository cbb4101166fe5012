/*
 * test_live.c - live sources: the latest-frame-wins queue with a slow
 * consumer, and an RTSP camera on loopback (a helper process running
 * gst-rtsp-server) that goes away mid-stream and comes back.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <glib.h>

#include "testutil.h"

/* The RTSP helper of the running test, killed by the fixture even when an
 * assertion ends the test early, so that no helper outlives its test. */
static GPid server_pid;

static void kill_server(GPid pid);

static void fini(void)
{
    if (server_pid)
        kill_server(server_pid);
}

TestSuite(live, .timeout = 120, .fini = fini);

static pw_capture *start(const pw_capture_config *cfg)
{
    pw_capture *cap = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_capture_new(cfg, &cap, &err), 0, "new: %s", err.msg);
    cr_assert_eq(pw_capture_start(cap, &err), 0, "start: %s", err.msg);
    return cap;
}

static void assert_accounting(pw_capture *cap)
{
    pw_capture_stats st;
    pw_capture_get_stats(cap, &st);
    cr_assert_eq(st.frames, st.delivered + st.dropped + (uint64_t)st.queued,
                 "frames %llu != delivered %llu + dropped %llu + queued %d",
                 (unsigned long long)st.frames, (unsigned long long)st.delivered,
                 (unsigned long long)st.dropped, st.queued);
}

Test(live, testsrc_frames_carry_geometry_and_times)
{
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, "testsrc://smpte");
    cfg.width = 160;
    cfg.height = 120;
    cfg.want_bgr = 1;
    pw_capture *cap = start(&cfg);
    uint64_t prev = 0;
    for (int i = 0; i < 10; i++) {
        pw_frame *f = NULL;
        cr_assert_eq(pw_capture_next(cap, 10000, &f, NULL), 0);
        const pw_frame_info *fi = pw_frame_get_info(f);
        cr_assert_eq(fi->grey.width, 160);
        cr_assert_eq(fi->grey.height, 120);
        cr_assert_eq(fi->bgr.channels, 3);
        cr_assert_geq(fi->pts_ns, 0);
        if (i)
            cr_assert_gt(fi->seq, prev);
        prev = fi->seq;
        int64_t now = g_get_real_time() * 1000;
        cr_assert_lt(llabs(now - fi->realtime_ns), 10LL * 1000000000LL);
        pw_frame_release(&f);
    }
    pw_capture_stats st;
    pw_capture_get_stats(cap, &st);
    cr_assert_eq(st.state, PW_CAPTURE_RUNNING);
    pw_capture_destroy(&cap);
}

/* A consumer slower than the camera gets the newest frames; the rest are
 * dropped, counted, and never held: at most queue_depth wait. */
Test(live, slow_consumer_drops_oldest_and_counts)
{
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, "testsrc://");
    cfg.width = 160;
    cfg.height = 120;
    cfg.fps_num = 100;
    cfg.fps_den = 1;
    cfg.queue_depth = 2;
    pw_capture *cap = start(&cfg);
    uint64_t prev = 0, gaps = 0;
    int got = 0;
    for (int i = 0; i < 12; i++) {
        g_usleep(60000);
        pw_capture_stats st;
        pw_capture_get_stats(cap, &st);
        cr_assert_leq(st.queued, 2, "the queue holds %d frames", st.queued);
        pw_frame *f = NULL;
        cr_assert_eq(pw_capture_next(cap, 10000, &f, NULL), 0);
        uint64_t seq = pw_frame_get_info(f)->seq;
        if (got++)
            gaps += seq - prev - 1;
        prev = seq;
        pw_frame_release(&f);
    }
    pw_capture_stats st;
    pw_capture_get_stats(cap, &st);
    cr_assert_gt(st.dropped, 0);
    cr_assert_gt(gaps, 0, "sequence gaps show the drops");
    cr_assert_leq(gaps, st.dropped);
    assert_accounting(cap);
    pw_capture_destroy(&cap);
}

/* A recording played at its own rate behaves like a camera: drops, no waits. */
Test(live, paced_recording_behaves_like_a_camera)
{
    char *dir = tu_tmpdir();
    char *path = g_strdup_printf("%s/paced.avi", dir);
    cr_assert_eq(tu_write_recording(path, "avi", 30, 160, 120, 30), 0);
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, path);
    cfg.pace = 1;
    cfg.queue_depth = 1;
    pw_capture *cap = start(&cfg);
    g_usleep(500000);
    int n = 0;
    int rc = tu_drain(cap, 10000, 1000, &n);
    cr_assert_eq(rc, PW_EEOS);
    pw_capture_stats st;
    pw_capture_get_stats(cap, &st);
    cr_assert_gt(st.dropped, 0, "frames that came while nobody read were dropped");
    cr_assert_eq(st.frames, 30);
    cr_assert_eq(st.frames, st.delivered + st.dropped);
    pw_capture_destroy(&cap);
    tu_rmtree(dir);
    g_free(dir);
    g_free(path);
}

Test(live, stop_wakes_a_waiting_consumer)
{
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, "testsrc://");
    cfg.width = 160;
    cfg.height = 120;
    pw_capture *cap = start(&cfg);
    pw_capture_stop(cap);
    pw_frame *f = NULL;
    cr_assert_eq(pw_capture_next(cap, 10000, &f, NULL), -ECANCELED);
    pw_capture_stop(cap);
    pw_capture_destroy(&cap);
    pw_capture_destroy(&cap);
}

/* ---- RTSP ---------------------------------------------------------------- */

static GPid start_server(int port)
{
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    char *argv[] = {(char *)PW_RTSP_HELPER, portstr, (char *)"320x240", (char *)"15", NULL};
    GPid pid = 0;
    GError *e = NULL;
    cr_assert(g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, &e),
              "cannot run the RTSP helper: %s", e ? e->message : "?");
    server_pid = pid;
    cr_assert(tu_wait_port(port, 20000), "the RTSP helper never listened on %d", port);
    return pid;
}

static void kill_server(GPid pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    g_spawn_close_pid(pid);
    server_pid = 0;
}

static uint64_t read_frames(pw_capture *cap, int n)
{
    uint64_t seq = 0;
    for (int i = 0; i < n; i++) {
        pw_frame *f = NULL;
        cr_assert_eq(pw_capture_next(cap, 10000, &f, NULL), 0, "frame %d", i);
        cr_assert_eq(pw_frame_get_info(f)->grey.width, 320);
        seq = pw_frame_get_info(f)->seq;
        pw_frame_release(&f);
    }
    return seq;
}

Test(live, rtsp_camera_lost_and_back_resumes_within_5s)
{
    int port = tu_free_port();
    GPid pid = start_server(port);
    char *uri = g_strdup_printf("rtsp://127.0.0.1:%d/cam", port);
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, uri);
    cfg.stall_timeout_ms = 1500;
    cfg.backoff_initial_ms = 100;
    cfg.backoff_max_ms = 1000;
    pw_capture *cap = start(&cfg);
    uint64_t last = read_frames(cap, 10);

    kill_server(pid);
    /* While the camera is away the consumer only sees timeouts. */
    gint64 away_until = g_get_monotonic_time() + 2500000;
    while (g_get_monotonic_time() < away_until) {
        pw_frame *f = NULL;
        int rc = pw_capture_next(cap, 200, &f, NULL);
        if (rc == 0) {
            last = pw_frame_get_info(f)->seq; /* frames already in flight */
            pw_frame_release(&f);
        } else {
            cr_assert_eq(rc, -ETIMEDOUT);
        }
    }
    pw_capture_stats st;
    pw_capture_get_stats(cap, &st);
    cr_assert_eq(st.state, PW_CAPTURE_RECOVERING, "state %s", pw_capture_state_name(st.state));
    cr_assert_neq(st.last_error[0], '\0');

    pid = start_server(port);
    gint64 back = g_get_monotonic_time();
    pw_frame *f = NULL;
    cr_assert_eq(pw_capture_next(cap, 30000, &f, NULL), 0, "no frame after the camera returned");
    double waited_s = (double)(g_get_monotonic_time() - back) / 1e6;
    cr_assert_lt(waited_s, 5.0, "capture resumed after %.1f s", waited_s);
    cr_assert_gt(pw_frame_get_info(f)->seq, last, "sequence numbers continue");
    pw_frame_release(&f);
    read_frames(cap, 5);
    pw_capture_get_stats(cap, &st);
    cr_assert_geq(st.restarts, 1);
    cr_assert_eq(st.state, PW_CAPTURE_RUNNING);
    assert_accounting(cap);
    pw_capture_destroy(&cap);
    kill_server(pid);
    g_free(uri);
}

Test(live, unreachable_rtsp_host_cannot_start)
{
    /* A closed loopback port: nothing listens, the connection is refused. */
    int port = tu_free_port();
    char *uri = g_strdup_printf("rtsp://127.0.0.1:%d/cam", port);
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, uri);
    pw_capture *cap = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_capture_new(&cfg, &cap, &err), 0);
    cr_assert_eq(pw_capture_start(cap, &err), PW_ESOURCE);
    cr_assert(strstr(err.msg, uri), "the error names the source: %s", err.msg);
    pw_capture_destroy(&cap);
    g_free(uri);
}

/* A live gst: pipeline is recognised as live (no preroll); when it ends it
 * is restarted like a camera, with the sequence continuing. */
Test(live, live_gst_pipeline_that_ends_is_restarted)
{
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, "gst:videotestsrc is-live=true num-buffers=15 "
                                     "! video/x-raw,width=64,height=48,framerate=50/1");
    cfg.backoff_initial_ms = 50;
    cfg.backoff_max_ms = 100;
    cfg.queue_depth = 64;
    pw_capture *cap = start(&cfg);
    uint64_t prev = 0;
    for (int i = 0; i < 40; i++) {
        pw_frame *f = NULL;
        cr_assert_eq(pw_capture_next(cap, 10000, &f, NULL), 0, "frame %d", i);
        uint64_t seq = pw_frame_get_info(f)->seq;
        if (i)
            cr_assert_gt(seq, prev);
        prev = seq;
        pw_frame_release(&f);
    }
    pw_capture_stats st;
    pw_capture_get_stats(cap, &st);
    cr_assert_geq(st.restarts, 2, "40 frames from 15-frame runs need restarts");
    assert_accounting(cap);
    pw_capture_destroy(&cap);
}

/* A frame holds its mapped buffer: it stays readable after its capture is gone. */
Test(live, frame_outlives_its_capture)
{
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, "testsrc://");
    cfg.width = 160;
    cfg.height = 120;
    cfg.want_bgr = 1;
    pw_capture *cap = start(&cfg);
    pw_frame *f = NULL;
    cr_assert_eq(pw_capture_next(cap, 10000, &f, NULL), 0);
    pw_capture_destroy(&cap);
    const pw_frame_info *fi = pw_frame_get_info(f);
    unsigned sum = 0;
    for (int y = 0; y < fi->grey.height; y++)
        for (int x = 0; x < fi->grey.width; x++)
            sum += *pw_plane_at(&fi->grey, x, y) + pw_plane_at(&fi->bgr, x, y)[2];
    cr_assert_gt(sum, 0);
    pw_frame_release(&f);
}
