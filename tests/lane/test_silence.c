/*
 * test_silence.c - a passage ends after final_after_ms of silence measured
 * over frames the lane looked at: frames that reach it late (a camera or
 * decoder that stalls mid-passage) are not a silence, so one vehicle stays
 * one vehicle.final. A camera that stops for good still ends its passages.
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
    tmpdir = pwtest_tmpdir("pw-lane-silence");
}

static void teardown(void)
{
    pw_formats_destroy(&formats);
    pwtest_rmtree(&tmpdir);
}

TestSuite(silence, .init = setup, .fini = teardown, .timeout = 300);

/* Halfway through the passage, the frames arrive 1.5 s late (longer than final_after_ms). */
static void stall_mid_passage(pw_drive_spec *s)
{
    s->stall_frame = s->gap_frames + s->frames_per_passage / 2;
    s->stall_ms = 1500;
}

/* The suites' spec (lane_clips.c) with the test's change, to know where the stall is. */
static void suite_spec_for_test(pw_drive_spec *spec, void (*spec_edit)(pw_drive_spec *))
{
    lane_clip_spec(spec);
    if (spec_edit)
        spec_edit(spec);
}

static void run_one_plate(void (*spec_edit)(pw_drive_spec *), lane_log *log)
{
    gchar *clip = lane_clip(tmpdir, "stall.webm", "AB-123-CD", spec_edit);
    gchar *uri = g_filename_to_uri(clip, NULL, NULL);
    pw_lane_config cfg;
    lane_test_config(&cfg, uri, &formats);
    cfg.capture.pace = 1; /* as a camera delivers it: the tracker runs on the monotonic clock */
    /* The daemon's own thresholds, so that a single stray read is no passage. */
    cfg.tracker.new_min_frames = 2;
    cfg.tracker.new_min_confidence = 0;
    pw_lane_sink sink = lane_log_sink(log);
    pw_lane *lane = NULL;
    pw_err err = {0};
    pw_drive_spec spec;
    suite_spec_for_test(&spec, spec_edit);
    log->split_seq = spec.stall_ms > 0 ? (uint64_t)spec.stall_frame : UINT64_MAX;
    cr_assert_eq(pw_lane_new(&cfg, &sink, &lane, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_lane_start(lane, &err), 0, "%s", err.msg);
    pw_lane_wait(lane);
    pw_lane_destroy(&lane);
    g_free(uri), g_free(clip);
}

Test(silence, frames_delayed_mid_passage_stay_one_vehicle)
{
    lane_log log;
    lane_log_init(&log);
    run_one_plate(stall_mid_passage, &log);
    GString *texts = g_string_new(NULL);
    for (guint i = 0; i < log.final_texts->len; i++)
        g_string_append_printf(texts, " %s", (char *)g_ptr_array_index(log.final_texts, i));
    cr_assert_eq(log.finals, 1, "one passage gave %lu vehicle.final:%s", (unsigned long)log.finals, texts->str);
    cr_assert_str_eq(g_ptr_array_index(log.final_texts, 0), "AB123CD");
    uint64_t after = log.reads - log.reads_before_split;
    cr_assert_gt(log.reads_before_split, 0, "the plate was read before the stall");
    cr_assert_gt(after, 0, "the plate was read after the stall");
    /* Split at the stall, the one FINAL would combine at most the reads before it. */
    cr_assert_gt(log.final_frames, log.reads_before_split,
                 "the FINAL combines %lu reads, %lu of them before the stall and %lu after",
                 (unsigned long)log.final_frames, (unsigned long)log.reads_before_split, (unsigned long)after);
    g_string_free(texts, TRUE);
    lane_log_clear(&log);
}

Test(silence, the_same_clip_without_a_stall_is_one_vehicle_too)
{
    lane_log log;
    lane_log_init(&log);
    run_one_plate(NULL, &log);
    cr_assert_eq(log.finals, 1);
    cr_assert_str_eq(g_ptr_array_index(log.final_texts, 0), "AB123CD");
    lane_log_clear(&log);
}

/* Right after the passage the camera sends nothing for 20 s. */
static void long_stall_after_passage(pw_drive_spec *s)
{
    s->stall_frame = s->gap_frames + s->frames_per_passage + 2;
    s->stall_ms = 20000;
}

Test(silence, a_camera_that_stops_still_ends_the_passage)
{
    gchar *clip = lane_clip(tmpdir, "gone.webm", "AB-123-CD", long_stall_after_passage);
    gchar *uri = g_filename_to_uri(clip, NULL, NULL);
    pw_lane_config cfg;
    lane_test_config(&cfg, uri, &formats);
    cfg.capture.pace = 1;
    cfg.capture.stall_timeout_ms = 1000;
    cfg.tracker.new_min_frames = 2;
    cfg.tracker.new_min_confidence = 0;
    lane_log log;
    lane_log_init(&log);
    pw_lane_sink sink = lane_log_sink(&log);
    pw_lane *lane = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_lane_new(&cfg, &sink, &lane, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_lane_start(lane, &err), 0, "%s", err.msg);
    pw_drive_spec spec;
    suite_spec_for_test(&spec, long_stall_after_passage);
    uint64_t before_stall = (uint64_t)spec.stall_frame;
    uint64_t finals = 0;
    pw_lane_counters st;
    gint64 end = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    do {
        g_usleep(20000);
        g_mutex_lock(&log.lock);
        finals = log.finals;
        g_mutex_unlock(&log.lock);
        pw_lane_get_stats(lane, &st);
    } while (finals == 0 && g_get_monotonic_time() < end);
    cr_assert_eq(finals, 1, "the passage ended while the camera was silent");
    cr_assert_leq(st.frames_in, before_stall, "frames after the stall had already come (%lu)",
                  (unsigned long)st.frames_in);
    pw_lane_destroy(&lane);
    lane_log_clear(&log);
    g_free(uri), g_free(clip);
}

/* One plate read offline with settling as configured; fills the lane's counters. */
static void run_settling(int settle_reads, lane_log *log, pw_lane_counters *st)
{
    gchar *clip = lane_clip(tmpdir, "settle.webm", "AB-123-CD", NULL);
    gchar *uri = g_filename_to_uri(clip, NULL, NULL);
    pw_lane_config cfg;
    lane_test_config(&cfg, uri, &formats);
    cfg.tracker.settle_reads = settle_reads;
    pw_lane_sink sink = lane_log_sink(log);
    pw_lane *lane = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_lane_new(&cfg, &sink, &lane, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_lane_start(lane, &err), 0, "%s", err.msg);
    pw_lane_wait(lane);
    pw_lane_get_stats(lane, st);
    pw_lane_destroy(&lane);
    pw_formats_destroy(&formats);
    g_free(uri), g_free(clip);
}

Test(silence, a_settled_plate_is_read_on_few_frames_and_stays_one_vehicle)
{
    lane_log log;
    lane_log_init(&log);
    pw_lane_counters st;
    run_settling(3, &log, &st);
    pw_drive_spec spec;
    lane_clip_spec(&spec);
    cr_assert_eq(log.finals, 1, "one passage gave %lu vehicle.final", (unsigned long)log.finals);
    cr_assert_str_eq(g_ptr_array_index(log.final_texts, 0), "AB123CD");
    cr_assert_gt(st.candidates_skipped, 0);
    cr_assert_lt(log.reads, (uint64_t)spec.frames_per_passage / 2, "%lu reads of %d frames with the plate",
                 (unsigned long)log.reads, spec.frames_per_passage);
    lane_log_clear(&log);
}

Test(silence, without_settling_every_frame_with_the_plate_is_read)
{
    lane_log log;
    lane_log_init(&log);
    pw_lane_counters st;
    run_settling(0, &log, &st);
    pw_drive_spec spec;
    lane_clip_spec(&spec);
    cr_assert_eq(log.finals, 1);
    cr_assert_geq(log.reads, (uint64_t)spec.frames_per_passage * 3 / 4, "%lu reads", (unsigned long)log.reads);
    lane_log_clear(&log);
}
