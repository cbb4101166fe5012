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
    for (size_t i = 0; i < bytes; i++)
        px[i] = n ? p[i % n] : (uint8_t)(i * 31u);
    pw_plane frame = {px, w, h, stride, 1};
    const pw_candidate *c = NULL;
    size_t nc = 0;
    int rc = pw_detector_run(d, &frame, &c, &nc);
    int bad = w <= 0 || h <= 0 || stride < w;
    if ((bad && rc == 0) || (!bad && rc != 0) || nc > PW_DETECT_MAX_CANDIDATES)
        abort();
    for (size_t i = 0; i < nc; i++) {
        /* Touch every crop pixel so that a crop pointing outside its buffer is caught. */
        unsigned sum = 0;
        for (int y = 0; y < c[i].crop.height; y++)
            for (int x = 0; x < c[i].crop.width; x++)
                sum += c[i].crop.data[(size_t)y * (size_t)c[i].crop.stride + (size_t)x];
        if (c[i].box.x < 0 || c[i].box.y < 0 || c[i].box.x + c[i].box.w > w || c[i].box.y + c[i].box.h > h)
            abort();
        (void)sum;
    }
    free(px);
    pw_detector_destroy(&d);
    return 0;
}
