/*
 * source.c - turns a URI-like source description into a backend choice and,
 * for GStreamer sources, the head of a pipeline description. The tail
 * (conversion to 8-bit and the appsink) is added by backend_gst.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "capture_internal.h"

/* Values are pasted into a gst_parse_launch() description between double
 * quotes, so a quote or backslash would let a source string inject elements. */
static int quotable(const char *s)
{
    return strpbrk(s, "\"\\") == NULL;
}

static int has_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static char *size_caps(const pw_capture_config *cfg, const char *media)
{
    GString *s = g_string_new(media);
    if (cfg->width > 0 && cfg->height > 0)
        g_string_append_printf(s, ",width=%d,height=%d", cfg->width, cfg->height);
    if (cfg->fps_num > 0 && cfg->fps_den > 0)
        g_string_append_printf(s, ",framerate=%d/%d", cfg->fps_num, cfg->fps_den);
    return g_string_free(s, FALSE);
}

static int parse_testsrc(const pw_capture_config *cfg, const char *rest, pw_source_spec *sp,
                         pw_err *err)
{
    for (const char *c = rest; *c; c++)
        if (!g_ascii_isalnum(*c) && *c != '-')
            return pw_err_set(err, PW_ECONFIG,
                              "source '%s': the test pattern name may hold only letters, "
                              "digits and '-'", cfg->source);
    pw_capture_config c = *cfg;
    if (c.width <= 0 || c.height <= 0) {
        c.width = 640;
        c.height = 480;
    }
    if (c.fps_num <= 0 || c.fps_den <= 0) {
        c.fps_num = 30;
        c.fps_den = 1;
    }
    char *caps = size_caps(&c, "video/x-raw");
    sp->gst_desc = g_strdup_printf("videotestsrc is-live=true%s%s ! %s",
                                   *rest ? " pattern=" : "", rest, caps);
    g_free(caps);
    sp->restartable = 1;
    return 0;
}

static int parse_v4l2(const pw_capture_config *cfg, const char *dev, pw_source_spec *sp)
{
    char *raw = size_caps(cfg, "video/x-raw");
    char *jpeg = size_caps(cfg, "image/jpeg");
    /* Cameras offer raw and MJPEG modes; the caps filter picks the size and
     * rate among both, and decodebin decodes MJPEG when that is chosen. */
    sp->gst_desc = g_strdup_printf("v4l2src device=\"%s\" ! capsfilter caps=\"%s;%s\" ! decodebin",
                                   dev, raw, jpeg);
    g_free(raw);
    g_free(jpeg);
    sp->restartable = 1;
    return 0;
}

static int parse_file_uri(const pw_capture_config *cfg, pw_source_spec *sp, pw_err *err)
{
    GError *gerr = NULL;
    char *path = g_filename_from_uri(cfg->source, NULL, &gerr);
    if (!path) {
        pw_err_set(err, PW_ECONFIG, "source '%s': not a usable file URI: %s", cfg->source,
                   gerr->message);
        g_error_free(gerr);
        return PW_ECONFIG;
    }
    sp->path = path;
    return 0;
}

static int set_file(const pw_capture_config *cfg, pw_source_spec *sp, pw_err *err)
{
    if (!quotable(sp->path))
        return pw_err_set(err, PW_ECONFIG, "source '%s': quotes and backslashes are not "
                          "accepted in file names", cfg->source);
    sp->gst_desc = g_strdup_printf("filesrc location=\"%s\" ! decodebin", sp->path);
    sp->restartable = 0;
    return 0;
}

static int parse_path(const pw_capture_config *cfg, pw_source_spec *sp, pw_err *err)
{
    const char *s = cfg->source;
    if (s[0] != '/' && s[0] != '.')
        return pw_err_set(err, PW_ECONFIG, "source '%s': unknown kind (expected v4l2://, "
                          "v4l2direct://, rtsp://, file://, testsrc://, gst:, a folder or "
                          "a glob of images)", s);
    sp->path = g_strdup(s);
    if (has_glob(s) || g_file_test(s, G_FILE_TEST_IS_DIR)) {
        sp->kind = PW_SRC_IMAGES;
        sp->restartable = 0;
        return 0;
    }
    /* A plain path is taken as a recording; its absence is reported at start. */
    return set_file(cfg, sp, err);
}

int pw_source_parse(const pw_capture_config *cfg, pw_source_spec *sp, pw_err *err)
{
    const char *s = cfg->source;
    memset(sp, 0, sizeof *sp);
    sp->kind = PW_SRC_GST;
    sp->dropping = -1;
    if (!s || !*s)
        return pw_err_set(err, PW_ECONFIG, "capture source is empty");
    int rc;
    if (g_str_has_prefix(s, "gst:")) {
        sp->gst_desc = g_strdup(s + 4);
        sp->restartable = -1;
        rc = *sp->gst_desc ? 0 : pw_err_set(err, PW_ECONFIG, "source '%s': empty pipeline", s);
    } else if (g_str_has_prefix(s, "testsrc://")) {
        rc = parse_testsrc(cfg, s + 10, sp, err);
    } else if (g_str_has_prefix(s, "v4l2direct://")) {
        sp->kind = PW_SRC_V4L2DIRECT;
        sp->path = g_strdup(s + 13);
        sp->restartable = 1;
        rc = sp->path[0] == '/' ? 0 : pw_err_set(err, PW_ECONFIG,
                                                 "source '%s': expected v4l2direct:///dev/videoN", s);
    } else if (g_str_has_prefix(s, "v4l2://")) {
        const char *dev = s + 7;
        if (dev[0] != '/' || !quotable(dev))
            rc = pw_err_set(err, PW_ECONFIG, "source '%s': expected v4l2:///dev/videoN", s);
        else
            rc = parse_v4l2(cfg, dev, sp);
    } else if (g_str_has_prefix(s, "rtsp://") || g_str_has_prefix(s, "rtsps://")) {
        if (!quotable(s))
            return pw_err_set(err, PW_ECONFIG, "source '%s': quotes are not accepted", s);
        /* TCP interleaving: a camera that goes away closes the connection,
         * which is noticed at once, and no UDP ports need opening. */
        sp->gst_desc = g_strdup_printf("rtspsrc location=\"%s\" protocols=tcp latency=50 "
                                       "! decodebin", s);
        sp->restartable = 1;
        rc = 0;
    } else if (g_str_has_prefix(s, "file://")) {
        rc = parse_file_uri(cfg, sp, err);
        if (rc == 0)
            rc = has_glob(sp->path) || g_file_test(sp->path, G_FILE_TEST_IS_DIR)
                     ? (sp->kind = PW_SRC_IMAGES, 0)
                     : set_file(cfg, sp, err);
    } else {
        rc = parse_path(cfg, sp, err);
    }
    if (rc == 0 && cfg->live >= 0)
        sp->restartable = cfg->live;
    if (rc == 0 && cfg->pace)
        sp->dropping = 1;
    return rc;
}

void pw_source_spec_clear(pw_source_spec *sp)
{
    g_free(sp->gst_desc);
    g_free(sp->path);
    sp->gst_desc = sp->path = NULL;
}
