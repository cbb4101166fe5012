/*
 * capture_internal.h - what the capture core, its backends and the tests
 * share; not part of the public API (capture.h).
 *
 * A backend produces frames on its own thread (a GStreamer streaming thread
 * or a thread it owns) and hands each one to pw_capture_deliver(); it tells
 * the core about the end of the stream or an error with pw_capture_report().
 * The core owns the queue, the counters and the restart policy.
 */
#ifndef PW_CAPTURE_INTERNAL_H
#define PW_CAPTURE_INTERNAL_H

#include <glib.h>

#include "capture.h"

/* ---- frames ---------------------------------------------------------- */

struct pw_frame {
    pw_frame_info info;
    /* Frees everything the frame holds and the frame itself; backends whose
     * frames hold more than two images (a mapped GstSample) replace it. */
    void (*dispose)(pw_frame *f);
    pw_image *grey_img; /* owned copies, when the backend could not map */
    pw_image *bgr_img;
};

/* A zeroed frame whose default dispose frees grey_img, bgr_img and itself. */
pw_frame *pw_frame_new_owned(void);
/* The default dispose, for backends that extend it. */
void pw_frame_dispose_owned(pw_frame *f);
/* Stamps the capture time on both clocks; called when the frame arrives. */
void pw_frame_stamp(pw_frame *f);
/* Points info.grey / info.bgr at the owned images. */
void pw_frame_use_images(pw_frame *f);

/* ---- the frame queue (fqueue.c) --------------------------------------- */

typedef struct pw_fqueue pw_fqueue;

pw_fqueue *pw_fqueue_new(int depth);
void pw_fqueue_free(pw_fqueue *q);
/* 1: drop the oldest frame when full (live); 0: block the producer (recorded). */
void pw_fqueue_set_dropping(pw_fqueue *q, int dropping);
/* Assigns the next sequence number and queues f (taking it). Returns 0, or
 * -ECANCELED when the queue was aborted (f is then released). */
int pw_fqueue_push(pw_fqueue *q, pw_frame *f);
/* 0 with *out, -ETIMEDOUT, or the closing code once the queue is empty. */
int pw_fqueue_pop(pw_fqueue *q, int timeout_ms, pw_frame **out);
/* After the queued frames, pop returns code (PW_EEOS or an error). */
void pw_fqueue_close(pw_fqueue *q, int code);
/* Wakes everyone now: pushes fail, pops return -ECANCELED, frames are freed. */
void pw_fqueue_abort(pw_fqueue *q);
/* Undoes close (for a looping recording) without touching the counters. */
void pw_fqueue_reopen(pw_fqueue *q);
typedef struct {
    uint64_t frames, delivered, dropped;
    int queued;
    int64_t last_push_mono_ns; /* CLOCK_MONOTONIC of the latest push, 0 before any */
} pw_fqueue_counts;
void pw_fqueue_counts_get(pw_fqueue *q, pw_fqueue_counts *c);

/* ---- source descriptions (source.c) ------------------------------------ */

typedef enum { PW_SRC_GST, PW_SRC_IMAGES, PW_SRC_V4L2DIRECT } pw_src_kind;

typedef struct {
    pw_src_kind kind;
    char *gst_desc;   /* GST: the pipeline up to raw or decodable video */
    char *path;       /* IMAGES: folder or glob; V4L2DIRECT: device; GST file: the file */
    int restartable;  /* 1: a live source, restarted when it fails; -1: ask the pipeline */
    int dropping;     /* 1: latest-frame-wins queue; -1: as restartable */
} pw_source_spec;

int pw_source_parse(const pw_capture_config *cfg, pw_source_spec *spec, pw_err *err);
void pw_source_spec_clear(pw_source_spec *spec);

/* ---- backends ------------------------------------------------------------ */

typedef struct pw_backend pw_backend;
typedef struct {
    /* Begins producing and returns without waiting for a frame. On failure
     * nothing is left running and err names the source and the reason. */
    int (*start)(pw_backend *b, pw_err *err);
    /* Stops producing; no deliver or report call follows its return. */
    void (*stop)(pw_backend *b);
    void (*destroy)(pw_backend *b);
} pw_backend_ops;

struct pw_backend {
    const pw_backend_ops *ops;
    pw_capture *cap;
    const pw_capture_config *cfg; /* the capture's own copy */
    const pw_source_spec *spec;
};

int pw_backend_gst_new(pw_capture *cap, pw_backend **out, pw_err *err);
int pw_backend_images_new(pw_capture *cap, pw_backend **out, pw_err *err);
int pw_backend_v4l2_new(pw_capture *cap, pw_backend **out, pw_err *err);

/* ---- core services for backends (capture.c) ------------------------------ */

const pw_capture_config *pw_capture_cfg(const pw_capture *cap);
const pw_source_spec *pw_capture_spec(const pw_capture *cap);
/* Queues a stamped frame (taking it); may block for recorded sources. */
void pw_capture_deliver(pw_capture *cap, pw_frame *f);
/* The stream ended (PW_EEOS) or failed (negative code); thread-safe. */
void pw_capture_report(pw_capture *cap, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A GStreamer backend learns whether its pipeline is live once it plays. */
void pw_capture_set_live(pw_capture *cap, int live);

int64_t pw_clock_ns(int clock_id);

#endif
