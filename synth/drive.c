#define _POSIX_C_SOURCE 200809L
#include "drive.h"

#include <errno.h>
#include <glib.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <math.h>
#include <string.h>

void pw_drive_spec_defaults(pw_drive_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->width = 1280;
    spec->height = 720;
    spec->fps = 25;
    spec->frames_per_passage = 40;
    spec->gap_frames = 30;
    spec->char_height_far = 18;
    spec->char_height_near = 34;
    spec->blur_sigma = 0.7;
    spec->noise_sigma = 3.0;
    spec->lighting_change = 30;
    spec->seed = 1;
    spec->format = PW_CLIP_WEBM;
}

static const char *encoder_description(pw_clip_format format)
{
    /* VP8 in real-time mode keeps generation fast; quality stays high enough to read plates. */
    return format == PW_CLIP_MJPEG_AVI ? "jpegenc quality=90 ! avimux"
                                       : "vp8enc deadline=1 cpu-used=8 target-bitrate=4000000 ! webmmux";
}

typedef struct {
    GstElement *pipeline;
    GstAppSrc *src;
} writer;

static int writer_open(writer *w, const pw_drive_spec *spec, const char *path, pw_err *err)
{
    gchar *location = g_strescape(path, NULL);
    gchar *desc = g_strdup_printf("appsrc name=src format=time ! videoconvert ! %s ! filesink location=\"%s\"",
                                  encoder_description(spec->format), location);
    g_free(location);
    GError *gerr = NULL;
    w->pipeline = gst_parse_launch(desc, &gerr);
    g_free(desc);
    if (!w->pipeline) {
        int rc = pw_err_set(err, PW_ESOURCE, "cannot build the encoder pipeline: %s", gerr->message);
        g_error_free(gerr);
        return rc;
    }
    g_clear_error(&gerr); /* a pipeline may come with a recoverable warning */
    GstElement *src = gst_bin_get_by_name(GST_BIN(w->pipeline), "src");
    w->src = GST_APP_SRC(src);
    GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "GRAY8", "width", G_TYPE_INT,
                                        spec->width, "height", G_TYPE_INT, spec->height, "framerate",
                                        GST_TYPE_FRACTION, spec->fps, 1, NULL);
    gst_app_src_set_caps(w->src, caps);
    gst_caps_unref(caps);
    gst_element_set_state(w->pipeline, GST_STATE_PLAYING);
    return 0;
}

/* Sends end-of-stream and waits until the file is complete, or reports the error. */
static int writer_close(writer *w, const char *path, pw_err *err)
{
    int rc = 0;
    gst_app_src_end_of_stream(w->src);
    GstBus *bus = gst_element_get_bus(w->pipeline);
    GstMessage *msg = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (!msg) {
        rc = pw_err_set(err, -ETIMEDOUT, "%s: the encoder did not finish", path);
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        GError *gerr = NULL;
        gst_message_parse_error(msg, &gerr, NULL);
        rc = pw_err_set(err, -EIO, "%s: %s: %s", path, GST_OBJECT_NAME(msg->src), gerr->message);
        g_error_free(gerr);
    }
    if (msg)
        gst_message_unref(msg);
    gst_object_unref(bus);
    gst_element_set_state(w->pipeline, GST_STATE_NULL);
    gst_object_unref(w->src);
    gst_object_unref(w->pipeline);
    return rc;
}

static int push_frame(writer *w, const pw_plane *p, int index, int fps, int64_t delay_ns)
{
    gsize size = (gsize)p->width * (gsize)p->height;
    GstBuffer *buf = gst_buffer_new_allocate(NULL, size, NULL);
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_WRITE);
    for (int y = 0; y < p->height; y++)
        memcpy(map.data + (gsize)y * (gsize)p->width, pw_plane_at(p, 0, y), (size_t)p->width);
    gst_buffer_unmap(buf, &map);
    GST_BUFFER_PTS(buf) = gst_util_uint64_scale(index, GST_SECOND, fps) + (GstClockTime)delay_ns;
    GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(1, GST_SECOND, fps);
    return gst_app_src_push_buffer(w->src, buf) == GST_FLOW_OK ? 0 : -EIO;
}

/* Where a plate is at step t (0..1) of its passage: it approaches, drifts and sways. */
static void place(const pw_drive_spec *s, const pw_passage *p, double t, unsigned vehicle, pw_scene_plate *out)
{
    double ease = t * t * (3 - 2 * t);
    pw_plate_style_defaults(&out->style, p->printed,
                            (int)lround(s->char_height_far + (s->char_height_near - s->char_height_far) * ease));
    if (!p->dark_on_light) {
        out->style.dark_on_light = 0;
        out->style.plate_value = 35;
        out->style.text_value = 225;
    }
    double drift = ((vehicle * 37u) % 11u - 5.0) / 100.0;
    out->cx = (float)(s->width * (0.5 + drift * (1 - t)));
    out->cy = (float)(s->height * (0.35 + 0.35 * ease));
    out->tilt_deg = (float)(4.0 * sin(6.28 * t + vehicle));
}

/* Axis-aligned box around four corners, as labelled boxes are written. */
static pw_rect corners_box(const float c[4][2])
{
    float x0 = c[0][0], x1 = c[0][0], y0 = c[0][1], y1 = c[0][1];
    for (int i = 1; i < 4; i++) {
        x0 = fminf(x0, c[i][0]), x1 = fmaxf(x1, c[i][0]);
        y0 = fminf(y0, c[i][1]), y1 = fmaxf(y1, c[i][1]);
    }
    return (pw_rect){(int)floorf(x0), (int)floorf(y0), (int)ceilf(x1 - x0), (int)ceilf(y1 - y0)};
}

/* Copies the part of the photograph around the plate box: the vehicle's front, not the whole street. */
static int photo_context(const pw_plane *photo, pw_rect box, pw_image **out, pw_rect *area)
{
    int x0 = MAX(0, box.x - box.w * 3 / 2), y0 = MAX(0, box.y - box.h * 2);
    int x1 = MIN(photo->width, box.x + box.w + box.w * 3 / 2), y1 = MIN(photo->height, box.y + box.h * 3);
    if (x1 - x0 < 2 || y1 - y0 < 2)
        return -EINVAL;
    int rc = pw_image_new(x1 - x0, y1 - y0, 1, out);
    if (rc < 0)
        return rc;
    pw_plane dst = pw_image_plane(*out);
    for (int y = 0; y < dst.height; y++)
        for (int x = 0; x < dst.width; x++)
            *pw_plane_at(&dst, x, y) = *pw_plane_at(photo, x0 + x, y0 + y);
    *area = (pw_rect){x0, y0, x1 - x0, y1 - y0};
    return 0;
}

/* Deterministic Gaussian noise (xorshift and Box-Muller), so a clip is the same for the same seed. */
static void add_noise(pw_plane *p, double sigma, unsigned seed)
{
    guint64 s = (guint64)seed * 0x9E3779B97F4A7C15ull + 1;
    for (int y = 0; y < p->height; y++)
        for (int x = 0; x < p->width; x++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            double u1 = ((s >> 11) + 1.0) / 9007199254740994.0;
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            double u2 = (s >> 11) / 9007199254740992.0;
            double v = *pw_plane_at(p, x, y) + sigma * sqrt(-2 * log(u1)) * cos(6.283185307 * u2);
            *pw_plane_at(p, x, y) = (uint8_t)CLAMP(lround(v), 0, 255);
        }
}

static void add_brightness(pw_plane *p, int delta)
{
    for (int y = 0; y < p->height && delta; y++)
        for (int x = 0; x < p->width; x++)
            *pw_plane_at(p, x, y) = (uint8_t)CLAMP(*pw_plane_at(p, x, y) + delta, 0, 255);
}

/*
 * Pastes the photograph's plate surroundings onto the background, scaled so
 * that the labelled box has the height the approach asks for, tilted about
 * the plate's centre and centred where a rendered plate would be.
 */
static int paste_photo(pw_plane *frame, const pw_passage *p, const pw_scene_plate *at, pw_rect *box)
{
    pw_image *ctx = NULL, *warped = NULL, *mask = NULL, *ones = NULL;
    pw_rect area;
    int rc = photo_context(p->photo, p->box, &ctx, &area);
    if (rc < 0)
        return rc;
    /* A labelled box is about 1.4 times the cap height of its characters. */
    double scale = at->style.char_height * 1.4 / MAX(1, p->box.h);
    double a = at->tilt_deg * G_PI / 180.0, c = cos(a) * scale, sn = sin(a) * scale;
    double bx = p->box.x - area.x + p->box.w / 2.0, by = p->box.y - area.y + p->box.h / 2.0;
    double m[6] = {c, -sn, at->cx - (c * bx - sn * by), sn, c, at->cy - (sn * bx + c * by)};
    rc = pw_image_new(frame->width, frame->height, 1, &warped);
    if (rc == 0)
        rc = pw_image_new(frame->width, frame->height, 1, &mask);
    if (rc == 0)
        rc = pw_image_new(area.w, area.h, 1, &ones);
    if (rc == 0) {
        pw_plane src = pw_image_plane(ctx), wp = pw_image_plane(warped), mp = pw_image_plane(mask),
                 op = pw_image_plane(ones);
        memset(op.data, 255, (size_t)op.stride * (size_t)op.height);
        rc = pw_cv_warp_affine(&src, m, 0, &wp);
        if (rc == 0)
            rc = pw_cv_warp_affine(&op, m, 0, &mp);
        for (int y = 0; rc == 0 && y < frame->height; y++)
            for (int x = 0; x < frame->width; x++)
                if (*pw_plane_at(&mp, x, y) > 127)
                    *pw_plane_at(frame, x, y) = *pw_plane_at(&wp, x, y);
    }
    float corners[4][2];
    double px[4] = {0, p->box.w, p->box.w, 0}, py[4] = {0, 0, p->box.h, p->box.h};
    for (int i = 0; i < 4; i++) {
        double sx = p->box.x - area.x + px[i], sy = p->box.y - area.y + py[i];
        corners[i][0] = (float)(m[0] * sx + m[1] * sy + m[2]);
        corners[i][1] = (float)(m[3] * sx + m[4] * sy + m[5]);
    }
    *box = corners_box(corners);
    pw_image_destroy(&ctx), pw_image_destroy(&warped), pw_image_destroy(&mask), pw_image_destroy(&ones);
    return rc;
}

/* A photograph passage: clutter background, the photo pasted, then lighting, blur and noise. */
static int render_photo_frame(const pw_drive_spec *s, const pw_passage *passage, const pw_scene_plate *at,
                              double t, int index, pw_image **out, pw_rect *box)
{
    pw_scene_spec scene = {.width = s->width, .height = s->height, .seed = s->seed, .clutter = 25};
    int rc = pw_synth_scene(&scene, NULL, 0, out, NULL);
    if (rc < 0)
        return rc;
    pw_plane frame = pw_image_plane(*out);
    rc = paste_photo(&frame, passage, at, box);
    if (rc == 0) {
        add_brightness(&frame, (int)lround(s->lighting_change * (t - 0.5)));
        rc = pw_cv_gaussian_blur(&frame, s->blur_sigma);
    }
    if (rc == 0 && s->noise_sigma > 0)
        add_noise(&frame, s->noise_sigma, (unsigned)index + 1);
    if (rc < 0)
        pw_image_destroy(out);
    return rc;
}

static int render_frame(const pw_drive_spec *s, const pw_passage *passage, double t, unsigned vehicle, int index,
                        pw_image **out, pw_rect *box)
{
    pw_scene_spec scene = {.width = s->width, .height = s->height, .seed = s->seed, .noise_seed = (unsigned)index + 1,
                           .clutter = 25, .blur_sigma = s->blur_sigma, .noise_sigma = s->noise_sigma,
                           .vehicle = passage != NULL};
    if (!passage)
        return pw_synth_scene(&scene, NULL, 0, out, NULL);
    pw_scene_plate plate;
    place(s, passage, t, vehicle, &plate);
    if (passage->photo)
        return render_photo_frame(s, passage, &plate, t, index, out, box);
    scene.brightness = (int)lround(s->lighting_change * (t - 0.5));
    float corners[1][4][2];
    int rc = pw_synth_scene(&scene, &plate, 1, out, corners);
    if (rc == 0)
        *box = corners_box(corners[0]);
    return rc;
}

static void fill_truth(const pw_drive_spec *s, const pw_passage *p, int first, pw_passage_truth *t)
{
    pw_plate_chars(p->printed, t->plate, sizeof t->plate);
    g_strlcpy(t->country, p->country ? p->country : "", sizeof t->country);
    t->first_frame = first;
    t->last_frame = first + s->frames_per_passage - 1;
    t->first_ms = (int64_t)t->first_frame * 1000 / s->fps;
    t->last_ms = (int64_t)t->last_frame * 1000 / s->fps;
}

static int check_spec(const pw_drive_spec *s, size_t n, pw_err *err)
{
    if (s->width < 64 || s->height < 64 || s->width > 4096 || s->height > 4096 || s->fps <= 0 ||
        s->frames_per_passage < 2 || s->gap_frames < 0 || s->char_height_far < 6 ||
        s->char_height_near < s->char_height_far || n == 0)
        return pw_err_set(err, -EINVAL, "drive-by spec out of range (size 64-4096, fps > 0, >= 2 frames a passage, "
                                        "char heights >= 6 and growing, at least one passage)");
    return 0;
}

/* A plate or country the ground truth cannot hold whole is refused rather than cut. */
static int check_passages(const pw_passage *passages, size_t n, pw_err *err)
{
    for (size_t i = 0; i < n; i++) {
        char chars[64];
        if (pw_plate_chars(passages[i].printed, chars, sizeof chars) > PW_PLATE_MAX)
            return pw_err_set(err, -EINVAL, "plate '%s' has more than %d characters", passages[i].printed,
                              PW_PLATE_MAX);
        if (passages[i].country && strlen(passages[i].country) >= PW_COUNTRY_MAX)
            return pw_err_set(err, -EINVAL, "country '%s' of plate '%s' is longer than %d characters",
                              passages[i].country, passages[i].printed, PW_COUNTRY_MAX - 1);
    }
    return 0;
}

int pw_drive_write(const pw_drive_spec *s, const pw_passage *passages, size_t n, const char *path,
                   pw_passage_truth *truth, pw_err *err)
{
    return pw_drive_write_boxes(s, passages, n, path, truth, NULL, NULL, err);
}

int pw_drive_write_boxes(const pw_drive_spec *s, const pw_passage *passages, size_t n, const char *path,
                         pw_passage_truth *truth, pw_drive_frame_fn on_frame, void *user, pw_err *err)
{
    if (!s || !passages || !path)
        return pw_err_set(err, -EINVAL, "no spec, passages or path");
    int rc = check_spec(s, n, err);
    if (rc == 0)
        rc = check_passages(passages, n, err);
    if (rc < 0)
        return rc;
    gst_init(NULL, NULL);
    writer w = {0};
    if ((rc = writer_open(&w, s, path, err)) < 0)
        return rc;
    int index = 0;
    int per_vehicle = s->gap_frames + s->frames_per_passage;
    int total = (int)n * per_vehicle + s->gap_frames;
    for (; index < total && rc == 0; index++) {
        int k = index / per_vehicle, within = index % per_vehicle - s->gap_frames;
        const pw_passage *p = (size_t)k < n && within >= 0 ? &passages[k] : NULL;
        double t = p ? (double)within / (s->frames_per_passage - 1) : 0;
        if (p && within == 0 && truth)
            fill_truth(s, p, index, &truth[k]);
        pw_image *img = NULL;
        pw_rect box = {0, 0, 0, 0};
        rc = render_frame(s, p, t, (unsigned)k, index, &img, &box);
        if (rc < 0)
            pw_err_set(err, rc, "%s: frame %d could not be rendered (%s)", path, index, pw_strerror(rc));
        if (rc == 0 && p && on_frame)
            on_frame(index, (size_t)k, box, user);
        if (rc == 0) {
            pw_plane plane = pw_image_plane(img);
            int64_t delay_ns = s->stall_ms > 0 && index >= s->stall_frame ? (int64_t)s->stall_ms * 1000000 : 0;
            rc = push_frame(&w, &plane, index, s->fps, delay_ns);
            if (rc < 0)
                pw_err_set(err, rc, "%s: the encoder refused frame %d", path, index);
        }
        pw_image_destroy(&img);
    }
    int close_rc = writer_close(&w, path, rc < 0 ? NULL : err);
    return rc < 0 ? rc : close_rc;
}
