/*
 * capture.h - frames from cameras, streams and recordings.
 *
 * A pw_capture turns a URI-like source description into a stream of 8-bit
 * frames handed to one consumer thread through a small bounded queue:
 *
 *   v4l2:///dev/video0          V4L2 camera through GStreamer (v4l2src)
 *   v4l2direct:///dev/video0    V4L2 camera through libv4l2, no GStreamer
 *   rtsp://host[:port]/path     IP camera (RTSP over TCP, rtspsrc)
 *   file:///path/video.webm     recording, any container decodebin handles
 *   /path/folder, /path/img_?.png  a folder or glob of still images, in name order
 *   testsrc://[pattern]         GStreamer test pattern (videotestsrc, live)
 *   gst:<pipeline>              raw GStreamer description producing raw video;
 *                               the module appends the conversion and appsink
 *
 * Live sources (cameras, RTSP, testsrc, live gst: pipelines, and recordings
 * played with pace = 1) use a latest-frame-wins queue: when the consumer
 * falls behind, the oldest queued frame is dropped and counted, so memory
 * never grows and the consumer always gets the newest picture. Recordings
 * and image folders are not live: the queue blocks the producer instead, so
 * an offline run sees every frame.
 *
 * A live source that errors, stalls (no frame for stall_timeout_ms) or ends
 * is restarted with exponential backoff; each state change is logged once
 * (g_message, domain "pw-capture"). A recording ends with PW_EEOS, or loops.
 * pw_capture_start() fails with PW_ESOURCE and a sentence naming the source
 * and the reason when the first attempt cannot produce a frame.
 *
 * Threads: pw_capture_next() is called from one consumer thread while the
 * producer runs; pw_frame_release() and pw_capture_get_stats() from any
 * thread. new/start/stop/destroy belong to the owning thread (stop may be
 * called while the consumer waits in pw_capture_next(), which it wakes).
 *
 * Ownership: the configuration is copied by pw_capture_new(); the caller
 * keeps its strings. A pw_capture is owned by its creator and freed with
 * pw_capture_destroy(), which stops it first. Each pw_frame returned by
 * pw_capture_next() is owned by the caller until pw_frame_release(): the
 * planes it describes stay valid until then (for GStreamer sources they
 * point into the mapped GstBuffer, which the frame holds, so no copy is
 * made for the grey plane). A frame may outlive its pw_capture.
 */
#ifndef PW_CAPTURE_H
#define PW_CAPTURE_H

#include <stdint.h>

#include "pw_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pw_capture pw_capture;
typedef struct pw_frame pw_frame;

typedef struct {
    const char *source;    /* URI-like description, see above */
    int want_bgr;          /* 1 also delivers the BGR colour frame (for crops) */
    int width, height;     /* requested size, 0 = the source's own */
    int fps_num, fps_den;  /* requested frame rate (cameras, testsrc), 0 = source's own */
    int queue_depth;       /* frames held for the consumer, >= 1 (default 2) */
    int live;              /* -1 decide from the source (default), 0 recorded, 1 live */
    int pace;              /* 1 plays recordings at their own rate, as a camera would */
    int loop;              /* 1 restarts a recording at its end instead of PW_EEOS */
    int start_timeout_ms;  /* first frame must come within this (default 10000) */
    int stall_timeout_ms;  /* live: no frame for this long means a restart (default 3000) */
    int backoff_initial_ms;/* first wait before a restart (default 200) */
    int backoff_max_ms;    /* longest wait between restarts (default 2000) */
} pw_capture_config;

/* Fills cfg with the defaults above for source (borrowed, not copied). */
void pw_capture_config_defaults(pw_capture_config *cfg, const char *source);

/* What a frame carries. Planes are views valid until pw_frame_release(). */
typedef struct {
    pw_plane grey;          /* 8-bit grey, always present */
    pw_plane bgr;           /* 8-bit BGR when want_bgr, else data == NULL */
    uint64_t seq;           /* per-source sequence number from 0, continues across restarts;
                               a gap means frames were dropped */
    int64_t pts_ns;         /* stream timestamp, -1 when the source gave none */
    int64_t realtime_ns;    /* CLOCK_REALTIME when the frame reached this module */
    int64_t monotonic_ns;   /* CLOCK_MONOTONIC at the same instant */
} pw_frame_info;

const pw_frame_info *pw_frame_get_info(const pw_frame *f);
/* Releases the frame and its buffer; accepts NULL and *f == NULL, nulls *f. */
void pw_frame_release(pw_frame **f);

typedef enum {
    PW_CAPTURE_STOPPED = 0,
    PW_CAPTURE_STARTING,
    PW_CAPTURE_RUNNING,
    PW_CAPTURE_RECOVERING,  /* waiting out a backoff or restarting a live source */
    PW_CAPTURE_ENDED,       /* a recording reached its end (frames may remain queued) */
    PW_CAPTURE_FAILED       /* a recording failed; the reason is in last_error */
} pw_capture_state;

const char *pw_capture_state_name(pw_capture_state s);

typedef struct {
    uint64_t frames;        /* frames received from the source (sequence numbers used) */
    uint64_t delivered;     /* frames handed out by pw_capture_next() */
    uint64_t dropped;       /* frames discarded because the consumer fell behind */
    uint64_t restarts;      /* restart attempts of a live source */
    int queued;             /* frames waiting now; frames == delivered + dropped + queued */
    pw_capture_state state;
    int64_t last_frame_real_ns; /* CLOCK_REALTIME when the newest frame arrived, 0 before any */
    char last_error[256];   /* the latest error or stall reason, "" when none */
} pw_capture_stats;

/* Parses and checks cfg (nothing is opened yet). Names the bad value in err. */
int pw_capture_new(const pw_capture_config *cfg, pw_capture **out, pw_err *err);

/*
 * Starts the source and waits for its first frame (at most start_timeout_ms).
 * Returns PW_ESOURCE with err naming the source and the reason when the
 * source cannot start; it is then not retried (a capture starts at most
 * once: destroy it and make a new one to try again).
 */
int pw_capture_start(pw_capture *cap, pw_err *err);

/*
 * Waits up to timeout_ms (< 0: forever) for the next frame. Returns 0 with
 * *out set, -ETIMEDOUT when none came, PW_EEOS when a recording has ended
 * and its frames are all delivered, the recording's error code (err filled)
 * when it failed, or -ECANCELED when the capture was stopped.
 */
int pw_capture_next(pw_capture *cap, int timeout_ms, pw_frame **out, pw_err *err);

void pw_capture_get_stats(pw_capture *cap, pw_capture_stats *st);

/* Stops the source and wakes a waiting pw_capture_next(). Idempotent. */
void pw_capture_stop(pw_capture *cap);

/* Stops and frees; accepts NULL and *cap == NULL, nulls *cap. */
void pw_capture_destroy(pw_capture **cap);

#ifdef __cplusplus
}
#endif

#endif
