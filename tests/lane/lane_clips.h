/*
 * lane_clips.h - what the lane suites share: drive-by recordings made with
 * synth/, a lane on one of them, and a thread-safe log of what the lane's
 * callbacks received.
 *
 * Ownership: clip paths are new strings (g_free). A lane_log is owned by
 * the test; lane_log_clear() frees what it holds.
 */
#ifndef PW_LANE_CLIPS_H
#define PW_LANE_CLIPS_H

#include <glib.h>

#include "drive.h"
#include "lane.h"

/* What a lane handed to its callbacks. */
typedef struct {
    GMutex lock;
    uint64_t reads;         /* on_read calls */
    uint64_t news, updates, finals;
    uint64_t final_frames;  /* reads combined by every FINAL */
    GPtrArray *final_texts; /* consensus of each FINAL */
    GHashTable *open;       /* track ids with a NEW and no FINAL yet */
    uint64_t split_seq;     /* set by the test: reads of frames before it are counted apart */
    uint64_t reads_before_split;
} lane_log;

void lane_log_init(lane_log *log);
void lane_log_clear(lane_log *log);
/* A sink whose callbacks fill log. */
pw_lane_sink lane_log_sink(lane_log *log);

/*
 * Writes a WebM drive-by clip of the plates (comma-separated printed texts)
 * under dir; spec_edit may change the defaults of the suites (800x450,
 * 25 fps, 30 frames a passage) before it is written.
 */
gchar *lane_clip(const char *dir, const char *name, const char *plates, void (*spec_edit)(pw_drive_spec *));

/* The suites' drive-by defaults, before a test's spec_edit. */
void lane_clip_spec(pw_drive_spec *spec);

/* Frames in a clip of n passages made with spec. */
int lane_clip_frames(const pw_drive_spec *spec, size_t n);

/* The suites' lane: formats loaded from the models, every read reported (see lane_clips.c). */
void lane_test_config(pw_lane_config *cfg, const char *source, pw_formats **formats);

/* Waits until cond(stats) holds or timeout_s passes; returns the last stats. */
pw_lane_counters lane_wait_for(pw_lane *lane, int (*cond)(const pw_lane_counters *), int timeout_s);

/* Descriptors this process holds. */
int lane_count_fds(void);

#endif
