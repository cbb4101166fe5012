/*
 * crop.c - the rectified crop for OCR: the text line's rotated rectangle,
 * widened by a margin so that edge characters are never cut, resampled
 * bilinearly (kernels' warp_row, in fixed point) to crop_height rows. It samples the pyramid level whose pixel
 * is closest to (but not larger than) a crop pixel, so that shrinking a big
 * plate averages instead of aliasing.
 */
#include "detect_internal.h"

#include <math.h>

/* The characters fill this share of the crop's height; the rest is margin above and below. */
#define PW_CROP_TEXT_SHARE 0.68f
/* Extra width each side, as a share of the crop's height in source pixels. */
#define PW_CROP_SIDE_MARGIN 0.3f

static int pick_level(const pw_detector *d, float src_h, int crop_h)
{
    int level = 0;
    while (level + 1 < d->nlevels && src_h / (float)(1 << (level + 1)) >= (float)crop_h)
        level++;
    return level;
}

/*
 * Keeps a start coordinate where its fixed-point form and every step along
 * a row fit in 32 bits; anything that far outside the image is clamped to
 * its edge by the sampler anyway.
 */
static float fix_range(float v)
{
    const float lim = (float)(2 * PW_MAX_IMAGE_SIDE);
    return v < -lim ? -lim : v > lim ? lim : v;
}

void pw_detect_crop(const pw_detector *d, const pw_textline *line, uint8_t *crop_px,
                    pw_candidate *cand)
{
    int ch = d->cfg.crop_height;
    float src_h = line->hgt / PW_CROP_TEXT_SHARE;
    float src_w = line->len + 2.f * PW_CROP_SIDE_MARGIN * src_h;
    int cw = (int)lrintf((float)ch * src_w / src_h);
    cw = cw < 8 ? 8 : cw > PW_CROP_MAX_ASPECT * ch ? PW_CROP_MAX_ASPECT * ch : cw;
    int level = pick_level(d, src_h, ch);
    const pw_level *lv = &d->levels[level];
    float inv = 1.f / (float)(1 << level);
    float ux = cosf(line->angle), uy = sinf(line->angle);
    /* Level-0 geometry mapped into the chosen level: p_l = (p0 + 0.5) / scale - 0.5. */
    float sx = src_w / (float)cw * inv, sy = src_h / (float)ch * inv;
    float ox = (line->cx + 0.5f) * inv - 0.5f, oy = (line->cy + 0.5f) * inv - 0.5f;
    const float one = (float)(1 << PW_WARP_FRAC);
    /* A step of at most 2^30 / widest crop keeps x + i * dx inside 32 bits. */
    const float step_lim = (float)((1 << 30) / (PW_CROP_MAX_ASPECT * 256));
    int32_t dx = (int32_t)lrintf(fmaxf(-step_lim, fminf(step_lim, sx * ux * one)));
    int32_t dy = (int32_t)lrintf(fmaxf(-step_lim, fminf(step_lim, sx * uy * one)));
    float u0 = (0.5f - (float)cw / 2.f) * sx;
    for (int j = 0; j < ch; j++) {
        float v = ((float)j + 0.5f - (float)ch / 2.f) * sy;
        int32_t x = (int32_t)lrintf(fix_range(ox + u0 * ux - v * uy) * one);
        int32_t y = (int32_t)lrintf(fix_range(oy + u0 * uy + v * ux) * one);
        d->k->warp_row(lv->data, lv->stride, lv->w, lv->h, x, y, dx, dy, cw, crop_px + (size_t)j * (size_t)cw);
    }
    cand->crop = (pw_plane){crop_px, cw, ch, cw, 1};
    cand->crop_scale = src_h / (float)ch;
}
