/*
 * synth.h - renders licence plates and street-like scenes with known text
 * and known plate corners, so that tests, the quick-start sample and the
 * recording generator have ground truth without any photograph.
 *
 * Rendering uses OpenCV's built-in Hershey fonts (through cvshim), so it
 * needs no font files. All randomness comes from the seed in the request:
 * the same request always gives the same pixels.
 *
 * Ownership: every pw_image returned is new and owned by the caller.
 */
#ifndef PW_SYNTH_H
#define PW_SYNTH_H

#include "cvshim.h"
#include "pw_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *text;     /* as printed, e.g. "AB-123-CD"; separators are drawn */
    int char_height;      /* cap height of the characters in pixels (>= 6) */
    pw_font font;
    int dark_on_light;    /* 1: dark text on a light plate; 0: light text on dark */
    int plate_value;      /* grey level of the plate background, 0-255 */
    int text_value;       /* grey level of the characters, 0-255 */
    int border;           /* 1 draws a thin frame line around the plate */
    int two_rows;         /* 1 splits the text at its first space into two rows */
} pw_plate_style;

/* A readable default style: black DUPLEX text on white, cap height h. */
void pw_plate_style_defaults(pw_plate_style *style, const char *text, int char_height);

/* Renders the plate alone (grey), unrotated, with its margin. */
int pw_synth_plate(const pw_plate_style *style, pw_image **out);

typedef struct {
    pw_plate_style style;
    float cx, cy;         /* centre of the plate in the scene, pixels */
    float tilt_deg;       /* in-plane rotation, positive clockwise */
} pw_scene_plate;

typedef struct {
    int width, height;    /* scene size */
    unsigned seed;        /* background clutter (and noise when noise_seed is 0) */
    unsigned noise_seed;  /* pixel noise; vary it per frame for a live-looking clip */
    int brightness;       /* added to every pixel after rendering, -128..127 (lighting change) */
    int clutter;          /* number of random rectangles and strokes in the background */
    double blur_sigma;    /* Gaussian blur applied to the whole scene, 0 for none */
    double noise_sigma;   /* additive Gaussian pixel noise, 0 for none */
    int vehicle;          /* 1 draws a darker vehicle body around each plate */
} pw_scene_spec;

/*
 * Renders a grey scene with the given plates. corners (may be NULL) receives
 * for each plate the x,y of its top-left, top-right, bottom-right and
 * bottom-left corners in scene pixels, in the order of the plates.
 */
int pw_synth_scene(const pw_scene_spec *spec, const pw_scene_plate *plates, size_t n,
                   pw_image **out, float (*corners)[4][2]);

#ifdef __cplusplus
}
#endif

#endif
