/*
 * reader.h - the read path for one still image or frame: decode, localise
 * the plates, read each candidate, and report the plates with their
 * geometry, readings and the time spent per stage.
 *
 * Ownership: a pw_reader owns one detector, one OCR engine and the plate
 * formats; it belongs to one thread at a time (create one per worker).
 * Results are plain structs filled by value: they own nothing and stay
 * valid after the reader is destroyed.
 */
#ifndef PW_READER_H
#define PW_READER_H

#include "detect.h"
#include "ocr.h"
#include "pw_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PW_READER_MAX_PLATES 16

/*
 * How one frame's candidates are read: the same for a photograph
 * (pw_reader) and a lane (lane.h), so that what the benchmarks measure on
 * photographs is what a lane does with each frame. Defaults from
 * pw_read_settings_defaults() are the only ones.
 */
typedef struct {
    int candidates;          /* localiser candidates read, best first, 1..PW_DETECT_MAX_CANDIDATES */
    float min_confidence;    /* reads below this (0-100) are dropped */
    int min_chars;           /* readings shorter than this are not plates */
    /*
     * A read that fits a format of the camera's countries with at least
     * this confidence ends the frame's reading: the remaining candidates
     * are lower-ranked boxes, mostly of the same plate. 0 reads them all.
     */
    float stop_confidence;
    /*
     * 1 also merges a read whose box lies inside another's: the localiser
     * proposes horizontal slices of a plate's characters, whose confident
     * misreads would otherwise be plates (and vehicles) of their own. In
     * stills it can cost a plate inside a larger text region (one image of
     * the us dev set).
     */
    int merge_contained;
    /*
     * Of the localiser's first rank_candidates boxes, only those whose
     * crop holds a row of plate-like characters are read (up to
     * candidates, in the localiser's order); 0 reads the localiser's
     * first candidates boxes, each of them.
     */
    int rank_candidates;
} pw_read_settings;

void pw_read_settings_defaults(pw_read_settings *s);

/* Checks the ranges above; err names the field and value at fault. */
int pw_read_settings_check(const pw_read_settings *s, pw_err *err);

typedef struct {
    pw_detect_config detect;
    pw_ocr_config ocr;
    const char *formats_dir;    /* folder of *.fmt plate formats */
    pw_read_settings read;
    /*
     * When the whole image is small and shaped like a plate (a crop from a
     * camera that already cuts out plates), it is also read as one
     * candidate. 1 enables (the default from pw_reader_config_defaults).
     */
    int whole_image_candidate;
} pw_reader_config;

/* Defaults: detector and OCR defaults, formats from the build's models folder. */
void pw_reader_config_defaults(pw_reader_config *cfg);

typedef struct {
    float corners[4][2];    /* x,y: top-left, top-right, bottom-right, bottom-left, image pixels */
    pw_rect box;            /* axis-aligned box of the corners */
    float detector_score;   /* the localiser's score; 0 for the whole-image candidate */
    float char_px;          /* height of the read characters in image pixels; 0 when unknown */
    pw_plate_read read;     /* text, confidence, country, per-character confidences, alternatives */
} pw_plate;

typedef struct {
    int width, height;      /* of the decoded image */
    double decode_ms, detect_ms, ocr_ms;
    size_t n_candidates;    /* candidates the localiser proposed */
    size_t n_plates;        /* plates reported, by descending confidence */
    pw_plate plates[PW_READER_MAX_PLATES];
} pw_read_result;

/*
 * Merges p into plates[0..*n): a read of a plate already there (boxes with
 * IoU > 0.3, or the same text; with contained set, also a box lying inside
 * the other) replaces it only when it is better (a longer reading containing
 * the other and nearly as confident, or more confident); the merged plate
 * keeps the box and corners of the one with the higher detector score.
 * With contained set, a read whose box lies inside another's and whose
 * characters are much smaller is another line of that plate (a state name,
 * slogan or dealer frame's text) and gives way to it, whatever the
 * confidences: the registration is a plate's tallest text.
 * Returns the index p now occupies, or -1 when it was not kept (a better
 * read is there, or the array is full). pw_read_settings.merge_contained
 * says why containment is the default.
 */
int pw_plates_merge(pw_plate *plates, size_t *n, size_t max, const pw_plate *p, int contained);

/*
 * How many of the localiser's candidates pw_read_candidates looks at:
 * s->rank_candidates, or s->candidates when that is 0. A lane hands it that
 * many, so that it chooses and reads as `platewatch read` does.
 */
size_t pw_read_settings_pool(const pw_read_settings *s);

/*
 * Reads one frame's candidates (best first, as the localiser ranks them)
 * with one engine, as the settings say, then whole (NULL for none: see
 * pw_whole_frame_candidate), and merges the reads of one plate into
 * plates[0..*n) (max at most PW_DETECT_MAX_CANDIDATES + 1). from[k], when
 * from is given, receives the candidate index plate k was read from (n_cands
 * for whole). Returns 0, or a negative code when the engine failed.
 */
int pw_read_candidates(pw_ocr *ocr, const pw_read_settings *s, const pw_candidate *cands, size_t n_cands,
                       const pw_candidate *whole, const char (*countries)[PW_COUNTRY_MAX], size_t n_countries,
                       pw_plate *plates, size_t max, size_t *n, size_t *from);

/*
 * A frame that is small and shaped like a plate is a crop from a camera
 * that cuts out plates: the whole of it is then read as one more candidate,
 * in photographs and lanes alike. Fills cand with the frame scaled to
 * crop_height rows in *buf (made or reused; the caller destroys it) and
 * returns 1; returns 0 for other frames, or a negative code.
 */
int pw_whole_frame_candidate(const pw_plane *grey, int crop_height, pw_image **buf, pw_candidate *cand);

typedef struct pw_reader pw_reader;

/* Loads formats, creates the detector and Tesseract; err names what failed. */
int pw_reader_new(const pw_reader_config *cfg, pw_reader **out, pw_err *err);
void pw_reader_destroy(pw_reader **r);

/* The formats the reader loaded, for parsing country lists. */
const pw_formats *pw_reader_formats(const pw_reader *r);

/*
 * Reads an image file. Missing, empty, truncated, undecodable and oversized
 * files return a negative code with err naming the reason (the caller adds
 * the path). countries restricts plate formats (n 0: all loaded).
 */
int pw_reader_read_file(pw_reader *r, const char *path, const char (*countries)[PW_COUNTRY_MAX],
                        size_t n_countries, pw_read_result *res, pw_err *err);

/* Reads an already decoded grey frame; decode_ms is left 0. */
int pw_reader_read_plane(pw_reader *r, const pw_plane *grey, const char (*countries)[PW_COUNTRY_MAX],
                         size_t n_countries, pw_read_result *res);

#ifdef __cplusplus
}
#endif

#endif
