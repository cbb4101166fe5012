/*
 * cvshim.h - the only door to OpenCV. The implementation is C++17; this
 * header is C. Every function catches cv::Exception (and std::bad_alloc)
 * and returns a negative code instead: PW_ECV, -ENOMEM or a more precise
 * code where one applies.
 *
 * Ownership: pw_image results are new images owned by the caller (free with
 * pw_image_destroy). Encoded buffers are malloc'd and owned by the caller
 * (free with free()). pw_plane arguments are borrowed for the call only.
 * A pw_cv_cascade is owned by its creator; pw_cv_cascade_destroy() frees it
 * and nulls the pointer.
 */
#ifndef PW_CVSHIM_H
#define PW_CVSHIM_H

#include "pw_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Decoding and encoding ------------------------------------------ */

/*
 * Decodes an encoded image (JPEG, PNG, BMP, ...) held in memory. Either of
 * grey and bgr may be NULL when that form is not wanted. Returns
 * PW_EEMPTYIMG for len 0, PW_EDECODE when no decoder accepts the bytes and
 * PW_ETOOBIG when the header announces more than PW_MAX_IMAGE_SIDE.
 */
int pw_cv_decode(const uint8_t *buf, size_t len, pw_image **grey, pw_image **bgr, pw_err *err);

/*
 * Encodes a plane; ext selects the format (".jpg", ".png"); quality is the
 * JPEG quality 1..100 (ignored for PNG). *out is malloc'd.
 */
int pw_cv_encode(const pw_plane *src, const char *ext, int quality, uint8_t **out, size_t *len);

/* Writes a plane to an image file whose extension chooses the format. */
int pw_cv_write_file(const pw_plane *src, const char *path, pw_err *err);

/* ---- Geometry ------------------------------------------------------- */

/*
 * Maps the quadrilateral quad (x,y pairs: top-left, top-right, bottom-right,
 * bottom-left, in src pixels) onto the whole of dst, bilinear. dst must be
 * allocated by the caller with the same channel count as src.
 */
int pw_cv_warp_quad(const pw_plane *src, const float quad[8], pw_plane *dst);

/* dst = src warped by the 2x3 affine matrix m (dst to src is inverted inside). */
int pw_cv_warp_affine(const pw_plane *src, const double m[6], int border_value, pw_plane *dst);

/* Resizes src into dst's size: area averaging when shrinking, bilinear when growing. */
int pw_cv_resize(const pw_plane *src, pw_plane *dst);

/* Gaussian blur in place; sigma <= 0 does nothing. */
int pw_cv_gaussian_blur(pw_plane *p, double sigma);

/* ---- Drawing (for rendered test data) ---------------------------------- */

/* Fonts built into OpenCV (Hershey), so rendering needs no font files. */
typedef enum {
    PW_FONT_SANS = 0,       /* FONT_HERSHEY_SIMPLEX */
    PW_FONT_SANS_BOLD = 1,  /* FONT_HERSHEY_DUPLEX */
    PW_FONT_SERIF = 2       /* FONT_HERSHEY_TRIPLEX */
} pw_font;

/* Size in pixels of text drawn with the given font, scale and thickness. */
int pw_cv_text_size(const char *text, pw_font font, double scale, int thickness,
                    int *width, int *height, int *baseline);

/* Draws text with its baseline-left at (x, y) in the grey or BGR value given. */
int pw_cv_put_text(pw_plane *p, const char *text, int x, int y, pw_font font,
                   double scale, int thickness, const uint8_t value[3]);

/* ---- Haar cascade (the detection baseline) ---------------------------- */

typedef struct pw_cv_cascade pw_cv_cascade;

/* Loads a cascade XML file; names the file in err when it cannot. */
int pw_cv_cascade_new(const char *path, pw_cv_cascade **out, pw_err *err);
void pw_cv_cascade_destroy(pw_cv_cascade **c);
/* Detects objects of at least min_w x min_h; fills up to max rects, sets *n. */
int pw_cv_cascade_detect(pw_cv_cascade *c, const pw_plane *grey, int min_w, int min_h,
                         pw_rect *rects, size_t max, size_t *n);

/* ---- Image processing for OCR (implemented in cvshim_ocr.cpp) ---------- */

/* Contrast-limited adaptive histogram equalisation, src and dst grey, same size. */
int pw_cv_clahe(const pw_plane *src, pw_plane *dst, double clip_limit, int tiles);

/* Otsu's global threshold; invert gives white text on black -> black on white. */
int pw_cv_threshold_otsu(const pw_plane *src, pw_plane *dst, int invert);

/* Mean adaptive threshold over a block x block window (block odd), offset c. */
int pw_cv_threshold_adaptive(const pw_plane *src, pw_plane *dst, int block, double c, int invert);

/* A connected component: bounding box and pixel count. */
typedef struct {
    int x, y, w, h;
    int area;
} pw_cc;

/*
 * Labels the 8-connected non-zero regions of a grey plane. labels (may be
 * NULL) receives width * height ints, row by row: 0 for background, i + 1
 * for the pixels of component i. ccs receives the first max components
 * (pixels of later ones are labelled above max); *n is the total number.
 */
int pw_cv_components(const pw_plane *bin, int32_t *labels, pw_cc *ccs, size_t max, size_t *n);

/* Median blur in place with an odd kernel size (3 or 5), to remove salt-and-pepper noise. */
int pw_cv_median_blur(pw_plane *p, int ksize);

/* ---- Additions by later modules go below, each in its own section ------ */

/* ---- capture additions ---- */
/* Colour conversions for capture/ (implemented in cvshim_capture.cpp).
 * Planes are borrowed; dst is allocated by the caller with src's size. */

/* BGR (3 channels) to 8-bit grey with OpenCV's BT.601 weights. */
int pw_cv_bgr_to_grey(const pw_plane *bgr, pw_plane *grey);

/* Grey to BGR by replication (a grey camera asked for colour). */
int pw_cv_grey_to_bgr(const pw_plane *grey, pw_plane *bgr);

/*
 * Packed YUYV 4:2:2 (2 bytes a pixel, stride bytes a row, width even) to
 * grey and/or BGR; either output may be NULL.
 */
int pw_cv_yuyv_convert(const uint8_t *yuyv, int width, int height, int stride,
                       pw_plane *grey, pw_plane *bgr);

/* ---- detect additions ---- */

/*
 * Sets how many threads OpenCV's own parallel loops may use (cv::setNumThreads;
 * 0 or 1 runs them on the calling thread). The detect benchmark uses 1 so that
 * the Haar baseline runs on one thread, like the localiser it is compared with.
 */
int pw_cv_set_threads(int n);

#ifdef __cplusplus
}
#endif

#endif
