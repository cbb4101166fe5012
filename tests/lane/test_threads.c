/*
 * test_threads.c - the lane's threads and queues on recordings played as a
 * camera delivers them (pace = 1, so the queues drop under load):
 * stopping drains every read in flight, a full OCR queue drops frames and
 * counts them exactly, and a lane shut down with reads in flight loses no
 * event, leaks no descriptor and does not hang.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "lane_clips.h"
#include "pwtest.h"

static char *tmpdir;
static pw_formats *formats;

static void setup(void)
{
    tmpdir = pwtest_tmpdir("pw-lane-threads");
}

static void teardown(void)
{
    pw_formats_destroy(&formats);
    pwtest_rmtree(&tmpdir);
}

TestSuite(threads, .init = setup, .fini = teardown, .timeout = 300);

#define PLATES "AB-123-CD,WX-482-KL,GH-771-PT"

static int ocr_backlog(const pw_lane_counters *st)
{
    return st->ocr_queue_depth >= 2;
}

/*
 * These tests are about queues under load, so every frame's every candidate
 * is read: settling, motion gating, the ranking of boxes by their character
 * rows and a lane's single reading of a crop would take the load away, and
 * a fast machine's workers would then keep up and leave nothing queued to
 * test.
 */
static void read_every_frame(pw_lane_config *cfg)
{
    cfg->tracker.settle_reads = 0;
    cfg->motion_threshold = 0;
    cfg->read.stop_confidence = 0;
    cfg->read.rank_candidates = 0;
    cfg->ocr.plain_fallback = 1;
}

static pw_lane *start_lane(pw_lane_config *cfg, lane_log *log)
{
    read_every_frame(cfg);
    pw_lane_sink sink = lane_log_sink(log);
    pw_lane *lane = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_lane_new(cfg, &sink, &lane, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_lane_start(lane, &err), 0, "%s", err.msg);
    return lane;
}

/* Every read reached the tracker and a FINAL, and every NEW has its FINAL. */
static void assert_log_whole(lane_log *log)
{
    cr_assert_eq(log->final_frames, log->reads, "FINALs combine %lu reads of the %lu read",
                 (unsigned long)log->final_frames, (unsigned long)log->reads);
    cr_assert_eq(log->finals, log->news, "%lu NEW, %lu FINAL", (unsigned long)log->news,
                 (unsigned long)log->finals);
    cr_assert_eq(g_hash_table_size(log->open), 0, "a passage was reported NEW and never FINAL");
}

/* ... and the lane's counters agree with what its callbacks saw. */
static void assert_reconciled(lane_log *log, const pw_lane_counters *st)
{
    cr_assert_eq(log->reads, st->reads, "on_read calls %lu, reads counted %lu", (unsigned long)log->reads,
                 (unsigned long)st->reads);
    assert_log_whole(log);
}

static void fast_clip(pw_drive_spec *s)
{
    /* 50 fps of busy frames: one or two OCR workers cannot keep up, so frames queue for OCR. */
    s->fps = 50;
    s->frames_per_passage = 40;
}

Test(threads, stop_drains_every_read_in_flight)
{
    gchar *clip = lane_clip(tmpdir, "drain.webm", PLATES, fast_clip);
    gchar *uri = g_filename_to_uri(clip, NULL, NULL);
    pw_lane_config cfg;
    lane_test_config(&cfg, uri, &formats);
    cfg.capture.pace = 1;
    cfg.capture.loop = 1;
    cfg.ocr_workers = 1;
    cfg.ocr_queue = 8;
    lane_log log;
    lane_log_init(&log);
    pw_lane *lane = start_lane(&cfg, &log);
    pw_lane_counters at_stop = lane_wait_for(lane, ocr_backlog, 120);
    cr_assert_geq(at_stop.ocr_queue_depth, 2, "the OCR queue never held frames to drain");
    pw_lane_stop(lane);
    pw_lane_wait(lane);
    pw_lane_counters st;
    pw_lane_get_stats(lane, &st);
    cr_assert_eq(st.ocr_queue_depth, 0, "frames left in the OCR queue");
    /* Every frame queued for OCR was read: OCR ran once per queued frame, none lost at stop. */
    cr_assert_eq(st.ocr.samples, st.ocr_frames, "OCR ran on %lu of %lu queued frames",
                 (unsigned long)st.ocr.samples, (unsigned long)st.ocr_frames);
    cr_assert_geq(st.ocr_frames, at_stop.ocr_frames);
    cr_assert_gt(st.ocr.samples, at_stop.ocr.samples + 1, "the queued frames were read after the stop");
    cr_assert_gt(log.reads, 0, "the plates were read");
    assert_reconciled(&log, &st);
    pw_lane_destroy(&lane);
    lane_log_clear(&log);
    g_free(uri), g_free(clip);
}

Test(threads, a_full_ocr_queue_drops_frames_and_counts_them_exactly)
{
    gchar *clip = lane_clip(tmpdir, "drops.webm", PLATES, fast_clip);
    gchar *uri = g_filename_to_uri(clip, NULL, NULL);
    pw_drive_spec spec;
    lane_clip_spec(&spec);
    fast_clip(&spec);
    int total = lane_clip_frames(&spec, 3);
    pw_lane_config cfg;
    lane_test_config(&cfg, uri, &formats);
    cfg.capture.pace = 1;
    cfg.ocr_workers = 1;
    cfg.ocr_queue = 1;
    lane_log log;
    lane_log_init(&log);
    pw_lane *lane = start_lane(&cfg, &log);
    pw_lane_wait(lane); /* the recording ends and the lane drains */
    pw_lane_counters st;
    pw_lane_get_stats(lane, &st);
    cr_assert_str_eq(st.capture_state, "ended", "%s", st.last_error);
    cr_assert_eq(st.frames_in, (uint64_t)total, "the capture saw %lu of the clip's %d frames",
                 (unsigned long)st.frames_in, total);
    cr_assert_eq(st.frames_done + st.capture_dropped, st.frames_in,
                 "%lu localised + %lu dropped by the capture != %lu frames", (unsigned long)st.frames_done,
                 (unsigned long)st.capture_dropped, (unsigned long)st.frames_in);
    /* Frames with no motion since the last search are counted apart: their search is skipped. */
    cr_assert_eq(st.detect.samples + st.frames_still, st.frames_done,
                 "the localiser ran once per frame counted and not still (%lu still)", (unsigned long)st.frames_still);
    cr_assert_gt(st.ocr_frames_dropped, 0, "one worker kept up with 50 fps: nothing was dropped");
    cr_assert_eq(st.frames_without_candidates + st.ocr_frames + st.ocr_frames_dropped, st.frames_done,
                 "%lu empty + %lu read + %lu dropped != %lu localised", (unsigned long)st.frames_without_candidates,
                 (unsigned long)st.ocr_frames, (unsigned long)st.ocr_frames_dropped, (unsigned long)st.frames_done);
    cr_assert_eq(st.ocr.samples, st.ocr_frames, "every frame not dropped was read");
    cr_assert_geq(st.ocr_dropped, st.ocr_frames_dropped, "each dropped frame had at least one crop");
    assert_reconciled(&log, &st);
    pw_lane_destroy(&lane);
    lane_log_clear(&log);
    g_free(uri), g_free(clip);
}

Test(threads, shutdown_with_reads_in_flight_loses_nothing_and_leaks_nothing)
{
    gchar *clip = lane_clip(tmpdir, "shutdown.webm", PLATES, fast_clip);
    gchar *uri = g_filename_to_uri(clip, NULL, NULL);
    int fds_after_first = 0;
    for (int round = 0; round < 4; round++) {
        pw_lane_config cfg;
        lane_test_config(&cfg, uri, &formats);
        /*
         * Unpaced: two workers kept up with the clip's 50 fps once the lane
         * got cheaper (1 round in 4 found no backlog within 120 s), and this
         * test needs reads in flight when it stops.
         */
        cfg.capture.pace = 0;
        cfg.capture.loop = 1;
        cfg.ocr_workers = 2;
        cfg.ocr_queue = 6;
        lane_log log;
        lane_log_init(&log);
        pw_lane *lane = start_lane(&cfg, &log);
        pw_lane_counters at_stop = lane_wait_for(lane, ocr_backlog, 120);
        cr_assert_geq(at_stop.ocr_queue_depth, 2, "round %d: no reads in flight", round);
        /*
         * Odd rounds destroy at once (stop, drain and free in one call), even
         * rounds stop and wait first to read the counters. Either returns once
         * drained: the suite's timeout is the limit for a hang.
         */
        if (round % 2) {
            pw_lane_destroy(&lane);
            cr_assert_null(lane);
            assert_log_whole(&log);
        } else {
            pw_lane_stop(lane);
            pw_lane_wait(lane);
            pw_lane_counters st;
            pw_lane_get_stats(lane, &st);
            pw_lane_destroy(&lane);
            cr_assert_eq(st.ocr_queue_depth, 0, "round %d: frames left in the OCR queue", round);
            cr_assert_eq(st.ocr.samples, st.ocr_frames, "round %d: queued frames not read", round);
            assert_reconciled(&log, &st);
        }
        lane_log_clear(&log);
        pw_formats_destroy(&formats);
        int fds = lane_count_fds();
        if (round == 0)
            fds_after_first = fds;
        else
            cr_assert_leq(fds, fds_after_first, "round %d: %d descriptors, %d after the first round", round,
                          fds, fds_after_first);
    }
    g_free(uri), g_free(clip);
}
