/*
 * crop.c - the rectified crop for OCR: the text line's rotated rectangle,
 * widened by a margin so that edge characters are never cut, resampled
 * bilinearly to crop_height rows. It samples the pyramid level whose pixel
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

/* Bilinear sample in 8-bit fixed point, clamped to the level's edges. */
static uint8_t sample(const pw_level *lv, float x, float y)
{
    x = x < 0.f ? 0.f : x > (float)(lv->w - 1) ? (float)(lv->w - 1) : x;
    y = y < 0.f ? 0.f : y > (float)(lv->h - 1) ? (float)(lv->h - 1) : y;
    int xi = (int)x, yi = (int)y;
    int fx = (int)((x - (float)xi) * 256.f), fy = (int)((y - (float)yi) * 256.f);
    int xj = xi + 1 < lv->w ? xi + 1 : xi, yj = yi + 1 < lv->h ? yi + 1 : yi;
    const uint8_t *r0 = lv->data + (ptrdiff_t)yi * lv->stride;
    const uint8_t *r1 = lv->data + (ptrdiff_t)yj * lv->stride;
    int top = r0[xi] * (256 - fx) + r0[xj] * fx;
    int bot = r1[xi] * (256 - fx) + r1[xj] * fx;
    return (uint8_t)((top * (256 - fy) + bot * fy + 32768) >> 16);
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
    for (int j = 0; j < ch; j++) {
        float v = ((float)j + 0.5f - (float)ch / 2.f) * sy;
        uint8_t *row = crop_px + (size_t)j * (size_t)cw;
        for (int i = 0; i < cw; i++) {
            float u = ((float)i + 0.5f - (float)cw / 2.f) * sx;
            row[i] = sample(lv, ox + u * ux - v * uy, oy + u * uy + v * ux);
        }
    }
    cand->crop = (pw_plane){crop_px, cw, ch, cw, 1};
}
