#define _POSIX_C_SOURCE 200809L
#include "pw_common.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct pw_image {
    pw_plane plane;
};

/* The one table of the project's own codes, indexed by PW_ERR_BASE - code. */
static const char *const pw_error_names[] = {
    [PW_ERR_BASE - PW_EDECODE] = "not a decodable image",
    [PW_ERR_BASE - PW_ETRUNCATED] = "truncated image file",
    [PW_ERR_BASE - PW_EEMPTYIMG] = "empty image (zero size)",
    [PW_ERR_BASE - PW_ETOOBIG] = "image or frame too large",
    [PW_ERR_BASE - PW_ECV] = "OpenCV error",
    [PW_ERR_BASE - PW_EOCRINIT] = "OCR engine could not be initialised",
    [PW_ERR_BASE - PW_EOCR] = "OCR engine failed",
    [PW_ERR_BASE - PW_EFORMATFILE] = "malformed plate-format file",
    [PW_ERR_BASE - PW_ECONFIG] = "invalid configuration",
    [PW_ERR_BASE - PW_EBADFRAME] = "inconsistent frame geometry",
    [PW_ERR_BASE - PW_ENOPLATE] = "no plate found",
    [PW_ERR_BASE - PW_EMANIFEST] = "malformed manifest",
    [PW_ERR_BASE - PW_ESIMD] = "SIMD level not supported by this CPU",
    [PW_ERR_BASE - PW_EMSG] = "malformed message",
    [PW_ERR_BASE - PW_EKEYFILE] = "malformed key file",
    [PW_ERR_BASE - PW_EKEYPERM] = "secret key file permissions too loose",
    [PW_ERR_BASE - PW_EJOURNAL] = "event journal error",
    [PW_ERR_BASE - PW_ESOURCE] = "capture source cannot start",
    [PW_ERR_BASE - PW_EEOS] = "end of stream",
    [PW_ERR_BASE - PW_ESTORE] = "declarations store error",
    [PW_ERR_BASE - PW_EIMPORT] = "malformed rows in a declarations import file",
    [PW_ERR_BASE - PW_EHANDSHAKE] = "the security (CURVE) handshake with a peer failed",
    [PW_ERR_BASE - PW_EAUTH] = "login or session refused",
};

const char *pw_strerror(int code)
{
    if (code == 0)
        return "success";
    if (code < PW_ERR_BASE && code > PW_ELAST) {
        const char *name = pw_error_names[PW_ERR_BASE - code];
        return name ? name : "unknown platewatch error";
    }
    if (code < 0 && code > PW_ERR_BASE)
        return strerror(-code);
    return "unknown error";
}

int pw_err_set(pw_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void pw_err_clear(pw_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

int pw_plane_check(const pw_plane *p)
{
    if (!p || !p->data)
        return -EINVAL;
    if (p->width <= 0 || p->height <= 0)
        return PW_EEMPTYIMG;
    if (p->channels != 1 && p->channels != 3)
        return -EINVAL;
    if (p->width > PW_MAX_IMAGE_SIDE || p->height > PW_MAX_IMAGE_SIDE)
        return PW_ETOOBIG;
    if (p->stride < p->width * p->channels)
        return PW_EBADFRAME;
    return 0;
}

int pw_image_new(int width, int height, int channels, pw_image **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (width <= 0 || height <= 0)
        return PW_EEMPTYIMG;
    if (width > PW_MAX_IMAGE_SIDE || height > PW_MAX_IMAGE_SIDE)
        return PW_ETOOBIG;
    if (channels != 1 && channels != 3)
        return -EINVAL;
    pw_image *img = calloc(1, sizeof *img);
    if (!img)
        return -ENOMEM;
    /* Rows are padded to 32 bytes so SIMD loops may load whole vectors per row. */
    int stride = (width * channels + 31) & ~31;
    img->plane.data = calloc((size_t)stride, (size_t)height);
    if (!img->plane.data) {
        free(img);
        return -ENOMEM;
    }
    img->plane.width = width;
    img->plane.height = height;
    img->plane.stride = stride;
    img->plane.channels = channels;
    *out = img;
    return 0;
}

void pw_image_destroy(pw_image **img)
{
    if (!img || !*img)
        return;
    free((*img)->plane.data);
    free(*img);
    *img = NULL;
}

pw_plane pw_image_plane(const pw_image *img)
{
    return img->plane;
}

double pw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int pw_edit_distance(const char *a, const char *b)
{
    enum { CAP = 64 };
    size_t la = strnlen(a, CAP - 1), lb = strnlen(b, CAP - 1);
    int prev[CAP], cur[CAP];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

void pw_reexec_with_single_thread_openmp(char **argv)
{
    const char *limit = getenv("OMP_THREAD_LIMIT");
    if (limit && strcmp(limit, "1") == 0)
        return;
    if (setenv("OMP_THREAD_LIMIT", "1", 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    fprintf(stderr, "%s: warning: cannot re-execute with OMP_THREAD_LIMIT=1 (%s); OCR will be slow\n",
            argv[0], strerror(errno));
}

pw_rect pw_rect_intersect(pw_rect a, pw_rect b)
{
    int x0 = a.x > b.x ? a.x : b.x, y0 = a.y > b.y ? a.y : b.y;
    int x1 = a.x + a.w < b.x + b.w ? a.x + a.w : b.x + b.w;
    int y1 = a.y + a.h < b.y + b.h ? a.y + a.h : b.y + b.h;
    if (x1 <= x0 || y1 <= y0)
        return (pw_rect){x0, y0, 0, 0};
    return (pw_rect){x0, y0, x1 - x0, y1 - y0};
}

double pw_rect_iou(pw_rect a, pw_rect b)
{
    if (a.w <= 0 || a.h <= 0 || b.w <= 0 || b.h <= 0)
        return 0.0;
    pw_rect i = pw_rect_intersect(a, b);
    double inter = (double)i.w * i.h;
    return inter / ((double)a.w * a.h + (double)b.w * b.h - inter);
}

size_t pw_plate_chars(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return 0;
    for (; in && *in && n + 1 < cap; in++)
        if (g_ascii_isalnum(*in))
            out[n++] = g_ascii_toupper(*in);
    out[n] = '\0';
    return n;
}
