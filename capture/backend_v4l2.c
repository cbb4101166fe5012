/*
 * backend_v4l2.c - cameras through libv4l2, without GStreamer: open, query
 * capabilities, negotiate format (GREY, YUYV or MJPEG), size and rate, mmap
 * streaming buffers, and wait for frames with select() and a timeout.
 *
 * Each frame is converted into owned images at once and its driver buffer
 * queued again, so a slow consumer never starves the driver of buffers.
 * This file is compiled into its own library and linked with the real
 * libv4l2 in production and with the fake device in tests/capture/.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/select.h>

#include <libv4l2.h>
#include <linux/videodev2.h>

#include "capture_internal.h"
#include "cvshim.h"

#define PW_V4L2_BUFFERS 4

typedef struct {
    void *start;
    size_t length;
} mapped_buf;

typedef struct {
    pw_backend base;
    int fd;
    mapped_buf bufs[PW_V4L2_BUFFERS];
    unsigned nbufs;
    uint32_t pixfmt;
    int width, height, stride;
    GThread *thread;
    gint stop;
} v4l2_backend;

static int xioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do
        r = v4l2_ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

static const char *fourcc(uint32_t f, char out[5])
{
    for (int i = 0; i < 4; i++)
        out[i] = (char)((f >> (8 * i)) & 0xff);
    out[4] = '\0';
    return out;
}

static int check_caps(v4l2_backend *b, pw_err *err)
{
    struct v4l2_capability cap;
    memset(&cap, 0, sizeof cap);
    int rc = xioctl(b->fd, VIDIOC_QUERYCAP, &cap);
    if (rc)
        return pw_err_set(err, rc, "'%s' is not a V4L2 device (VIDIOC_QUERYCAP: %s)",
                          b->base.spec->path, g_strerror(-rc));
    uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE))
        return pw_err_set(err, PW_ESOURCE, "'%s' (%s) cannot capture video", b->base.spec->path,
                          (const char *)cap.card);
    if (!(caps & V4L2_CAP_STREAMING))
        return pw_err_set(err, PW_ESOURCE, "'%s' (%s) does not support streaming I/O",
                          b->base.spec->path, (const char *)cap.card);
    return 0;
}

/* Grey needs no conversion, YUYV a cheap one, MJPEG a decode: prefer in that order. */
static int choose_pixfmt(v4l2_backend *b, uint32_t *out, pw_err *err)
{
    static const uint32_t prefs[] = {V4L2_PIX_FMT_GREY, V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_MJPEG,
                                     V4L2_PIX_FMT_JPEG};
    int best = G_N_ELEMENTS(prefs);
    for (uint32_t i = 0; i < 64; i++) {
        struct v4l2_fmtdesc d;
        memset(&d, 0, sizeof d);
        d.index = i;
        d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        if (xioctl(b->fd, VIDIOC_ENUM_FMT, &d))
            break;
        for (int k = 0; k < best; k++)
            if (d.pixelformat == prefs[k])
                best = k;
    }
    if (best == (int)G_N_ELEMENTS(prefs))
        return pw_err_set(err, PW_ESOURCE, "'%s' offers none of GREY, YUYV or MJPEG",
                          b->base.spec->path);
    *out = prefs[best];
    return 0;
}

static int set_format(v4l2_backend *b, pw_err *err)
{
    uint32_t want = 0;
    int rc = choose_pixfmt(b, &want, err);
    if (rc)
        return rc;
    struct v4l2_format f;
    memset(&f, 0, sizeof f);
    f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if ((rc = xioctl(b->fd, VIDIOC_G_FMT, &f)))
        return pw_err_set(err, rc, "'%s': VIDIOC_G_FMT: %s", b->base.spec->path, g_strerror(-rc));
    f.fmt.pix.pixelformat = want;
    f.fmt.pix.field = V4L2_FIELD_NONE;
    if (b->base.cfg->width > 0) {
        f.fmt.pix.width = (uint32_t)b->base.cfg->width;
        f.fmt.pix.height = (uint32_t)b->base.cfg->height;
    }
    char cc[5];
    if ((rc = xioctl(b->fd, VIDIOC_S_FMT, &f)))
        return pw_err_set(err, rc, "'%s': VIDIOC_S_FMT %s %ux%u: %s", b->base.spec->path,
                          fourcc(want, cc), f.fmt.pix.width, f.fmt.pix.height, g_strerror(-rc));
    b->pixfmt = f.fmt.pix.pixelformat;
    b->width = (int)f.fmt.pix.width;
    b->height = (int)f.fmt.pix.height;
    b->stride = (int)f.fmt.pix.bytesperline;
    int bpp = b->pixfmt == V4L2_PIX_FMT_YUYV ? 2 : 1;
    if (b->pixfmt != want || b->width <= 0 || b->height <= 0 || b->width > PW_MAX_IMAGE_SIDE ||
        b->height > PW_MAX_IMAGE_SIDE)
        return pw_err_set(err, PW_ESOURCE, "'%s': the driver answered format %s %dx%d",
                          b->base.spec->path, fourcc(b->pixfmt, cc), b->width, b->height);
    if (b->stride < b->width * bpp)
        b->stride = b->width * bpp;
    return 0;
}

static void set_rate(v4l2_backend *b)
{
    const pw_capture_config *cfg = b->base.cfg;
    if (cfg->fps_num <= 0)
        return;
    struct v4l2_streamparm p;
    memset(&p, 0, sizeof p);
    p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    p.parm.capture.timeperframe.numerator = (uint32_t)cfg->fps_den;
    p.parm.capture.timeperframe.denominator = (uint32_t)cfg->fps_num;
    /* Many cameras only offer fixed rates; the nearest one the driver picks will do. */
    if (xioctl(b->fd, VIDIOC_S_PARM, &p))
        g_log("pw-capture", G_LOG_LEVEL_DEBUG, "source '%s': frame rate not settable",
              cfg->source);
}

static int map_buffers(v4l2_backend *b, pw_err *err)
{
    struct v4l2_requestbuffers req;
    memset(&req, 0, sizeof req);
    req.count = PW_V4L2_BUFFERS;
    req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    req.memory = V4L2_MEMORY_MMAP;
    int rc = xioctl(b->fd, VIDIOC_REQBUFS, &req);
    if (rc || req.count < 2)
        return pw_err_set(err, rc ? rc : PW_ESOURCE, "'%s': cannot get streaming buffers (%s)",
                          b->base.spec->path, rc ? g_strerror(-rc) : "fewer than 2");
    for (unsigned i = 0; i < req.count && i < PW_V4L2_BUFFERS; i++) {
        struct v4l2_buffer vb;
        memset(&vb, 0, sizeof vb);
        vb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        vb.memory = V4L2_MEMORY_MMAP;
        vb.index = i;
        if ((rc = xioctl(b->fd, VIDIOC_QUERYBUF, &vb)))
            return pw_err_set(err, rc, "'%s': VIDIOC_QUERYBUF: %s", b->base.spec->path,
                              g_strerror(-rc));
        void *p = v4l2_mmap(NULL, vb.length, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd,
                            vb.m.offset);
        if (p == MAP_FAILED)
            return pw_err_set(err, -errno, "'%s': mmap of buffer %u: %s", b->base.spec->path, i,
                              g_strerror(errno));
        b->bufs[i].start = p;
        b->bufs[i].length = vb.length;
        b->nbufs = i + 1;
        if ((rc = xioctl(b->fd, VIDIOC_QBUF, &vb)))
            return pw_err_set(err, rc, "'%s': VIDIOC_QBUF: %s", b->base.spec->path,
                              g_strerror(-rc));
    }
    return 0;
}

static int convert(v4l2_backend *b, const uint8_t *data, size_t used, pw_frame *f)
{
    int want_bgr = b->base.cfg->want_bgr;
    if (b->pixfmt == V4L2_PIX_FMT_MJPEG || b->pixfmt == V4L2_PIX_FMT_JPEG)
        return pw_cv_decode(data, used, &f->grey_img, want_bgr ? &f->bgr_img : NULL, NULL);
    if ((size_t)b->stride * (size_t)b->height > used)
        return PW_ETRUNCATED;
    int rc = pw_image_new(b->width, b->height, 1, &f->grey_img);
    if (rc == 0 && want_bgr)
        rc = pw_image_new(b->width, b->height, 3, &f->bgr_img);
    if (rc)
        return rc;
    pw_plane g = pw_image_plane(f->grey_img);
    pw_plane c = want_bgr ? pw_image_plane(f->bgr_img) : (pw_plane){0};
    if (b->pixfmt == V4L2_PIX_FMT_YUYV)
        return pw_cv_yuyv_convert(data, b->width, b->height, b->stride, &g, want_bgr ? &c : NULL);
    for (int y = 0; y < b->height; y++)
        memcpy(pw_plane_at(&g, 0, y), data + (size_t)y * (size_t)b->stride, (size_t)b->width);
    return want_bgr ? pw_cv_grey_to_bgr(&g, &c) : 0;
}

/* Takes one filled buffer, turns it into a frame and gives the buffer back. */
static int take_frame(v4l2_backend *b)
{
    struct v4l2_buffer vb;
    memset(&vb, 0, sizeof vb);
    vb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    vb.memory = V4L2_MEMORY_MMAP;
    int rc = xioctl(b->fd, VIDIOC_DQBUF, &vb);
    if (rc == -EAGAIN)
        return 0;
    if (rc)
        return rc;
    pw_frame *f = pw_frame_new_owned();
    pw_frame_stamp(f);
    int crc = vb.index < b->nbufs
                  ? convert(b, b->bufs[vb.index].start, vb.bytesused, f)
                  : -EINVAL;
    f->info.pts_ns = (int64_t)vb.timestamp.tv_sec * 1000000000LL +
                     (int64_t)vb.timestamp.tv_usec * 1000;
    rc = xioctl(b->fd, VIDIOC_QBUF, &vb);
    if (crc) {
        /* One bad frame (a corrupt JPEG) is skipped; the camera goes on. */
        g_log("pw-capture", G_LOG_LEVEL_DEBUG, "source '%s': frame skipped: %s",
              b->base.cfg->source, pw_strerror(crc));
        pw_frame_release(&f);
    } else {
        pw_frame_use_images(f);
        pw_capture_deliver(b->base.cap, f);
    }
    return rc;
}

static gpointer run(gpointer data)
{
    v4l2_backend *b = data;
    while (!g_atomic_int_get(&b->stop)) {
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(b->fd, &fds);
        /* A short timeout so that stop is noticed; stalls are judged by the core. */
        struct timeval tv = {0, 100000};
        int r = select(b->fd + 1, &fds, NULL, NULL, &tv);
        if (r < 0 && errno == EINTR)
            continue;
        int rc = r < 0 ? -errno : r == 0 ? 0 : take_frame(b);
        if (rc) {
            pw_capture_report(b->base.cap, rc, "'%s': capture failed: %s", b->base.spec->path,
                              g_strerror(-rc));
            break;
        }
    }
    return NULL;
}

static void close_device(v4l2_backend *b)
{
    if (b->fd < 0)
        return;
    enum v4l2_buf_type t = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    xioctl(b->fd, VIDIOC_STREAMOFF, &t);
    for (unsigned i = 0; i < b->nbufs; i++)
        v4l2_munmap(b->bufs[i].start, b->bufs[i].length);
    b->nbufs = 0;
    v4l2_close(b->fd);
    b->fd = -1;
}

static int open_device(v4l2_backend *b, pw_err *err)
{
    const char *path = b->base.spec->path;
    b->fd = v4l2_open(path, O_RDWR | O_NONBLOCK);
    if (b->fd < 0)
        return pw_err_set(err, -errno, "cannot open '%s': %s", path, g_strerror(errno));
    int rc = check_caps(b, err);
    if (rc == 0)
        rc = set_format(b, err);
    if (rc == 0) {
        set_rate(b);
        rc = map_buffers(b, err);
    }
    enum v4l2_buf_type t = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (rc == 0 && (rc = xioctl(b->fd, VIDIOC_STREAMON, &t)))
        pw_err_set(err, rc, "'%s': VIDIOC_STREAMON: %s", path, g_strerror(-rc));
    if (rc)
        close_device(b);
    return rc;
}

static int v4l2_start(pw_backend *base, pw_err *err)
{
    v4l2_backend *b = (v4l2_backend *)base;
    int rc = open_device(b, err);
    if (rc)
        return rc;
    g_atomic_int_set(&b->stop, 0);
    b->thread = g_thread_new("pw-capture-v4l2", run, b);
    return 0;
}

static void v4l2_stop(pw_backend *base)
{
    v4l2_backend *b = (v4l2_backend *)base;
    g_atomic_int_set(&b->stop, 1);
    if (b->thread)
        g_thread_join(b->thread);
    b->thread = NULL;
    close_device(b);
}

static void v4l2_destroy(pw_backend *base)
{
    v4l2_stop(base);
    g_free(base);
}

static const pw_backend_ops v4l2_ops = {v4l2_start, v4l2_stop, v4l2_destroy};

int pw_backend_v4l2_new(pw_capture *cap, pw_backend **out, pw_err *err)
{
    (void)err;
    v4l2_backend *b = g_new0(v4l2_backend, 1);
    b->base.ops = &v4l2_ops;
    b->base.cap = cap;
    b->base.cfg = pw_capture_cfg(cap);
    b->base.spec = pw_capture_spec(cap);
    b->fd = -1;
    *out = &b->base;
    return 0;
}
