#define _POSIX_C_SOURCE 200809L
#include "synth.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* A small local generator, so that renders depend on the seed alone. */
typedef struct {
    uint64_t s;
} rng;

static uint32_t rng_next(rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)(r->s >> 11);
}

static int rng_int(rng *r, int lo, int hi)
{
    return hi <= lo ? lo : lo + (int)(rng_next(r) % (uint32_t)(hi - lo + 1));
}

static double rng_gauss(rng *r)
{
    double u1 = (rng_next(r) + 1.0) / 4294967297.0;
    double u2 = rng_next(r) / 4294967296.0;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static uint8_t clamp_u8(double v)
{
    return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)lrint(v);
}

void pw_plate_style_defaults(pw_plate_style *style, const char *text, int char_height)
{
    memset(style, 0, sizeof *style);
    style->text = text;
    style->char_height = char_height;
    style->font = PW_FONT_SANS_BOLD;
    style->dark_on_light = 1;
    style->plate_value = 235;
    style->text_value = 20;
    style->border = 1;
}

static void fill_rect(pw_plane *p, int x0, int y0, int w, int h, uint8_t v)
{
    int x1 = x0 + w, y1 = y0 + h;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > p->width) x1 = p->width;
    if (y1 > p->height) y1 = p->height;
    for (int y = y0; y < y1; y++)
        memset(pw_plane_at(p, x0, y), v, (size_t)(x1 > x0 ? x1 - x0 : 0));
}

static void frame_rect(pw_plane *p, int x0, int y0, int w, int h, int t, uint8_t v)
{
    fill_rect(p, x0, y0, w, t, v);
    fill_rect(p, x0, y0 + h - t, w, t, v);
    fill_rect(p, x0, y0, t, h, v);
    fill_rect(p, x0 + w - t, y0, t, h, v);
}

/* Scale and stroke width that give the requested cap height in a Hershey font. */
static int text_metrics(const pw_plate_style *s, const char *text, double *scale, int *thick,
                        int *w, int *h)
{
    int w1, h1, base;
    int rc = pw_cv_text_size("0", s->font, 1.0, 1, &w1, &h1, &base);
    if (rc < 0)
        return rc;
    *scale = (double)s->char_height / (double)h1;
    *thick = s->char_height / 9 > 1 ? s->char_height / 9 : 1;
    return pw_cv_text_size(text, s->font, *scale, *thick, w, h, &base);
}

int pw_synth_plate(const pw_plate_style *s, pw_image **out)
{
    if (!s || !out || !s->text || !*s->text || s->char_height < 6 || strlen(s->text) > 63)
        return -EINVAL;
    char rows[2][64] = {{0}};
    int nrows = 1;
    strcpy(rows[0], s->text);
    char *space = strchr(rows[0], ' ');
    if (s->two_rows && space) {
        *space = '\0';
        strcpy(rows[1], space + 1);
        nrows = 2;
    }
    double scale[2];
    int thick[2], tw[2] = {0, 0}, th[2] = {0, 0};
    for (int i = 0; i < nrows; i++) {
        int rc = text_metrics(s, rows[i], &scale[i], &thick[i], &tw[i], &th[i]);
        if (rc < 0)
            return rc;
    }
    int margin = s->char_height / 2 + 2;
    int row_pitch = s->char_height * 3 / 2;
    int width = (tw[0] > tw[1] ? tw[0] : tw[1]) + 2 * margin;
    int height = nrows * row_pitch + s->char_height * 2 / 5 + 4;
    int rc = pw_image_new(width, height, 1, out);
    if (rc < 0)
        return rc;
    pw_plane p = pw_image_plane(*out);
    fill_rect(&p, 0, 0, width, height, (uint8_t)s->plate_value);
    if (s->border)
        frame_rect(&p, 1, 1, width - 2, height - 2, s->char_height / 14 + 1, (uint8_t)s->text_value);
    uint8_t value[3] = {(uint8_t)s->text_value, (uint8_t)s->text_value, (uint8_t)s->text_value};
    int top = (height - nrows * row_pitch) / 2;
    for (int i = 0; i < nrows && rc == 0; i++) {
        int baseline = top + i * row_pitch + (row_pitch + s->char_height) / 2;
        rc = pw_cv_put_text(&p, rows[i], (width - tw[i]) / 2, baseline, s->font, scale[i], thick[i], value);
    }
    if (rc < 0)
        pw_image_destroy(out);
    return rc;
}

static void draw_background(pw_plane *p, const pw_scene_spec *spec, rng *r)
{
    int top = rng_int(r, 60, 200), bottom = rng_int(r, 40, 180);
    for (int y = 0; y < p->height; y++) {
        uint8_t v = (uint8_t)(top + (bottom - top) * y / (p->height > 1 ? p->height - 1 : 1));
        memset(pw_plane_at(p, 0, y), v, (size_t)p->width);
    }
    for (int i = 0; i < spec->clutter; i++) {
        int w = rng_int(r, 4, p->width / 4 + 4), h = rng_int(r, 2, p->height / 6 + 2);
        if (rng_int(r, 0, 2) == 0)
            w = rng_int(r, 1, 3); /* thin vertical strokes, like poles and railings */
        fill_rect(p, rng_int(r, -w / 2, p->width), rng_int(r, -h / 2, p->height), w, h,
                  (uint8_t)rng_int(r, 0, 255));
    }
}

/* Pastes the plate rotated about (cx, cy) by inverse mapping with bilinear sampling. */
static void paste_rotated(pw_plane *dst, const pw_plane *src, float cx, float cy, float tilt_deg,
                          float corners[4][2])
{
    double a = tilt_deg * M_PI / 180.0, ca = cos(a), sa = sin(a);
    double hw = src->width / 2.0, hh = src->height / 2.0;
    const double local[4][2] = {{-hw, -hh}, {hw, -hh}, {hw, hh}, {-hw, hh}};
    double minx = 1e9, miny = 1e9, maxx = -1e9, maxy = -1e9;
    for (int i = 0; i < 4; i++) {
        double x = cx + local[i][0] * ca - local[i][1] * sa;
        double y = cy + local[i][0] * sa + local[i][1] * ca;
        if (corners) {
            corners[i][0] = (float)x;
            corners[i][1] = (float)y;
        }
        minx = fmin(minx, x), maxx = fmax(maxx, x), miny = fmin(miny, y), maxy = fmax(maxy, y);
    }
    int x0 = (int)fmax(0, floor(minx)), x1 = (int)fmin(dst->width - 1, ceil(maxx));
    int y0 = (int)fmax(0, floor(miny)), y1 = (int)fmin(dst->height - 1, ceil(maxy));
    for (int y = y0; y <= y1; y++) {
        for (int x = x0; x <= x1; x++) {
            double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
            double u = dx * ca + dy * sa + hw - 0.5, v = -dx * sa + dy * ca + hh - 0.5;
            if (u < 0 || v < 0 || u > src->width - 1 || v > src->height - 1)
                continue;
            int iu = (int)u, iv = (int)v;
            int iu1 = iu + 1 < src->width ? iu + 1 : iu, iv1 = iv + 1 < src->height ? iv + 1 : iv;
            double fu = u - iu, fv = v - iv;
            double top = *pw_plane_at(src, iu, iv) * (1 - fu) + *pw_plane_at(src, iu1, iv) * fu;
            double bot = *pw_plane_at(src, iu, iv1) * (1 - fu) + *pw_plane_at(src, iu1, iv1) * fu;
            *pw_plane_at(dst, x, y) = clamp_u8(top * (1 - fv) + bot * fv);
        }
    }
}

static void add_noise(pw_plane *p, double sigma, rng *r)
{
    for (int y = 0; y < p->height; y++) {
        uint8_t *row = pw_plane_at(p, 0, y);
        for (int x = 0; x < p->width; x++)
            row[x] = clamp_u8(row[x] + sigma * rng_gauss(r));
    }
}

static void shift_brightness(pw_plane *p, int delta)
{
    for (int y = 0; y < p->height; y++) {
        uint8_t *row = pw_plane_at(p, 0, y);
        for (int x = 0; x < p->width; x++)
            row[x] = clamp_u8(row[x] + delta);
    }
}

int pw_synth_scene(const pw_scene_spec *spec, const pw_scene_plate *plates, size_t n,
                   pw_image **out, float (*corners)[4][2])
{
    if (!spec || !out || (n && !plates))
        return -EINVAL;
    int rc = pw_image_new(spec->width, spec->height, 1, out);
    if (rc < 0)
        return rc;
    pw_plane scene = pw_image_plane(*out);
    rng r = {spec->seed * 2654435761u + 0x9E3779B97F4A7C15ull};
    draw_background(&scene, spec, &r);
    for (size_t i = 0; i < n && rc == 0; i++) {
        pw_image *plate = NULL;
        rc = pw_synth_plate(&plates[i].style, &plate);
        if (rc < 0)
            break;
        pw_plane pp = pw_image_plane(plate);
        if (spec->vehicle) {
            int bw = pp.width * 4, bh = pp.height * 5;
            fill_rect(&scene, (int)plates[i].cx - bw / 2, (int)plates[i].cy - bh * 3 / 5, bw, bh,
                      (uint8_t)rng_int(&r, 30, 110));
        }
        paste_rotated(&scene, &pp, plates[i].cx, plates[i].cy, plates[i].tilt_deg,
                      corners ? corners[i] : NULL);
        pw_image_destroy(&plate);
    }
    if (rc == 0 && spec->blur_sigma > 0)
        rc = pw_cv_gaussian_blur(&scene, spec->blur_sigma);
    if (rc == 0 && spec->brightness)
        shift_brightness(&scene, spec->brightness);
    if (rc == 0 && spec->noise_sigma > 0) {
        rng noise = {spec->noise_seed ? spec->noise_seed * 0x2545F4914F6CDD1Dull + 1 : r.s};
        add_noise(&scene, spec->noise_sigma, &noise);
    }
    if (rc < 0)
        pw_image_destroy(out);
    return rc;
}
