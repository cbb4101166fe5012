/* testutil.c - see testutil.h. */
#define _GNU_SOURCE
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

char *tu_tmpdir(void)
{
    return g_dir_make_tmp("pw-capture-XXXXXX", NULL);
}

void tu_rmtree(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR))
            tu_rmtree(p);
        else
            g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
}

int tu_render(int i, int width, int height, pw_image **out)
{
    char text[16];
    snprintf(text, sizeof text, "PW %04d", i);
    pw_scene_plate plate;
    memset(&plate, 0, sizeof plate);
    pw_plate_style_defaults(&plate.style, text, height / 10);
    plate.cx = (float)width / 2 + (float)(i % 7) * 3;
    plate.cy = (float)height * 0.6f;
    pw_scene_spec spec = {.width = width, .height = height, .seed = (unsigned)i + 1,
                          .clutter = 6, .vehicle = 1};
    return pw_synth_scene(&spec, &plate, 1, out, NULL);
}

static GstBuffer *frame_buffer(int i, int w, int h, int fps)
{
    pw_image *img = NULL;
    if (tu_render(i, w, h, &img))
        return NULL;
    pw_plane p = pw_image_plane(img);
    GstBuffer *buf = gst_buffer_new_allocate(NULL, (gsize)w * (gsize)h, NULL);
    GstMapInfo m;
    gst_buffer_map(buf, &m, GST_MAP_WRITE);
    for (int y = 0; y < h; y++)
        memcpy(m.data + (size_t)y * (size_t)w, pw_plane_at(&p, 0, y), (size_t)w);
    gst_buffer_unmap(buf, &m);
    pw_image_destroy(&img);
    GST_BUFFER_PTS(buf) = gst_util_uint64_scale(i, GST_SECOND, (guint64)fps);
    GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(1, GST_SECOND, (guint64)fps);
    return buf;
}

int tu_write_recording(const char *path, const char *kind, int n, int w, int h, int fps)
{
    gst_init(NULL, NULL);
    const char *enc = strcmp(kind, "webm") == 0
                          ? "vp8enc deadline=1 target-bitrate=4000000 keyframe-max-dist=10 "
                            "! webmmux"
                          : "jpegenc quality=92 ! avimux";
    /* The GRAY8 width must be a multiple of 4 for unpadded rows; tests use such sizes. */
    char *desc = g_strdup_printf("appsrc name=src format=time caps=video/x-raw,format=GRAY8,"
                                 "width=%d,height=%d,framerate=%d/1 ! videoconvert "
                                 "! video/x-raw,format=I420 ! %s ! filesink location=\"%s\"",
                                 w, h, fps, enc, path);
    GError *e = NULL;
    GstElement *pipe = gst_parse_launch(desc, &e);
    g_free(desc);
    if (e) {
        fprintf(stderr, "recording pipeline: %s\n", e->message);
        g_error_free(e);
        return -1;
    }
    GstElement *src = gst_bin_get_by_name(GST_BIN(pipe), "src");
    gst_element_set_state(pipe, GST_STATE_PLAYING);
    for (int i = 0; i < n; i++)
        gst_app_src_push_buffer(GST_APP_SRC(src), frame_buffer(i, w, h, fps));
    gst_app_src_end_of_stream(GST_APP_SRC(src));
    GstBus *bus = gst_element_get_bus(pipe);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND,
                                               GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    int rc = m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS ? 0 : -1;
    if (m)
        gst_message_unref(m);
    gst_object_unref(bus);
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(src);
    gst_object_unref(pipe);
    return rc;
}

double tu_mad(const pw_plane *a, const pw_plane *b)
{
    if (a->width != b->width || a->height != b->height)
        return 1e9;
    double sum = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++)
            sum += abs((int)*pw_plane_at(a, x, y) - (int)*pw_plane_at(b, x, y));
    return sum / ((double)a->width * a->height);
}

int tu_drain(pw_capture *cap, int timeout_ms, int max, int *n)
{
    *n = 0;
    for (;;) {
        pw_frame *f = NULL;
        int rc = pw_capture_next(cap, timeout_ms, &f, NULL);
        if (rc)
            return rc;
        pw_frame_release(&f);
        if (++*n >= max)
            return 0;
    }
}

int tu_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(s);
    return port;
}

int tu_wait_port(int port, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (g_get_monotonic_time() < end) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
        close(s);
        if (ok)
            return 1;
        g_usleep(50000);
    }
    return 0;
}
