/*
 * detect_fixtures.h - rendered scenes for the localiser's suites: plates of
 * known text, size, tilt and polarity pasted into cluttered backgrounds by
 * synth/, with their true corners.
 */
#ifndef PW_TEST_DETECT_FIXTURES_H
#define PW_TEST_DETECT_FIXTURES_H

#include <math.h>
#include <string.h>

#include "detect.h"
#include "synth.h"

/* One plate in a width x height scene; corners receive its true corners. */
static inline pw_image *scene_one(int width, int height, const char *text, int char_h, float cx, float cy,
                                  float tilt, int dark_on_light, unsigned seed, float corners[4][2])
{
    pw_scene_spec spec = {.width = width, .height = height, .seed = seed, .clutter = 30, .blur_sigma = 0.8, .noise_sigma = 2.0, .vehicle = 1};
    pw_scene_plate p;
    pw_plate_style_defaults(&p.style, text, char_h);
    if (!dark_on_light) {
        p.style.dark_on_light = 0;
        p.style.plate_value = 25;
        p.style.text_value = 230;
    }
    p.cx = cx;
    p.cy = cy;
    p.tilt_deg = tilt;
    pw_image *img = NULL;
    float c[1][4][2];
    if (pw_synth_scene(&spec, &p, 1, &img, c) < 0)
        return NULL;
    if (corners)
        memcpy(corners, c[0], sizeof c[0]);
    return img;
}

/* Axis-aligned box of four corners. */
static inline pw_rect corners_rect(float c[4][2])
{
    float x0 = c[0][0], x1 = c[0][0], y0 = c[0][1], y1 = c[0][1];
    for (int i = 1; i < 4; i++) {
        x0 = fminf(x0, c[i][0]), x1 = fmaxf(x1, c[i][0]);
        y0 = fminf(y0, c[i][1]), y1 = fmaxf(y1, c[i][1]);
    }
    return (pw_rect){(int)x0, (int)y0, (int)(x1 - x0 + 0.5f), (int)(y1 - y0 + 0.5f)};
}

static inline int find_hit(const pw_candidate *c, size_t n, pw_rect truth, double min_iou)
{
    for (size_t i = 0; i < n; i++)
        if (pw_rect_iou(c[i].box, truth) > min_iou)
            return (int)i;
    return -1;
}

static inline pw_detector *detector_at(pw_simd_level level)
{
    pw_detect_config cfg;
    pw_detect_config_defaults(&cfg);
    cfg.simd = level;
    pw_detector *d = NULL;
    return pw_detector_new(&cfg, &d, NULL) == 0 ? d : NULL;
}

#endif
