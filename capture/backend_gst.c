/*
 * backend_gst.c - GStreamer sources: the source's description, then
 * videoconvert to a format whose first plane is 8-bit luma (or BGR when
 * colour is wanted) and an appsink.
 *
 * Frames are taken in the appsink's new-sample callback, on the streaming
 * thread, and queued at once; the consumer never waits on the appsink, so
 * an asynchronous error cannot leave it blocked in a pull. Errors and the
 * end of stream reach the core through a bus sync handler.
 *
 * The grey plane points into the mapped buffer (no copy); the frame keeps
 * the sample and the mapping until it is released. With colour, the
 * pipeline delivers BGR and the grey plane is computed from it.
 *
 * Decoders give planar YUV, whose luma plane is the grey image: the sink
 * accepts those formats as they come, so videoconvert passes them through.
 * Asked for GRAY8 alone, it recomputed luma from all three planes whenever
 * the stream's colour matrix was not BT.601 (BT.709, as 720p H.264 and VP8
 * recordings are tagged): a third of a lane's CPU on 720p recordings.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "capture_internal.h"
#include "cvshim.h"

typedef struct {
    pw_backend base;
    GstElement *pipeline;
    GMutex caps_lock; /* the cached video info of the current caps */
    GstCaps *caps;
    GstVideoInfo info;
} gst_backend;

typedef struct {
    pw_frame base;
    GstSample *sample;
    GstVideoFrame vframe;
    int mapped;
} gst_frame;

static void gst_frame_dispose(pw_frame *f)
{
    gst_frame *gf = (gst_frame *)f;
    if (gf->mapped)
        gst_video_frame_unmap(&gf->vframe);
    if (gf->sample)
        gst_sample_unref(gf->sample);
    pw_image_destroy(&f->grey_img);
    pw_image_destroy(&f->bgr_img);
    g_free(gf);
}

/* Parsing caps costs microseconds per frame; they change only on renegotiation. */
static int video_info_for(gst_backend *b, GstCaps *caps, GstVideoInfo *out)
{
    int ok = 1;
    g_mutex_lock(&b->caps_lock);
    if (!b->caps || !gst_caps_is_equal(b->caps, caps)) {
        ok = gst_video_info_from_caps(&b->info, caps);
        gst_caps_replace(&b->caps, ok ? caps : NULL);
    }
    *out = b->info;
    g_mutex_unlock(&b->caps_lock);
    return ok;
}

static int fill_planes(gst_frame *gf, int want_bgr)
{
    GstVideoFrame *vf = &gf->vframe;
    pw_plane p = {
        .data = GST_VIDEO_FRAME_PLANE_DATA(vf, 0),
        .width = GST_VIDEO_FRAME_WIDTH(vf),
        .height = GST_VIDEO_FRAME_HEIGHT(vf),
        .stride = GST_VIDEO_FRAME_PLANE_STRIDE(vf, 0),
        .channels = want_bgr ? 3 : 1,
    };
    if (!want_bgr) {
        gf->base.info.grey = p;
        return 0;
    }
    gf->base.info.bgr = p;
    int rc = pw_image_new(p.width, p.height, 1, &gf->base.grey_img);
    if (rc)
        return rc;
    pw_plane g = pw_image_plane(gf->base.grey_img);
    rc = pw_cv_bgr_to_grey(&p, &g);
    gf->base.info.grey = g;
    return rc;
}

static GstFlowReturn on_new_sample(GstAppSink *sink, gpointer data)
{
    gst_backend *b = data;
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (!sample)
        return GST_FLOW_FLUSHING;
    gst_frame *gf = g_new0(gst_frame, 1);
    gf->base.dispose = gst_frame_dispose;
    gf->sample = sample;
    pw_frame_stamp(&gf->base);
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstVideoInfo info;
    if (!buf || !video_info_for(b, gst_sample_get_caps(sample), &info) ||
        !gst_video_frame_map(&gf->vframe, &info, buf, GST_MAP_READ)) {
        g_log("pw-capture", G_LOG_LEVEL_DEBUG, "source '%s': unmappable sample skipped",
              b->base.cfg->source);
        gst_frame_dispose(&gf->base);
        return GST_FLOW_OK;
    }
    gf->mapped = 1;
    gf->base.info.pts_ns = GST_BUFFER_PTS_IS_VALID(buf) ? (int64_t)GST_BUFFER_PTS(buf) : -1;
    if (fill_planes(gf, b->base.cfg->want_bgr)) {
        gst_frame_dispose(&gf->base);
        return GST_FLOW_OK;
    }
    pw_capture_deliver(b->base.cap, &gf->base);
    return GST_FLOW_OK;
}

/* Maps GStreamer's error domains to the project's codes. */
static int code_for(const GError *e)
{
    if (e->domain == GST_STREAM_ERROR &&
        (e->code == GST_STREAM_ERROR_DECODE || e->code == GST_STREAM_ERROR_DEMUX ||
         e->code == GST_STREAM_ERROR_TYPE_NOT_FOUND || e->code == GST_STREAM_ERROR_WRONG_TYPE ||
         e->code == GST_STREAM_ERROR_FORMAT))
        return PW_EDECODE;
    if (e->domain == GST_RESOURCE_ERROR && e->code == GST_RESOURCE_ERROR_NOT_FOUND)
        return -ENOENT;
    if (e->domain == GST_CORE_ERROR && e->code == GST_CORE_ERROR_MISSING_PLUGIN)
        return PW_ESOURCE;
    if (e->domain == GST_STREAM_ERROR && e->code == GST_STREAM_ERROR_CODEC_NOT_FOUND)
        return PW_ESOURCE;
    return -EIO;
}

static GstBusSyncReply on_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
    (void)bus;
    gst_backend *b = data;
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        GError *e = NULL;
        char *dbg = NULL;
        gst_message_parse_error(msg, &e, &dbg);
        /* The debug text spans lines; a log line and an err sentence should not. */
        char *text = g_strdup_printf("%s: %s (%s)", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
                                     e->message, dbg ? dbg : "no detail");
        g_strdelimit(text, "\r\n", ' ');
        pw_capture_report(b->base.cap, code_for(e), "%s", text);
        g_free(text);
        g_error_free(e);
        g_free(dbg);
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
        pw_capture_report(b->base.cap, PW_EEOS, "end of stream");
    }
    /*
     * Nobody pops this bus, so every message is dropped here. A sync handler
     * that drops a message owns it and must unref it: each message holds a
     * reference to its source element, so a kept message keeps the whole
     * pipeline alive after teardown (its bus's socket pair, its decoders and
     * their buffers: 4 descriptors and megabytes per restart).
     */
    gst_message_unref(msg);
    return GST_BUS_DROP;
}

static char *describe(gst_backend *b)
{
    const pw_capture_config *cfg = b->base.cfg;
    /* Each grey format's plane 0 is 8-bit luma at full resolution. */
    const char *fmt = cfg->want_bgr ? "BGR" : "{ GRAY8, I420, YV12, NV12, NV21, Y42B, Y444 }";
    const char *scale = "";
    char size[64] = "";
    /* Sources that choose their own size (files, RTSP) are scaled when a size is asked. */
    if (cfg->width > 0 && !g_str_has_prefix(cfg->source, "testsrc:") &&
        !g_str_has_prefix(cfg->source, "v4l2:")) {
        scale = " ! videoscale";
        g_snprintf(size, sizeof size, ",width=%d,height=%d", cfg->width, cfg->height);
    }
    int sync = cfg->pace ? 1 : 0;
    return g_strdup_printf("%s ! videoconvert%s ! video/x-raw,format=(string)%s%s "
                           "! appsink name=pwsink sync=%s max-buffers=2 enable-last-sample=false",
                           b->base.spec->gst_desc, scale, fmt, size, sync ? "true" : "false");
}

static int check_file(gst_backend *b, pw_err *err)
{
    const char *path = b->base.spec->path;
    if (!path || b->base.spec->kind != PW_SRC_GST)
        return 0;
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return pw_err_set(err, -ENOENT, "no such file '%s'", path);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
        return pw_err_set(err, PW_ESOURCE, "'%s' is not a regular file", path);
    return 0;
}

static void teardown(gst_backend *b)
{
    if (!b->pipeline)
        return;
    gst_element_set_state(b->pipeline, GST_STATE_NULL);
    GstBus *bus = gst_element_get_bus(b->pipeline);
    gst_bus_set_sync_handler(bus, NULL, NULL, NULL);
    gst_object_unref(bus);
    gst_object_unref(b->pipeline);
    b->pipeline = NULL;
    g_mutex_lock(&b->caps_lock);
    gst_caps_replace(&b->caps, NULL);
    g_mutex_unlock(&b->caps_lock);
}

static int build(gst_backend *b, pw_err *err)
{
    char *desc = describe(b);
    GError *gerr = NULL;
    b->pipeline = gst_parse_launch(desc, &gerr);
    g_free(desc);
    if (gerr) {
        /* A missing element is a recoverable parse error: the pipeline exists but is useless. */
        pw_err_set(err, PW_ESOURCE, "cannot build the pipeline: %s", gerr->message);
        g_error_free(gerr);
        if (b->pipeline)
            gst_object_unref(b->pipeline);
        b->pipeline = NULL;
        return PW_ESOURCE;
    }
    GstElement *sink = gst_bin_get_by_name(GST_BIN(b->pipeline), "pwsink");
    if (!sink) {
        gst_object_unref(b->pipeline);
        b->pipeline = NULL;
        return pw_err_set(err, PW_ESOURCE, "the pipeline has no appsink named pwsink");
    }
    GstAppSinkCallbacks cbs = {.new_sample = on_new_sample};
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, b, NULL);
    gst_object_unref(sink);
    GstBus *bus = gst_element_get_bus(b->pipeline);
    gst_bus_set_sync_handler(bus, on_bus, b, NULL);
    gst_object_unref(bus);
    return 0;
}

static int gst_start(pw_backend *base, pw_err *err)
{
    gst_backend *b = (gst_backend *)base;
    int rc = check_file(b, err);
    if (rc == 0)
        rc = build(b, err);
    if (rc)
        return rc;
    /* Only the step to PAUSED tells a live pipeline (no preroll) from a recording. */
    GstStateChangeReturn ret = gst_element_set_state(b->pipeline, GST_STATE_PAUSED);
    if (ret != GST_STATE_CHANGE_FAILURE) {
        pw_capture_set_live(b->base.cap, ret == GST_STATE_CHANGE_NO_PREROLL);
        ret = gst_element_set_state(b->pipeline, GST_STATE_PLAYING);
    }
    if (ret == GST_STATE_CHANGE_FAILURE) {
        teardown(b);
        return pw_err_set(err, PW_ESOURCE, "the pipeline refused to play");
    }
    return 0;
}

static void gst_stop(pw_backend *base)
{
    teardown((gst_backend *)base);
}

static void gst_destroy(pw_backend *base)
{
    gst_backend *b = (gst_backend *)base;
    teardown(b);
    g_mutex_clear(&b->caps_lock);
    g_free(b);
}

static const pw_backend_ops gst_ops = {gst_start, gst_stop, gst_destroy};

int pw_backend_gst_new(pw_capture *cap, pw_backend **out, pw_err *err)
{
    GError *gerr = NULL;
    if (!gst_init_check(NULL, NULL, &gerr)) {
        pw_err_set(err, PW_ESOURCE, "source '%s': GStreamer cannot start: %s",
                   pw_capture_cfg(cap)->source, gerr ? gerr->message : "unknown reason");
        g_clear_error(&gerr);
        return PW_ESOURCE;
    }
    gst_backend *b = g_new0(gst_backend, 1);
    b->base.ops = &gst_ops;
    b->base.cap = cap;
    b->base.cfg = pw_capture_cfg(cap);
    b->base.spec = pw_capture_spec(cap);
    g_mutex_init(&b->caps_lock);
    *out = &b->base;
    return 0;
}
