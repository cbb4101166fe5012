/*
 * ocr.h - reads the text of a rectified plate crop with Tesseract (C API)
 * and chooses the reading that fits the camera's country formats.
 *
 * Tesseract is built with OpenMP; the process must run with
 * OMP_THREAD_LIMIT=1 in its environment from the start (the CLI re-execs
 * itself to ensure it), or every read is many times slower.
 *
 * Ownership: a pw_ocr holds one TessBaseAPI and its working buffers and
 * belongs to one thread at a time: create one per worker thread. It
 * borrows the pw_formats given at creation, which must outlive it.
 */
#ifndef PW_OCR_H
#define PW_OCR_H

#include "plateformat.h"
#include "pw_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PW_OCR_MAX_ALTS 10

/* The preparations of a crop, in the order pw_ocr_read tries them. */
typedef enum {
    PW_OCR_PREP_ADAPTIVE,   /* local-mean binarisation, character-like components kept */
    PW_OCR_PREP_OTSU,       /* one global threshold, components kept */
    PW_OCR_PREP_CLAHE,      /* local contrast equalisation, then Otsu */
    PW_OCR_PREP_PLAIN,      /* the whole grey crop: only when a binarisation found a row of characters and none was read */
    PW_OCR_N_PREPS
} pw_ocr_prep;

/*
 * The plate model trained by models/train/train.sh and shipped in models/
 * (installed beside the plate formats). Tesseract's own models stay
 * selectable: tessdata_dir = the system tessdata folder, language = "eng".
 */
#define PW_OCR_DEFAULT_LANGUAGE "plate"

typedef struct {
    const char *tessdata_dir;   /* folder holding <language>.traineddata */
    const char *language;       /* model name; several joined by '+' are combined by Tesseract */
    int top_n;                  /* alternatives to keep, 1..PW_OCR_MAX_ALTS; 0 means 5 */
    float min_confidence;       /* readings below this (0-100) are dropped; 0 keeps all */
    int preparations;           /* binarisations tried at most, 1..3, in pw_ocr_prep order */
    /*
     * 1 reads the whole grey crop (PW_OCR_PREP_PLAIN) when a binarisation
     * found a row of characters and none gave a reading: a second
     * Tesseract call for such crops. 0 does not.
     */
    int plain_fallback;
} pw_ocr_config;

/*
 * Fills cfg with the build's models folder, the plate model, top 5, no
 * threshold, one binarisation, the plain fallback on.
 */
void pw_ocr_config_defaults(pw_ocr_config *cfg);

typedef struct {
    char text[PW_PLATE_MAX + 1];          /* chosen plate text, A-Z 0-9 */
    float confidence;                     /* 0-100; lowered when no format matched */
    char country[PW_COUNTRY_MAX];         /* country whose format matched, "" for none */
    float char_conf[PW_PLATE_MAX];        /* per-character confidence 0-100 */
    /*
     * Median height of the characters the read came from, as a share of the
     * crop's height (0 when unknown): the registration is the tallest text
     * on a plate, so the reader prefers it over the smaller lines around it.
     */
    float char_height;
    size_t n_alts;                        /* alternatives, the chosen reading first */
    pw_reading alts[PW_OCR_MAX_ALTS];
} pw_plate_read;

typedef struct pw_ocr pw_ocr;

/*
 * Initialises Tesseract. A missing or corrupt traineddata file gives
 * PW_EOCRINIT with err naming the file and the problem.
 */
int pw_ocr_new(const pw_ocr_config *cfg, const pw_formats *formats, pw_ocr **out, pw_err *err);
void pw_ocr_destroy(pw_ocr **o);

/*
 * Reads a grey crop (channels 1). countries restricts the formats (n 0: all
 * loaded). Returns 0 with out filled, PW_ENOPLATE when nothing readable
 * was found (empty, blank or noise crops), or a negative code for invalid
 * input (zero-size, stride < width, too large).
 */
int pw_ocr_read(pw_ocr *o, const pw_plane *crop, const char (*countries)[PW_COUNTRY_MAX],
                size_t n_countries, pw_plate_read *out);

/*
 * The line image that preparation `prep` of pw_ocr_read gives Tesseract for
 * this crop (new, owned by the caller), so that training material is made
 * exactly as reading sees it. PW_ENOPLATE when that preparation finds no
 * row of characters.
 */
int pw_ocr_prepare_line(const pw_plane *crop, pw_ocr_prep prep, pw_image **line);

/*
 * A crop prepared for reading: normalised, levelled and put through the
 * first binarisation, which also counts its character-like components.
 * The reader ranks candidates by that count and then reads the chosen ones
 * from the same preparation, so that no crop is prepared twice.
 *
 * Ownership: the caller owns the pw_ocr_crop (pw_ocr_crop_destroy); it
 * holds its own copies of the images and does not borrow the crop. It has
 * no engine and may be made on any thread.
 */
typedef struct pw_ocr_crop pw_ocr_crop;

/*
 * Prepares a grey crop (channels 1). A blank or tiny crop is not an error:
 * it gives a pw_ocr_crop with no characters that reads as PW_ENOPLATE.
 * Returns 0, or a negative code for invalid input (zero-size, stride <
 * width, too large, not grey) or no memory.
 */
int pw_ocr_crop_new(const pw_plane *crop, pw_ocr_crop **out);
void pw_ocr_crop_destroy(pw_ocr_crop **c);

/*
 * How many character-like components, lined up in rows, the first
 * binarisation found (0 when none): what makes a box look like a plate, at
 * a small part of the cost of reading it.
 */
int pw_ocr_crop_chars(const pw_ocr_crop *c);

/* Reads a prepared crop: the same reading, results and codes as pw_ocr_read. */
int pw_ocr_read_crop(pw_ocr *o, const pw_ocr_crop *c, const char (*countries)[PW_COUNTRY_MAX],
                     size_t n_countries, pw_plate_read *out);

#ifdef __cplusplus
}
#endif

#endif
