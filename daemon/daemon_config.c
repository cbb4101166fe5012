#define _POSIX_C_SOURCE 200809L
#include "daemon_config.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "pw_build_config.h"
#include "pw_keyfile.h"
#include "pw_metrics.h"

static int get_roi(const pw_keyfile *r, const char *group, pw_rect *roi)
{
    char *v = NULL;
    int rc = pw_keyfile_string(r, group, "roi", NULL, 0, &v);
    if (rc < 0 || !v)
        return rc;
    int x, y, w, h;
    char tail;
    int n = sscanf(v, "%d,%d,%d,%d%c", &x, &y, &w, &h, &tail);
    g_free(v);
    if (n != 4 || x < 0 || y < 0 || w <= 0 || h <= 0)
        return pw_keyfile_bad(r, group, "roi", "expected x,y,width,height in pixels (width and height > 0)");
    *roi = (pw_rect){x, y, w, h};
    return 0;
}

static char *fingerprint(GKeyFile *kf, const char *group)
{
    gchar **keys = g_key_file_get_keys(kf, group, NULL, NULL);
    GString *s = g_string_new(NULL);
    for (gchar **k = keys; k && *k; k++) {
        gchar *v = g_key_file_get_value(kf, group, *k, NULL);
        g_string_append_printf(s, "%s=%s\n", *k, v ? v : "");
        g_free(v);
    }
    g_strfreev(keys);
    return g_string_free(s, FALSE);
}

static int read_site(const pw_keyfile *r, pw_daemon_config *c)
{
    int rc = 0;
    if (!g_key_file_has_group(r->kf, "site"))
        return pw_err_set(r->err, PW_ECONFIG, "%s: [site]: group missing (required)", r->path);
    if ((rc = pw_keyfile_string(r, "site", "id", NULL, PW_KEYFILE_REQUIRED, &c->site)) < 0)
        return rc;
    if (!g_regex_match_simple("^[A-Za-z0-9_-]{1,63}$", c->site, 0, 0))
        return pw_keyfile_bad(r, "site", "id", "use 1-63 letters, digits, '-' or '_' (it is part of topics)");
    pw_ocr_config ocr;
    pw_ocr_config_defaults(&ocr);
    if ((rc = pw_keyfile_string(r, "site", "formats", PW_MODELS_DIR "/formats", 0, &c->formats_dir)) < 0 ||
        (rc = pw_keyfile_string(r, "site", "tessdata", ocr.tessdata_dir, 0, &c->tessdata_dir)) < 0 ||
        (rc = pw_keyfile_string(r, "site", "language", ocr.language, 0, &c->language)) < 0 ||
        (rc = pw_keyfile_int(r, "site", "stats_interval_s", 10, 1, 3600, &c->stats_interval_s)) < 0)
        return rc;
    pw_err ferr = {0};
    rc = pw_formats_load_dir(c->formats_dir, &c->formats, &ferr);
    if (rc < 0)
        return pw_err_set(r->err, rc, "%s: [site] formats: %s", r->path, ferr.msg);
    return 0;
}

static int read_security(const pw_keyfile *r, pw_daemon_config *c)
{
    int rc;
    bool plain = false;
    if ((rc = pw_keyfile_bool(r, "security", "allow_plain", false, &plain)) < 0 ||
        (rc = pw_keyfile_string(r, "security", "secret_key", NULL, 0, &c->secret_key)) < 0 ||
        (rc = pw_keyfile_string(r, "security", "allow_list", NULL, 0, &c->allow_list)) < 0)
        return rc;
    c->allow_plain = plain;
    if (!c->allow_plain && (!c->secret_key || !c->allow_list))
        return pw_keyfile_bad(r, "security", c->secret_key ? "allow_list" : "secret_key",
                              "missing: CURVE needs secret_key and allow_list, "
                              "or allow_plain = true to run unencrypted");
    return 0;
}

static int read_countries(const pw_keyfile *r, const pw_daemon_config *c, const char *group, pw_lane_config *lc)
{
    char *v = NULL;
    int rc = pw_keyfile_string(r, group, "countries", NULL, 0, &v);
    if (rc < 0 || !v)
        return rc;
    pw_err perr = {0};
    rc = pw_formats_parse_countries(c->formats, v, lc->countries, PW_LANE_MAX_COUNTRIES, &lc->n_countries, &perr);
    g_free(v);
    return rc < 0 ? pw_keyfile_bad(r, group, "countries", "%s", perr.msg) : 0;
}

/* detector = platewatch (the localiser) or haar (OpenCV's cascade, a baseline for benchmarks). */
static int read_detector(const pw_keyfile *r, const char *group, pw_daemon_lane *dl)
{
    char *detector = NULL;
    int rc = pw_keyfile_string(r, group, "detector", "platewatch", 0, &detector);
    if (rc == 0 && !strcmp(detector, "haar"))
        rc = pw_keyfile_string(r, group, "haar_cascade", PW_HAAR_PLATE_CASCADE, 0, &dl->haar_cascade);
    else if (rc == 0 && strcmp(detector, "platewatch") != 0)
        rc = pw_keyfile_bad(r, group, "detector", "expected platewatch or haar");
    g_free(detector);
    dl->lane.haar_cascade = dl->haar_cascade;
    return rc;
}

static int read_pipeline(const pw_keyfile *r, const char *group, pw_lane_config *lc)
{
    int rc, final_ms = 1500, new_conf = 70, min_conf = (int)lc->read.min_confidence;
    bool jpeg = false, voting = true, loop = false, pace = false;
    if ((rc = pw_keyfile_int(r, group, "ocr_workers", 1, 1, 16, &lc->ocr_workers)) < 0 ||
        (rc = pw_keyfile_int(r, group, "ocr_queue", 2, 1, 256, &lc->ocr_queue)) < 0 ||
        (rc = pw_keyfile_int(r, group, "candidates_per_frame", lc->read.candidates, 1, PW_DETECT_MAX_CANDIDATES,
                             &lc->read.candidates)) < 0 ||
        (rc = pw_keyfile_int(r, group, "min_read_confidence", min_conf, 0, 100, &min_conf)) < 0 ||
        (rc = pw_keyfile_int(r, group, "new_min_confidence", 70, 0, 100, &new_conf)) < 0 ||
        (rc = pw_keyfile_int(r, group, "new_min_frames", 2, 1, 100, &lc->tracker.new_min_frames)) < 0 ||
        (rc = pw_keyfile_int(r, group, "final_after_ms", 1500, 100, 600000, &final_ms)) < 0 ||
        (rc = pw_keyfile_bool(r, group, "jpeg_crops", false, &jpeg)) < 0 ||
        (rc = pw_keyfile_bool(r, group, "voting", true, &voting)) < 0 ||
        (rc = pw_keyfile_bool(r, group, "loop", false, &loop)) < 0 ||
        (rc = pw_keyfile_bool(r, group, "pace", false, &pace)) < 0 ||
        (rc = pw_keyfile_int(r, group, "stall_timeout_ms", 3000, 100, 600000,
                             &lc->capture.stall_timeout_ms)) < 0 ||
        (rc = get_roi(r, group, &lc->detect.roi)) < 0)
        return rc;
    lc->read.min_confidence = (float)min_conf;
    lc->tracker.new_min_confidence = (float)new_conf;
    lc->tracker.final_after_ns = (int64_t)final_ms * 1000000;
    lc->tracker.disable_voting = !voting;
    lc->jpeg_crops = jpeg, lc->capture.loop = loop, lc->capture.pace = pace;
    return 0;
}

static int read_lane(const pw_keyfile *r, pw_daemon_config *c, const char *group, pw_daemon_lane *dl)
{
    int rc, max_mb = 256;
    char *source = NULL;
    dl->group = g_strdup(group);
    dl->fingerprint = fingerprint(r->kf, group);
    if ((rc = pw_keyfile_string(r, group, "source", NULL, PW_KEYFILE_REQUIRED, &source)) < 0)
        return rc;
    pw_lane_config_defaults(&dl->lane, source);
    dl->lane.capture.source = source; /* owned here, freed in lane_clear */
    dl->lane.camera = NULL;           /* owned once read below */
    dl->lane.name = dl->group + strlen("lane "); /* inside the owned copy */
    dl->lane.formats = c->formats;
    dl->lane.ocr.tessdata_dir = c->tessdata_dir;
    dl->lane.ocr.language = c->language;
    if (!g_regex_match_simple("^[A-Za-z0-9_-]{1,63}$", dl->lane.name, 0, 0))
        return pw_err_set(r->err, PW_ECONFIG, "%s: [%s]: lane name must be 1-63 letters, digits, '-' or '_'",
                          r->path, group);
    char *camera = NULL;
    if ((rc = pw_keyfile_string(r, group, "camera", dl->lane.name, 0, &camera)) < 0)
        return rc;
    dl->lane.camera = camera;
    if ((rc = pw_keyfile_string(r, group, "direction", "inbound", 0, &dl->direction)) < 0 ||
        (rc = pw_keyfile_string(r, group, "publish", NULL, PW_KEYFILE_REQUIRED, &dl->publish_endpoint)) < 0 ||
        (rc = pw_keyfile_string(r, group, "replay", NULL, PW_KEYFILE_REQUIRED, &dl->replay_endpoint)) < 0 ||
        (rc = pw_keyfile_string(r, group, "journal", NULL, PW_KEYFILE_REQUIRED, &dl->journal)) < 0 ||
        (rc = pw_keyfile_int(r, group, "journal_max_mb", 256, 1, 1 << 20, &max_mb)) < 0 ||
        (rc = read_countries(r, c, group, &dl->lane)) < 0)
        return rc;
    dl->journal_max_bytes = (int64_t)max_mb << 20;
    if ((rc = read_detector(r, group, dl)) < 0)
        return rc;
    return read_pipeline(r, group, &dl->lane);
}

/* [metrics] listen = ADDRESS:PORT (docs/metrics.md); absent = no HTTP server. */
static int read_metrics(const pw_keyfile *r, pw_daemon_config *c)
{
    int rc = pw_keyfile_string(r, "metrics", "listen", NULL, PW_KEYFILE_EMPTY_IS_ABSENT,
                               &c->metrics_listen);
    GSocketAddress *addr = NULL;
    pw_err perr = {0};
    if (rc == 0 && c->metrics_listen && pw_listen_parse(c->metrics_listen, &addr, NULL, &perr))
        rc = pw_err_set(r->err, PW_ECONFIG, "%s: [metrics] %s", r->path, perr.msg);
    g_clear_object(&addr);
    return rc;
}

static int read_lanes(const pw_keyfile *r, pw_daemon_config *c)
{
    gchar **groups = g_key_file_get_groups(r->kf, NULL);
    int rc = 0;
    for (gchar **g = groups; *g && rc == 0; g++) {
        if (!strcmp(*g, "site") || !strcmp(*g, "security") || !strcmp(*g, "metrics"))
            continue;
        if (!g_str_has_prefix(*g, "lane "))
            rc = pw_err_set(r->err, PW_ECONFIG, "%s: [%s]: unknown group (expected [site], [security], [metrics] or [lane NAME])",
                            r->path, *g);
        else if (c->n_lanes == PW_DAEMON_MAX_LANES)
            rc = pw_err_set(r->err, PW_ECONFIG, "%s: [%s]: more than %d lanes", r->path, *g, PW_DAEMON_MAX_LANES);
        else
            rc = read_lane(r, c, *g, &c->lanes[c->n_lanes++]);
    }
    g_strfreev(groups);
    if (rc == 0 && c->n_lanes == 0)
        rc = pw_err_set(r->err, PW_ECONFIG, "%s: no [lane NAME] group: nothing to watch", r->path);
    return rc;
}

int pw_daemon_config_load(const char *path, pw_daemon_config **out, pw_err *err)
{
    if (!path || !out)
        return pw_err_set(err, -EINVAL, "no configuration file given");
    *out = NULL;
    GKeyFile *kf = g_key_file_new();
    GError *gerr = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
        int code = g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? -ENOENT : PW_ECONFIG;
        pw_err_set(err, code, "%s: %s", path, gerr->message);
        g_error_free(gerr);
        g_key_file_free(kf);
        return code;
    }
    pw_daemon_config *c = g_new0(pw_daemon_config, 1);
    c->path = g_strdup(path);
    pw_keyfile r = {kf, path, err};
    int rc = read_site(&r, c);
    if (rc == 0)
        rc = read_security(&r, c);
    if (rc == 0)
        rc = read_metrics(&r, c);
    if (rc == 0)
        rc = read_lanes(&r, c);
    g_key_file_free(kf);
    if (rc < 0) {
        pw_daemon_config_destroy(&c);
        return rc;
    }
    *out = c;
    return 0;
}

static void lane_clear(pw_daemon_lane *dl)
{
    g_free(dl->group);
    g_free(dl->fingerprint);
    g_free((char *)dl->lane.capture.source);
    g_free((char *)dl->lane.camera);
    g_free(dl->direction);
    g_free(dl->publish_endpoint);
    g_free(dl->replay_endpoint);
    g_free(dl->journal);
    g_free(dl->haar_cascade);
}

void pw_daemon_config_destroy(pw_daemon_config **cp)
{
    if (!cp || !*cp)
        return;
    pw_daemon_config *c = *cp;
    for (size_t i = 0; i < c->n_lanes; i++)
        lane_clear(&c->lanes[i]);
    pw_formats_destroy(&c->formats);
    g_free(c->path), g_free(c->site), g_free(c->formats_dir), g_free(c->tessdata_dir), g_free(c->language);
    g_free(c->secret_key), g_free(c->allow_list), g_free(c->metrics_listen);
    g_free(c);
    *cp = NULL;
}

const pw_daemon_lane *pw_daemon_config_find(const pw_daemon_config *cfg, const char *group)
{
    for (size_t i = 0; cfg && i < cfg->n_lanes; i++)
        if (!strcmp(cfg->lanes[i].group, group))
            return &cfg->lanes[i];
    return NULL;
}
