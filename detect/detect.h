/*
 * detect.h - the plate localiser: 8-bit grey frame in, ranked plate
 * candidates out, each with its four corners and a rectified crop for OCR.
 *
 * The hot loops exist as a scalar reference and as SSE2 and AVX2 versions;
 * the level is chosen once, in pw_detector_new(), from the CPU's features
 * unless the configuration (or PW_SIMD=scalar|sse2|avx2 in the environment,
 * read by the callers that build the configuration) forces one. Every level
 * returns identical candidates.
 *
 * Ownership: a pw_detector belongs to one thread at a time and owns every
 * working buffer, grown on first use and reused after, so a warmed-up
 * detector allocates nothing per frame. The candidates returned by
 * pw_detector_run(), and the crop pixels they point to, belong to the
 * detector and stay valid until its next run or its destruction.
 */
#ifndef PW_DETECT_H
#define PW_DETECT_H

#include "pw_common.h"
#include "pw_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PW_SIMD_AUTO = 0,
    PW_SIMD_SCALAR = 1,
    PW_SIMD_SSE2 = 2,
    PW_SIMD_AVX2 = 3
} pw_simd_level;

/* "scalar", "sse2", "avx2" or "auto". */
const char *pw_simd_name(pw_simd_level level);
/* Parses a level name; returns -EINVAL for an unknown name. */
int pw_simd_parse(const char *name, pw_simd_level *out);
/* The best level this CPU supports. */
pw_simd_level pw_simd_best(void);
/*
 * Reads PW_SIMD from the environment for callers that build a configuration:
 * unset or empty gives PW_SIMD_AUTO; an unknown name gives -EINVAL.
 */
int pw_simd_from_env(pw_simd_level *out);

#define PW_DETECT_MAX_CANDIDATES 32

typedef struct {
    pw_simd_level simd;    /* PW_SIMD_AUTO picks the best the CPU has */
    int max_candidates;    /* 1..PW_DETECT_MAX_CANDIDATES; 0 means 10 */
    int min_plate_width;   /* pixels; 0 means 60 */
    int max_plate_width;   /* pixels; 0 means 800 */
    int crop_height;       /* rectified crop height in pixels; 0 means 64 */
    pw_rect roi;           /* region of interest; w or h 0 means the whole frame */
} pw_detect_config;

/* Fills cfg with the defaults described above. */
void pw_detect_config_defaults(pw_detect_config *cfg);

typedef struct {
    float score;          /* higher is more plate-like; comparable within a frame */
    float corners[4][2];  /* x,y of top-left, top-right, bottom-right, bottom-left, frame pixels */
    pw_rect box;          /* axis-aligned bounding box of the corners, clipped to the frame */
    int dark_on_light;    /* 1 when the characters are darker than the plate */
    pw_plane crop;        /* rectified, deskewed grey crop of crop_height rows, margin included */
    float crop_scale;     /* frame pixels per crop row, so that heights read in the crop map back; 0 unknown */
} pw_candidate;

typedef struct pw_detector pw_detector;

/* Validates cfg and creates a detector; -EINVAL names no field, so err says which. */
int pw_detector_new(const pw_detect_config *cfg, pw_detector **out, pw_err *err);
void pw_detector_destroy(pw_detector **d);

/* The SIMD level the detector actually uses. */
pw_simd_level pw_detector_simd(const pw_detector *d);

/*
 * How many times the detector has had to grow a working buffer. It stops
 * changing once the detector has seen a frame of the largest size it will
 * get, which is how tests check that warmed-up runs do not allocate.
 */
size_t pw_detector_grow_count(const pw_detector *d);

/*
 * Finds candidates in a grey frame (channels 1). Sets *cands to an array of
 * *n candidates sorted by descending score. A frame with no plate gives
 * *n == 0 and returns 0. Frames with width or height 0, stride < width or
 * sides above PW_MAX_IMAGE_SIDE return a negative code and never read the
 * frame.
 */
int pw_detector_run(pw_detector *d, const pw_plane *grey, const pw_candidate **cands, size_t *n);

#ifdef __cplusplus
}
#endif

#endif
