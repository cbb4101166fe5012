/*
 * lane.h - the per-lane pipeline shared by the daemon and the offline
 * benchmark: capture -> localiser -> pool of OCR workers -> tracker ->
 * vehicle events.
 *
 * Threads and queues: one thread takes frames from the capture (whose own
 * latest-frame-wins queue drops frames when this thread falls behind) and
 * runs the localiser; it copies a frame's best candidate crops (and the
 * whole frame when it is a plate crop, as pw_whole_frame_candidate says) into one job
 * it hands to a GThreadPool of OCR workers, the job owned by the queue
 * until a worker takes it. The pool's queue is bounded: a frame that finds
 * it full is dropped and its crops counted. A worker merges the reads of
 * one plate from overlapping candidates (pw_plates_merge) before tracking. Workers borrow one Tesseract engine each from a
 * pool of engines, and pass their reads to the tracker thread, which owns
 * the tracker and calls the event callback. Nothing queues without bound.
 *
 * Ownership: pw_lane_new() copies the configuration's strings; the formats
 * are borrowed and must outlive the lane. Events handed to the callback
 * are borrowed for the duration of the call. pw_lane_destroy() stops the
 * lane, waits for its threads and frees everything, nulling the pointer.
 */
#ifndef PW_LANE_H
#define PW_LANE_H

#include "capture.h"
#include "detect.h"
#include "ocr.h"
#include "reader.h"
#include "track.h"
#include "pw_metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PW_LANE_MAX_COUNTRIES 16

typedef struct {
    const char *name;                 /* lane id, e.g. "l01" */
    const char *camera;               /* camera id */
    pw_capture_config capture;        /* source and its timing */
    pw_detect_config detect;          /* localiser, region of interest */
    pw_ocr_config ocr;                /* Tesseract model */
    const pw_formats *formats;        /* borrowed */
    char countries[PW_LANE_MAX_COUNTRIES][PW_COUNTRY_MAX];
    size_t n_countries;
    int ocr_workers;                  /* threads, one Tesseract each (at least 1) */
    int ocr_queue;                    /* frames waiting for OCR at most (at least 1) */
    /*
     * How each frame's candidates are read (reader.h): the settings of
     * pw_read_candidates(), the routine `platewatch read` uses too, so that
     * what is measured on photographs is what a lane does. The defaults are
     * the reader's but for rank_candidates and the OCR's plain_fallback
     * (pw_lane_config_defaults says why).
     */
    pw_read_settings read;
    int jpeg_crops;                   /* 1 encodes the crop of each read as JPEG */
    /*
     * OpenCV Haar cascade file used INSTEAD of the platewatch localiser, as
     * the baseline in benchmarks; NULL (the default) uses the localiser.
     */
    const char *haar_cascade;
    /*
     * Settling (track.h): tracker.settle_reads, reread_frames and
     * reread_size_change decide which candidates on a settled passage are
     * not read; pw_tracker_seen() keeps such a passage present meanwhile.
     */
    pw_tracker_config tracker;
    /*
     * Motion gating (motion.h): a frame whose region of interest differs
     * from the last frame searched by no more than motion_threshold grey
     * levels is not searched, the last search's candidates standing for it;
     * on any frame a candidate on no passage whose cells did not change
     * since the last search is not read (the same pixels gave nothing).
     * Candidates on a passage are read (or, settled, kept present). 0 turns
     * gating off. Every motion_refresh frames the frame is searched and
     * every candidate read, whatever the motion.
     */
    int motion_threshold;
    int motion_refresh;
} pw_lane_config;

/*
 * Fills cfg with the pipeline's defaults for the given source (borrowed):
 * the one place they are written (the daemon's settings table and its
 * reference, docs/settings.md, take them from here).
 */
void pw_lane_config_defaults(pw_lane_config *cfg, const char *source);

/* One plate read on one frame, before tracking (for frame-level accuracy). */
typedef struct {
    uint64_t frame_seq;
    int64_t pts_ns;
    const char *text;
    float confidence;
    float corners[4][2];
} pw_lane_read;

typedef struct {
    /* Called from the tracker thread for every NEW, UPDATE and FINAL. */
    void (*on_event)(const pw_track_event *ev, void *user);
    /* Optional: called from an OCR worker for every accepted read. */
    void (*on_read)(const pw_lane_read *read, void *user);
    void *user;
} pw_lane_sink;

/* Latency summary of one stage over the recent samples. */
typedef struct {
    double p50_ms, p95_ms, p99_ms;
    uint64_t samples;
} pw_lane_latency;

typedef struct {
    uint64_t frames_in;       /* frames the capture produced */
    uint64_t frames_done;     /* frames the localiser processed; at every moment
                                 frames_done == frames_without_candidates + ocr_frames
                                 + ocr_frames_dropped */
    uint64_t frames_without_candidates; /* frames the localiser found nothing to read on */
    uint64_t ocr_frames;      /* frames whose crops were queued for OCR */
    uint64_t ocr_frames_dropped; /* frames whose crops found the OCR queue full */
    uint64_t capture_dropped; /* frames the capture queue dropped (consumer behind) */
    uint64_t ocr_dropped;     /* crops of the frames dropped because the OCR queue was full */
    uint64_t candidates;      /* crops sent to OCR */
    uint64_t candidates_skipped; /* ranked candidates not read: on a settled passage, or no passage on a still frame */
    uint64_t frames_still;    /* frames not searched: no motion since the last search (motion_threshold) */
    uint64_t reads;           /* reads accepted for tracking */
    uint64_t events;          /* vehicle events emitted */
    uint64_t reconnects;      /* capture restarts */
    int ocr_queue_depth, ocr_queue_capacity;
    pw_lane_latency detect, ocr;
    pw_lane_latency capture_to_event; /* frame capture to NEW/UPDATE emitted (FINAL waits by design) */
    pw_histogram ocr_hist, event_hist; /* the same two stages since start, seconds (/metrics) */
    int64_t last_frame_us;    /* monotonic time the localiser last got a frame, 0 = never */
    double cpu_ms_per_frame;  /* process CPU time per processed frame so far */
    char capture_state[16];
    int64_t last_frame_real_ns; /* CLOCK_REALTIME of the newest frame, 0 before any */
    char last_error[256];
} pw_lane_counters;

typedef struct pw_lane pw_lane;

/* Checks the configuration and creates the engines; nothing runs yet. */
int pw_lane_new(const pw_lane_config *cfg, const pw_lane_sink *sink, pw_lane **out, pw_err *err);

/*
 * Starts the source (waiting for its first frame) and the threads. When the
 * source cannot start, the lane stays as it was and pw_lane_start() may be
 * called again later (the capture is made anew, so a camera that comes back
 * is taken). pw_lane_get_stats() must not run while pw_lane_start() does.
 */
int pw_lane_start(pw_lane *lane, pw_err *err);

/* Asks the lane to stop: capture stops, queued work drains, FINALs are emitted. */
void pw_lane_stop(pw_lane *lane);

/* Waits until the lane has drained (a recording ended, or after stop); returns 0. */
int pw_lane_wait(pw_lane *lane);

/* Non-blocking: 1 when the lane has finished draining. */
int pw_lane_finished(pw_lane *lane);

void pw_lane_get_stats(pw_lane *lane, pw_lane_counters *st);

/* Stops, drains, and frees; accepts NULL and *lane == NULL, nulls *lane. */
void pw_lane_destroy(pw_lane **lane);

#ifdef __cplusplus
}
#endif

#endif
