/*
 * prep.h - preparation of a plate crop for OCR (internal to the ocr module):
 * size and contrast normalisation, binarisation, selection of the
 * character-like components (which trims borders, frame lines, screws and
 * country bands), polarity, and the splitting of two-row plates into rows
 * laid side by side as one text line.
 *
 * Ownership: every pw_image returned is new and owned by the caller.
 */
#ifndef PW_PREP_H
#define PW_PREP_H

#include "cvshim.h"
#include "pw_common.h"

/* Height every crop is scaled to before analysis. */
#define PW_PREP_HEIGHT 96
/* Cap height of the characters in the line images given to Tesseract. */
#define PW_PREP_CHAR_HEIGHT 36
/*
 * Components per 10000 pixels above which a mask is noise or texture, not a
 * plate: rendered noise gives about 60-100, real plate crops at most about 50.
 */
#define PW_PREP_MAX_CC_DENSITY 56

typedef enum {
    PW_BIN_OTSU = 0,      /* one global threshold: clean, evenly lit plates */
    PW_BIN_ADAPTIVE = 1,  /* local mean threshold: shadows, uneven light */
    PW_BIN_CLAHE = 2      /* local contrast equalisation (CLAHE) then Otsu: faint or glaring prints */
} pw_bin_method;

/*
 * Scales the crop to PW_PREP_HEIGHT rows (narrower when it is very wide)
 * and stretches its contrast. Returns PW_ENOPLATE for crops too small or
 * too uniform to hold characters.
 */
int pw_prep_normalise(const pw_plane *crop, pw_image **out);

/*
 * Writes mask (the norm's size, channels 1): text pixels 255, background 0,
 * by the given method, for dark text (light_text 0) or light text (1).
 */
int pw_prep_binarise(const pw_plane *norm, pw_bin_method method, int light_text, pw_plane *mask);

/* Components a labelled mask keeps; more than this is noise, not a plate. */
#define PW_PREP_MAX_CCS 512

/*
 * The binarisations of one normalised crop, labelled into components, kept
 * so that each is made once: the slope estimate and the first preparation
 * both start from the adaptive binarisation of both polarities, and when
 * the crop is already level they look at the same pixels.
 *
 * Ownership: the caller owns it (pw_prep_labels_destroy). It belongs to one
 * normalised plane at a time and one thread: pw_prep_labels_clear empties
 * it when that plane is replaced (a levelled copy).
 */
typedef struct pw_prep_labels pw_prep_labels;

int pw_prep_labels_new(pw_prep_labels **out);
void pw_prep_labels_destroy(pw_prep_labels **l);
void pw_prep_labels_clear(pw_prep_labels *l);

/*
 * norm's binarisation by method for dark (light_text 0) or light text (1),
 * labelled: labels (width * height, row by row, 0 for background, i + 1
 * for component i), the first PW_PREP_MAX_CCS components in ccs, and *n
 * all of them. Made on first use and kept in l; the pointers stay valid
 * until l is cleared or destroyed.
 */
int pw_prep_labelled(pw_prep_labels *l, const pw_plane *norm, pw_bin_method method, int light_text,
                     const int32_t **labels, const pw_cc **ccs, size_t *n);

/*
 * Estimates the slope of the characters of the normalised crop, in degrees
 * (positive when the line falls to the right), from -20 to 20; 0 when no
 * line of at least three characters is better level than sloping. labels
 * (NULL for none) keeps the binarisations it made, for pw_prep_line.
 */
int pw_prep_skew(const pw_plane *norm, pw_prep_labels *labels, double *degrees);

/*
 * Rotates the normalised crop so that a line of the given slope becomes
 * level; the result holds the whole crop, its new corners filled with the
 * crop's median grey.
 */
int pw_prep_rotate(const pw_plane *norm, double degrees, pw_image **out);

/* What the component analysis found. */
typedef struct {
    int rows;          /* 1 or 2 rows of characters; 0 when none were found */
    int chars;         /* character-like components kept */
    int light_text;    /* 1 when the characters were lighter than the plate */
    int char_height;   /* median character height in the normalised crop */
} pw_prep_info;

/*
 * Binarises the normalised crop, keeps the components that line up like
 * characters (trying both polarities unless polarity is 0 dark text or 1
 * light text; -1 tries both), and renders them as dark text on white, the
 * rows side by side, PW_PREP_CHAR_HEIGHT high. labels (NULL for none) holds
 * norm's binarisations already made, and keeps those made here. Returns
 * PW_ENOPLATE when no row of characters was found.
 */
int pw_prep_line(const pw_plane *norm, pw_bin_method method, int polarity, pw_prep_labels *labels,
                 pw_image **line, pw_prep_info *info);

/*
 * The whole normalised crop as dark text on light, with a white margin, for
 * Tesseract's own binarisation (the fallback when component analysis fails).
 */
int pw_prep_plain(const pw_plane *norm, int light_text, pw_image **line);

#endif
