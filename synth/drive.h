/*
 * drive.h - generated "drive-by" recordings: vehicles pass one after another,
 * each plate approaching the camera (growing, moving down the frame, a
 * slight pan and tilt), with blur, noise and a lighting change, encoded as
 * VP8/WebM or MJPEG/AVI through GStreamer, with the ground truth of every
 * passage (docs/ground-truth.md).
 *
 * Ownership: the spec and its passages are borrowed for the call. The
 * ground truth is returned in the caller's array.
 */
#ifndef PW_DRIVE_H
#define PW_DRIVE_H

#include "synth.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { PW_CLIP_WEBM = 0, PW_CLIP_MJPEG_AVI = 1 } pw_clip_format;

typedef struct {
    const char *printed;    /* as drawn, e.g. "AB-123-CD"; the label when photo is set */
    const char *country;    /* ground-truth country code */
    int dark_on_light;      /* 0 renders light text on a dark plate */
    /*
     * Optional: a grey photograph (borrowed) and the labelled plate box in
     * it. When photo is not NULL the passage shows the photograph around
     * the box, moved, scaled and tilted like a rendered plate, instead of
     * rendering printed.
     */
    const pw_plane *photo;
    pw_rect box;
} pw_passage;

typedef struct {
    int width, height, fps;
    int frames_per_passage;  /* frames in which the plate is visible */
    int gap_frames;          /* empty frames between vehicles (and at both ends) */
    int char_height_far;     /* character height when the plate appears */
    int char_height_near;    /* character height when it leaves */
    double blur_sigma, noise_sigma;
    int lighting_change;     /* brightness swing over a passage, grey levels */
    unsigned seed;
    pw_clip_format format;
    /*
     * A delivery stall (WebM only, which keeps timestamps): frames from
     * stall_frame on are stamped stall_ms later, as a camera or decoder that
     * stalls mid-passage delivers them late. 0 ms means none.
     */
    int stall_frame, stall_ms;
} pw_drive_spec;

/* A readable default: 1280x720 at 25 fps, 40 frames per vehicle, 30-frame gaps. */
void pw_drive_spec_defaults(pw_drive_spec *spec);

/* Ground truth of one passage, in frames from 0 and in stream milliseconds. */
typedef struct {
    char plate[PW_PLATE_MAX + 1]; /* label, A-Z 0-9 */
    char country[PW_COUNTRY_MAX];
    int first_frame, last_frame;
    int64_t first_ms, last_ms;
} pw_passage_truth;

/*
 * Called for every frame in which a plate is visible, with the passage's
 * index and the plate's axis-aligned box in frame pixels (the per-frame
 * ground truth, e.g. for accuracy by plate height).
 */
typedef void (*pw_drive_frame_fn)(int frame, size_t passage, pw_rect box, void *user);

/*
 * Renders and encodes the clip to path. truth (n entries, may be NULL)
 * receives each passage's frames. err names the file or the GStreamer
 * element that failed.
 */
int pw_drive_write(const pw_drive_spec *spec, const pw_passage *passages, size_t n, const char *path,
                   pw_passage_truth *truth, pw_err *err);

/* pw_drive_write() that also reports each frame's plate box to on_frame (may be NULL). */
int pw_drive_write_boxes(const pw_drive_spec *spec, const pw_passage *passages, size_t n, const char *path,
                         pw_passage_truth *truth, pw_drive_frame_fn on_frame, void *user, pw_err *err);

#ifdef __cplusplus
}
#endif

#endif
