/*
 * fuzz_detect.c - libFuzzer target for the localiser. The first bytes of
 * the input choose the frame's width, height, stride, SIMD level and region
 * of interest; the rest fills the pixels (repeated when short). The frame
 * is allocated to its exact size so that AddressSanitizer catches any read
 * past its last pixel. Geometry that pw_detector_run() must reject (zero
 * sides, stride < width) is generated too, and must give an error code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"

/* Largest side fuzzed: big enough for every pyramid level, small enough to stay fast. */
#define FUZZ_MAX_SIDE 1400

static int read_u16(const uint8_t **p, size_t *n)
{
    if (*n < 2)
        return 0;
    int v = (*p)[0] | (*p)[1] << 8;
    *p += 2;
    *n -= 2;
    return v;
}

static pw_detector *make_detector(const uint8_t **p, size_t *n, int w, int h)
{
    pw_detect_config cfg;
    pw_detect_config_defaults(&cfg);
    int sel = *n ? (*p)[0] : 0;
    if (*n)
        (*p)++, (*n)--;
    pw_simd_level best = pw_simd_best();
    cfg.simd = sel % 4 > (int)best ? best : (pw_simd_level)(sel % 4);
    if (sel & 0x10)
        cfg.roi = (pw_rect){(sel >> 5) * w / 8, (sel >> 5) * h / 8, w / 2 + 1, h / 2 + 1};
    if (sel & 0x08)
        cfg.max_candidates = PW_DETECT_MAX_CANDIDATES;
    pw_detector *d = NULL;
    if (pw_detector_new(&cfg, &d, NULL) != 0)
        abort();
    return d;
}

/*
 * Fills the frame with the input's pixel bytes, repeated, by doubling memcpy:
 * a byte-by-byte loop spent a tenth of every execution in the fuzzer's own
 * comparison hooks, on frames of up to two megapixels.
 */
static void fill_pixels(uint8_t *px, size_t bytes, const uint8_t *p, size_t n)
{
    if (n == 0) {
        for (size_t i = 0; i < bytes && i < 256; i++)
            px[i] = (uint8_t)(i * 31u);
        n = bytes < 256 ? bytes : 256;
        p = px;
    }
    size_t done = n < bytes ? n : bytes;
    memmove(px, p, done);
    while (done < bytes) {
        size_t more = done < bytes - done ? done : bytes - done;
        memcpy(px + done, px, more);
        done += more;
    }
}

/*
 * Reads every row of a crop through memcpy, which AddressSanitizer checks as
 * one range: a crop that points outside its buffer is caught as surely as by
 * touching each pixel, without a comparison hook per pixel.
 */
static void touch_crop(const pw_plane *crop)
{
    static const size_t row_max = 1u << 16;
    if ((size_t)crop->width > row_max)
        abort(); /* no frame fuzzed here is that wide: the crop's geometry is corrupt */
    if (crop->width <= 0 || crop->height <= 0)
        return;
    uint8_t *row = malloc((size_t)crop->width);
    if (!row)
        abort();
    for (int y = 0; y < crop->height; y++)
        memcpy(row, crop->data + (size_t)y * (size_t)crop->stride, (size_t)crop->width);
    free(row);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    int w = read_u16(&p, &n) % FUZZ_MAX_SIDE, h = read_u16(&p, &n) % FUZZ_MAX_SIDE;
    int pad = read_u16(&p, &n) % 67 - 3; /* negative pads make stride < width */
    int stride = w + pad;
    pw_detector *d = make_detector(&p, &n, w, h);
    size_t bytes = stride > 0 && h > 0 ? (size_t)stride * (size_t)(h - 1) + (size_t)w : 1;
    uint8_t *px = malloc(bytes);
    if (!px)
        abort();
    fill_pixels(px, bytes, p, n);
    pw_plane frame = {px, w, h, stride, 1};
    const pw_candidate *c = NULL;
    size_t nc = 0;
    int rc = pw_detector_run(d, &frame, &c, &nc);
    int bad = w <= 0 || h <= 0 || stride < w;
    if ((bad && rc == 0) || (!bad && rc != 0) || nc > PW_DETECT_MAX_CANDIDATES)
        abort();
    for (size_t i = 0; i < nc; i++) {
        touch_crop(&c[i].crop);
        if (c[i].box.x < 0 || c[i].box.y < 0 || c[i].box.x + c[i].box.w > w || c[i].box.y + c[i].box.h > h)
            abort();
    }
    free(px);
    pw_detector_destroy(&d);
    return 0;
}
