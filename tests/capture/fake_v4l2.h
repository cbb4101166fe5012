/*
 * fake_v4l2.h - a fake V4L2 camera for tests. fake_v4l2.c defines
 * v4l2_open, v4l2_close, v4l2_ioctl, v4l2_mmap and v4l2_munmap, and is
 * linked into the test executable in place of libv4l2 (libv4l2 reaches the
 * kernel through syscall(), so preloading open/ioctl could not intercept it).
 *
 * The device produces numbered frames at a set rate once streaming; frame n
 * has pixel (x, y) = (n + x + y) & 255 in its luma, and timestamp n / fps.
 * It is one process-wide device, as a real camera would be.
 */
#ifndef PW_FAKE_V4L2_H
#define PW_FAKE_V4L2_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *path;       /* the device node that exists, e.g. "/dev/video7" */
    uint32_t caps;          /* 0: video capture + streaming */
    uint32_t formats[4];    /* offered V4L2_PIX_FMT_*, 0-terminated */
    int width, height;      /* the one size offered */
    int fps;                /* frames a second */
    const uint8_t *jpeg;    /* MJPEG frames: these bytes every time (copied) */
    size_t jpeg_len;
    int fail_after;         /* DQBUF fails with ENODEV after this many frames per open (0 never) */
    int stall_after;        /* no frames after this many per open (0 never) */
} pw_fake_v4l2_config;

void pw_fake_v4l2_setup(const pw_fake_v4l2_config *cfg);
/* Successful opens so far. */
int pw_fake_v4l2_opens(void);

#endif
