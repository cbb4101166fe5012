/* testutil.h - shared helpers of the capture tests: rendered frames,
 * recordings made with GStreamer, temporary folders, frame comparison. */
#ifndef PW_CAPTURE_TESTUTIL_H
#define PW_CAPTURE_TESTUTIL_H

#include "capture.h"
#include "synth.h"

/* A new temporary folder (g_free the name); tu_rmtree removes it. */
char *tu_tmpdir(void);
void tu_rmtree(const char *dir);

/* Frame i of every test recording: a rendered scene with plate "PW <i>". */
int tu_render(int i, int width, int height, pw_image **out);

/* Writes n rendered frames as "webm" (VP8) or "avi" (MJPEG) at fps. */
int tu_write_recording(const char *path, const char *kind, int n, int width, int height,
                       int fps);

/* Mean absolute difference of two grey planes of the same size. */
double tu_mad(const pw_plane *a, const pw_plane *b);

/* Reads until a non-frame result; returns it and the frames read in *n. */
int tu_drain(pw_capture *cap, int timeout_ms, int max, int *n);

/* A loopback TCP port nobody listens on (bound, read and closed). */
int tu_free_port(void);
/* 1 once something accepts connections on 127.0.0.1:port within timeout_ms. */
int tu_wait_port(int port, int timeout_ms);

#endif
