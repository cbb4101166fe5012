/*
 * fake_v4l2.c - the fake camera behind fake_v4l2.h. A producer thread
 * signals an eventfd once per frame period while streaming, so the backend's
 * select() sees a readable descriptor exactly as with a real device; DQBUF
 * then fills the oldest queued buffer with frame n.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>
#include <libv4l2.h>
#include <linux/videodev2.h>

#include "fake_v4l2.h"

#define NBUF 4
#define BUF_OFFSET(i) ((uint32_t)(i) * 0x100000u)

typedef struct {
    GMutex lock;
    pw_fake_v4l2_config cfg;
    uint8_t *jpeg;
    int fd;           /* eventfd of the open device, -1 when closed */
    int streaming;
    int nbufs;
    uint8_t *bufs[NBUF];
    size_t buflen;
    int queued[NBUF]; /* order of queueing, 0 when not queued */
    int qorder;
    uint64_t frame;   /* frames produced, over all opens */
    int per_open;     /* frames dequeued since this open */
    int opens;
    GThread *producer;
    gint stop;
    uint32_t pixfmt;
} fake_dev;

/* The one fake device; a process has one camera in these tests. */
static fake_dev dev = {.fd = -1};

void pw_fake_v4l2_setup(const pw_fake_v4l2_config *cfg)
{
    g_mutex_lock(&dev.lock);
    dev.cfg = *cfg;
    g_free(dev.jpeg);
    dev.jpeg = cfg->jpeg ? g_memdup2(cfg->jpeg, cfg->jpeg_len) : NULL;
    dev.cfg.jpeg = dev.jpeg;
    if (!dev.cfg.caps)
        dev.cfg.caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
    dev.pixfmt = cfg->formats[0];
    g_mutex_unlock(&dev.lock);
}

int pw_fake_v4l2_opens(void)
{
    g_mutex_lock(&dev.lock);
    int n = dev.opens;
    g_mutex_unlock(&dev.lock);
    return n;
}

static gpointer produce(gpointer data)
{
    (void)data;
    gulong period = (gulong)(1000000 / (dev.cfg.fps > 0 ? dev.cfg.fps : 30));
    int made = 0;
    while (!g_atomic_int_get(&dev.stop)) {
        g_usleep(period);
        if (dev.cfg.stall_after && made >= dev.cfg.stall_after)
            continue;
        uint64_t one = 1;
        if (write(dev.fd, &one, sizeof one) == sizeof one)
            made++;
    }
    return NULL;
}

int v4l2_open(const char *file, int oflag, ...)
{
    (void)oflag;
    g_mutex_lock(&dev.lock);
    int rc = -1;
    if (!dev.cfg.path || strcmp(file, dev.cfg.path) != 0)
        errno = ENOENT;
    else if (dev.fd >= 0)
        errno = EBUSY;
    else if ((dev.fd = eventfd(0, EFD_NONBLOCK | EFD_SEMAPHORE | EFD_CLOEXEC)) >= 0) {
        rc = dev.fd;
        dev.opens++;
        dev.per_open = 0;
    }
    g_mutex_unlock(&dev.lock);
    return rc;
}

static void stream_off(void)
{
    if (!dev.streaming)
        return;
    g_atomic_int_set(&dev.stop, 1);
    g_mutex_unlock(&dev.lock);
    g_thread_join(dev.producer);
    g_mutex_lock(&dev.lock);
    dev.producer = NULL;
    dev.streaming = 0;
    memset(dev.queued, 0, sizeof dev.queued);
}

int v4l2_close(int fd)
{
    g_mutex_lock(&dev.lock);
    if (fd != dev.fd) {
        g_mutex_unlock(&dev.lock);
        errno = EBADF;
        return -1;
    }
    stream_off();
    for (int i = 0; i < dev.nbufs; i++)
        g_free(dev.bufs[i]);
    dev.nbufs = 0;
    close(dev.fd);
    dev.fd = -1;
    g_mutex_unlock(&dev.lock);
    return 0;
}

static size_t frame_bytes(void)
{
    size_t raw = (size_t)dev.cfg.width * (size_t)dev.cfg.height *
                 (dev.pixfmt == V4L2_PIX_FMT_YUYV ? 2 : 1);
    return dev.pixfmt == V4L2_PIX_FMT_MJPEG ? MAX(dev.cfg.jpeg_len, 1) : raw;
}

static int enum_fmt(struct v4l2_fmtdesc *d)
{
    if (d->index >= 4 || !dev.cfg.formats[d->index])
        return -EINVAL;
    d->pixelformat = dev.cfg.formats[d->index];
    return 0;
}

static int set_fmt(struct v4l2_format *f)
{
    int offered = 0;
    for (int i = 0; i < 4 && dev.cfg.formats[i]; i++)
        offered |= dev.cfg.formats[i] == f->fmt.pix.pixelformat;
    /* Like a driver, answer with what the device can do rather than fail. */
    dev.pixfmt = offered ? f->fmt.pix.pixelformat : dev.cfg.formats[0];
    return 0;
}

static void get_fmt(struct v4l2_format *f)
{
    f->fmt.pix.width = (uint32_t)dev.cfg.width;
    f->fmt.pix.height = (uint32_t)dev.cfg.height;
    f->fmt.pix.pixelformat = dev.pixfmt;
    f->fmt.pix.bytesperline = (uint32_t)dev.cfg.width * (dev.pixfmt == V4L2_PIX_FMT_YUYV ? 2 : 1);
    f->fmt.pix.sizeimage = (uint32_t)frame_bytes();
    f->fmt.pix.field = V4L2_FIELD_NONE;
}

static int reqbufs(struct v4l2_requestbuffers *r)
{
    if (r->memory != V4L2_MEMORY_MMAP)
        return -EINVAL;
    dev.nbufs = (int)MIN(r->count, NBUF);
    dev.buflen = frame_bytes();
    for (int i = 0; i < dev.nbufs; i++)
        dev.bufs[i] = g_malloc0(dev.buflen);
    r->count = (uint32_t)dev.nbufs;
    return 0;
}

static void fill(uint8_t *p, uint64_t n, uint32_t *used)
{
    if (dev.pixfmt == V4L2_PIX_FMT_MJPEG) {
        memcpy(p, dev.jpeg, dev.cfg.jpeg_len);
        *used = (uint32_t)dev.cfg.jpeg_len;
        return;
    }
    int yuyv = dev.pixfmt == V4L2_PIX_FMT_YUYV;
    for (int y = 0; y < dev.cfg.height; y++)
        for (int x = 0; x < dev.cfg.width; x++) {
            uint8_t v = (uint8_t)((n + (uint64_t)x + (uint64_t)y) & 255);
            if (yuyv) {
                p[(size_t)y * dev.cfg.width * 2 + 2 * x] = v;
                p[(size_t)y * dev.cfg.width * 2 + 2 * x + 1] = 128;
            } else {
                p[(size_t)y * dev.cfg.width + x] = v;
            }
        }
    *used = (uint32_t)frame_bytes();
}

static int dqbuf(struct v4l2_buffer *b)
{
    uint64_t ev;
    if (read(dev.fd, &ev, sizeof ev) != sizeof ev)
        return -EAGAIN;
    if (dev.cfg.fail_after && dev.per_open >= dev.cfg.fail_after)
        return -ENODEV;
    int best = -1;
    for (int i = 0; i < dev.nbufs; i++)
        if (dev.queued[i] && (best < 0 || dev.queued[i] < dev.queued[best]))
            best = i;
    if (best < 0)
        return -EAGAIN;
    uint64_t n = dev.frame++;
    dev.per_open++;
    fill(dev.bufs[best], n, &b->bytesused);
    dev.queued[best] = 0;
    b->index = (uint32_t)best;
    uint64_t us = n * (uint64_t)(1000000 / (dev.cfg.fps > 0 ? dev.cfg.fps : 30));
    b->timestamp.tv_sec = (time_t)(us / 1000000);
    b->timestamp.tv_usec = (suseconds_t)(us % 1000000);
    b->sequence = (uint32_t)n;
    return 0;
}

static int do_ioctl(unsigned long req, void *arg)
{
    switch (req) {
    case VIDIOC_QUERYCAP: {
        struct v4l2_capability *c = arg;
        memset(c, 0, sizeof *c);
        g_strlcpy((char *)c->driver, "pwfake", sizeof c->driver);
        g_strlcpy((char *)c->card, "platewatch fake camera", sizeof c->card);
        c->capabilities = dev.cfg.caps;
        return 0;
    }
    case VIDIOC_ENUM_FMT: return enum_fmt(arg);
    case VIDIOC_G_FMT: get_fmt(arg); return 0;
    case VIDIOC_S_FMT: set_fmt(arg); get_fmt(arg); return 0;
    case VIDIOC_S_PARM: return 0;
    case VIDIOC_REQBUFS: return reqbufs(arg);
    case VIDIOC_QUERYBUF: {
        struct v4l2_buffer *b = arg;
        if ((int)b->index >= dev.nbufs)
            return -EINVAL;
        b->length = (uint32_t)dev.buflen;
        b->m.offset = BUF_OFFSET(b->index);
        return 0;
    }
    case VIDIOC_QBUF: {
        struct v4l2_buffer *b = arg;
        if ((int)b->index >= dev.nbufs)
            return -EINVAL;
        dev.queued[b->index] = ++dev.qorder;
        return 0;
    }
    case VIDIOC_DQBUF: return dqbuf(arg);
    case VIDIOC_STREAMON:
        if (!dev.streaming) {
            dev.streaming = 1;
            g_atomic_int_set(&dev.stop, 0);
            dev.producer = g_thread_new("fake-v4l2", produce, NULL);
        }
        return 0;
    case VIDIOC_STREAMOFF: stream_off(); return 0;
    default: return -ENOTTY;
    }
}

int v4l2_ioctl(int fd, unsigned long int request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    g_mutex_lock(&dev.lock);
    int rc = fd == dev.fd ? do_ioctl(request, arg) : -EBADF;
    g_mutex_unlock(&dev.lock);
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return 0;
}

void *v4l2_mmap(void *start, size_t length, int prot, int flags, int fd, int64_t offset)
{
    (void)start;
    (void)prot;
    (void)flags;
    g_mutex_lock(&dev.lock);
    void *p = MAP_FAILED;
    for (int i = 0; i < dev.nbufs && fd == dev.fd; i++)
        if ((int64_t)BUF_OFFSET(i) == offset && length <= dev.buflen)
            p = dev.bufs[i];
    g_mutex_unlock(&dev.lock);
    if (p == MAP_FAILED)
        errno = EINVAL;
    return p;
}

int v4l2_munmap(void *start, size_t length)
{
    (void)start;
    (void)length;
    return 0;
}
