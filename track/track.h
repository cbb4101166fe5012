/*
 * track.h - turns plate reads over consecutive frames into one vehicle
 * passage: reads are associated with a track by position and text
 * similarity (within one edit anywhere; further off only near the plate and
 * shortly after its last sighting, LOOSE_FIT_GAP_NS in track.c, since the
 * next vehicle of a series enters where the last one was), combined by
 * per-character voting weighted by confidence, and reported as vehicle
 * events: NEW at the first confident consensus (fast gating), UPDATE when
 * the consensus text changes, FINAL when no read came for final_after_ns.
 *
 * A passage whose voted text holds (settle_reads reads in a row that leave
 * the consensus text unchanged, each within one edit of it, the consensus
 * and each of its characters at least new_min_confidence) is settled: its plate
 * need not be read on every frame. pw_tracker_seen() tells the caller which
 * of a frame's candidates lie on a settled passage, so that their OCR is
 * skipped, and counts the frame as the passage still present, so that
 * skipping reads does not end it. It asks for a read again every
 * reread_frames frames, when the plate's box changes size by more than
 * reread_size_change, and at every frame once a read disagrees (changes
 * the consensus or is more than one edit from it: the passage is then
 * unsettled until its reads agree again).
 *
 * Ownership: a pw_tracker belongs to one thread at a time (a lane serialises
 * its localiser and tracker threads around it with a lock). Reads are copied in; the
 * optional JPEG crop of a read is referenced (g_bytes_ref) while it is the
 * track's best read. Events passed to the callback, and the GBytes they
 * point to, are borrowed for the duration of the call.
 */
#ifndef PW_TRACK_H
#define PW_TRACK_H

#include <glib.h>
#include <stdint.h>

#include "pw_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A field left 0 takes its value from pw_tracker_config_defaults(). */
typedef struct {
    float new_min_confidence;  /* consensus confidence (0-100) that makes a NEW */
    int new_min_frames;        /* reads needed before NEW */
    int64_t final_after_ns;    /* silence that ends a passage */
    float max_jump;            /* largest centre move between reads, in plate widths */
    int max_tracks;            /* passages followed at once */
    int disable_voting;        /* 1: the most confident single read is the consensus (for comparison) */
    /*
     * Agreeing reads in a row that settle a passage (see above); 0 never
     * settles one, so that every candidate is read on every frame.
     */
    int settle_reads;
    int reread_frames;         /* frames a settled passage goes without a read at most */
    float reread_size_change;  /* box width ratio (> 1) to the last read's that asks for a read */
} pw_tracker_config;

/*
 * The one set of tracker defaults: NEW at 70 after 1 read, FINAL after 1.5 s
 * of silence, jumps of 3 widths, 16 passages; settled after 3 agreeing
 * reads, then read every 8 frames or when its width changes by 1.25x.
 */
void pw_tracker_config_defaults(pw_tracker_config *cfg);

typedef struct {
    const char *text;          /* A-Z 0-9 */
    float confidence;          /* 0-100 */
    const float *char_conf;    /* per-character confidence, NULL to use confidence for each */
    /*
     * The OCR's other readings of the same crop with their confidences
     * (0-100), best first; text itself may be among them. NULL when none.
     */
    const pw_reading *alts;
    size_t n_alts;
    const char *country;       /* "" or NULL when no format matched */
    float corners[4][2];       /* frame pixels */
    int64_t capture_real_ns;   /* CLOCK_REALTIME of the frame */
    int64_t capture_mono_ns;   /* CLOCK_MONOTONIC of the frame, for latency */
    /*
     * The tracking clock: when the passage was seen, in ns. Live sources use
     * CLOCK_MONOTONIC; a recording replayed faster than real time uses its
     * stream time, so that silences are measured in the video's seconds.
     * 0 means capture_mono_ns.
     */
    int64_t clock_ns;
    GBytes *jpeg;              /* optional crop of this read; may be NULL */
} pw_track_read;

typedef enum { PW_TRACK_NEW, PW_TRACK_UPDATE, PW_TRACK_FINAL } pw_track_kind;

typedef struct {
    pw_track_kind kind;
    uint64_t track_id;                 /* unique within this tracker */
    char text[PW_PLATE_MAX + 1];       /* consensus */
    float confidence;                  /* consensus confidence 0-100 */
    float char_conf[PW_PLATE_MAX];     /* confidence 0-100 of each character of text */
    /*
     * Readings other than the consensus, voted over the passage: each read
     * adds its text and its alternatives, each with its confidence; ranked
     * by the sum and reported as its mean over the reads combined (0-100),
     * so that a reading that only some reads saw ranks below one all saw.
     */
    size_t n_alts;
    pw_reading alts[PW_VEHICLE_MAX_ALTS];
    char country[PW_COUNTRY_MAX];      /* country of the best read with the consensus text, "" for none */
    int64_t first_seen_ns, last_seen_ns;       /* CLOCK_REALTIME of the first and last read */
    int64_t best_capture_ns;           /* CLOCK_REALTIME of the best read's frame */
    int64_t best_capture_mono_ns;      /* CLOCK_MONOTONIC of the same frame, for latency */
    int64_t latest_capture_mono_ns;    /* CLOCK_MONOTONIC of the read that caused the event */
    int frames;                        /* reads combined */
    float corners[4][2];               /* of the best read */
    GBytes *jpeg;                      /* crop of the best read, or NULL */
} pw_track_event;

typedef void (*pw_track_emit)(const pw_track_event *ev, void *user);

typedef struct pw_tracker pw_tracker;

int pw_tracker_new(const pw_tracker_config *cfg, pw_tracker **out);
void pw_tracker_destroy(pw_tracker **t);

/* Adds one read; emits NEW or UPDATE when the consensus warrants it. */
int pw_tracker_add(pw_tracker *t, const pw_track_read *read, pw_track_emit emit, void *user);

/* Candidates pw_tracker_seen() takes a frame at most (more is -E2BIG). */
#define PW_TRACK_SEEN_MAX 64

/* What pw_tracker_seen() found at a candidate. */
typedef enum {
    PW_SEEN_NONE = 0,  /* no passage there: read it */
    PW_SEEN_FOLLOWED,  /* a passage whose reads have not settled, or that asks for a read: read it */
    PW_SEEN_SETTLED    /* a settled passage, counted as present on this frame: its read may be skipped */
} pw_seen;

/*
 * One frame's candidates, before OCR: n boxes given by their corners (frame
 * pixels) on a frame at tracking clock clock_ns and CLOCK_REALTIME real_ns.
 * Sets seen[i] for each. A settled passage with a candidate on it is
 * present at clock_ns (its silence starts again, and its FINAL's
 * last_seen_ns is real_ns) as long as it has had a read within
 * 2 * reread_frames frames; after that it is present by reads only.
 * Call it once a frame, frames in order.
 */
int pw_tracker_seen(pw_tracker *t, const float (*corners)[4][2], size_t n, int64_t clock_ns, int64_t real_ns,
                    pw_seen *seen);

/* Ends passages silent since now_ns - final_after_ns (tracking clock), emitting FINAL for each. */
void pw_tracker_tick(pw_tracker *t, int64_t now_ns, pw_track_emit emit, void *user);

/* Ends every passage now (shutdown), emitting FINAL for each that was reported. */
void pw_tracker_flush(pw_tracker *t, pw_track_emit emit, void *user);

/* Passages currently followed. */
size_t pw_tracker_active(const pw_tracker *t);

#ifdef __cplusplus
}
#endif

#endif
