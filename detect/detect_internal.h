/*
 * detect_internal.h - the detector's private state and the stages shared by
 * the files of detect/: seeds.c (pyramid and window search), refine.c (tilt,
 * text band and extent of one seed), crop.c (rectified crops) and detect.c
 * (the public API, buffers and ranking).
 */
#ifndef PW_DETECT_INTERNAL_H
#define PW_DETECT_INTERNAL_H

#include "detect.h"
#include "kernels.h"

/* Pyramid levels: level L is the frame halved L times. Text about 8-20 px
 * tall at a level is what its window finds, so five levels cover text from
 * 8 px to about 300 px, plates from ~60 to well over 800 px wide. */
#define PW_MAX_LEVELS 5
/*
 * Seeds kept per level, seeds kept per level from the sheared grids (text
 * leaning by about 14 degrees, seeds.c), and seeds refined per frame.
 */
#define PW_SEEDS_PER_LEVEL 24
#define PW_SHEARED_SEEDS 2
/*
 * The finest level searched for leaning text. At level 0 the window finds
 * text 8-16 px tall, plates below about 110 px wide; its grid is three
 * quarters of the frame's cells, so shearing it would cost most of the
 * sheared search, and on the dev sets it found no plate the coarser levels
 * missed.
 */
#define PW_SHEARED_LEVEL_LO 1
#define PW_MAX_REFINE 72
/* The refinement patch around a seed, in level pixels, each side of its centre. */
#define PW_PATCH_HALF_W 80
#define PW_PATCH_HALF_H 26
#define PW_PATCH_W (2 * PW_PATCH_HALF_W + 2)
#define PW_PATCH_H (2 * PW_PATCH_HALF_H + 2)
/* Largest shear shift over half the patch (81 columns) at the steepest slope tried (128/256), plus margin. */
#define PW_PROJ_MARGIN 45
#define PW_PROJ_LEN (PW_PATCH_H + 2 * PW_PROJ_MARGIN + 1)
/* Columns summed together before shearing in refine.c; the kernels' cap_blocks sums runs of 8. */
#define PW_BLOCK_W 8
/* A crop is at most this many times as wide as it is tall. */
#define PW_CROP_MAX_ASPECT 12
/* Edge magnitudes below this are noise and count as zero. */
#define PW_EDGE_FLOOR 8

typedef struct {
    const uint8_t *data; /* level image; level 0 is the caller's frame (ROI) */
    int w, h;
    ptrdiff_t stride;
} pw_level;

typedef struct {
    int score;  /* window score (kernels.h) */
    int level;
    int x, y;   /* centre of the window in level pixels */
    int sheared; /* 0 from the level grid, else the sign of the sheared grid's slope */
} pw_seed;

typedef struct {
    pw_seed items[PW_SEEDS_PER_LEVEL];
    int n, cap;
} pw_seed_heap;

/* A refined text line: a rotated rectangle around the characters, frame pixels. */
typedef struct {
    float cx, cy;     /* centre */
    float len, hgt;   /* along and across the text direction */
    float angle;      /* radians, positive clockwise in image coordinates */
    float score;
    int level;
    int dark_on_light;
} pw_textline;

struct pw_detector {
    pw_detect_config cfg;
    pw_simd_level simd;
    const pw_kernels *k;
    int level_lo, level_hi;       /* levels searched, from the plate width range */

    /* Buffers grown on first use and reused: none is freed between frames. */
    uint8_t *pyr;                 /* levels 1.. of the pyramid, back to back */
    size_t pyr_cap;
    uint8_t *cells;               /* cell grid of the level being searched */
    size_t cells_cap;
    uint8_t *sheared;             /* the cell grid sheared for leaning text (seeds.c) */
    size_t sheared_cap;
    uint16_t *vin, *vout;         /* window column sums for one row */
    int16_t *score_ring;          /* three rows of window scores */
    size_t row_cap;               /* entries in each of vin, vout and a ring row */
    size_t grow_count;            /* how many times a buffer had to grow */

    pw_level levels[PW_MAX_LEVELS];
    int nlevels;

    pw_seed_heap heap;
    pw_seed seeds[PW_MAX_LEVELS * (PW_SEEDS_PER_LEVEL + PW_SHEARED_SEEDS)];
    int nseeds;

    /* Refinement scratch, fixed size. */
    uint8_t patch[PW_PATCH_H * PW_PATCH_W];
    int32_t proj[PW_PROJ_LEN];
    int32_t cols[PW_PATCH_W];
    uint16_t blocks[(PW_PATCH_W / PW_BLOCK_W + 1) * PW_PATCH_H];

    pw_textline lines[PW_MAX_REFINE];
    int nlines;

    uint8_t *crops;               /* max_candidates crops of crop_height x max width */
    pw_candidate cands[PW_DETECT_MAX_CANDIDATES];
};

/* seeds.c: builds the pyramid over the ROI plane and fills d->seeds, best first. */
int pw_detect_find_seeds(pw_detector *d, const pw_plane *roi);

/* refine.c: fits a text line around seed s; returns 0 and fills *out, or -1 if none fits. */
int pw_detect_refine(pw_detector *d, const pw_seed *s, pw_textline *out);

/* crop.c: writes the rectified crop of line into cand->crop (buffer crop_px). */
void pw_detect_crop(const pw_detector *d, const pw_textline *line, uint8_t *crop_px,
                    pw_candidate *cand);

/* Grows *buf to hold need bytes, counting growth in d->grow_count. */
int pw_detect_reserve(pw_detector *d, void **buf, size_t *cap, size_t need);

#endif
