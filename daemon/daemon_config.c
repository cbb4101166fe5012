/*
 * daemon_config.c - the daemon's table of settings and the loader that
 * applies a file to it (daemon_config.h, pw_settings.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "daemon_config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "publish.h"
#include "pw_build_config.h"
#include "pw_metrics.h"

/* ---- Values the generic types cannot hold ---- */

static int parse_roi(const pw_setting *s, const char *v, void *field, void *ctx, pw_err *err)
{
    (void)s, (void)ctx;
    int x, y, w, h;
    char tail;
    if (sscanf(v, "%d,%d,%d,%d%c", &x, &y, &w, &h, &tail) != 4 || x < 0 || y < 0 || w <= 0 || h <= 0)
        return pw_err_set(err, PW_ECONFIG, "expected x,y,width,height in pixels (width and height > 0), got \"%s\"",
                          v);
    *(pw_rect *)field = (pw_rect){x, y, w, h};
    return 0;
}

static void format_roi(const pw_setting *s, const void *field, GString *out)
{
    (void)s;
    const pw_rect *r = field;
    if (r->w > 0)
        g_string_append_printf(out, "%d,%d,%d,%d", r->x, r->y, r->w, r->h);
}

/* The field is the whole pw_lane_config: the list and its length. ctx is the pw_daemon_config. */
static int parse_countries(const pw_setting *s, const char *v, void *field, void *ctx, pw_err *err)
{
    (void)s;
    pw_lane_config *lc = field;
    const pw_daemon_config *c = ctx;
    if (!c || !c->formats)
        return pw_err_set(err, PW_ECONFIG, "countries cannot be set here");
    return pw_formats_parse_countries(c->formats, v, lc->countries, PW_LANE_MAX_COUNTRIES, &lc->n_countries, err) < 0
               ? PW_ECONFIG
               : 0;
}

static void format_countries(const pw_setting *s, const void *field, GString *out)
{
    (void)s;
    const pw_lane_config *lc = field;
    for (size_t i = 0; i < lc->n_countries; i++)
        g_string_append_printf(out, "%s%s", i ? "," : "", lc->countries[i]);
}

static int parse_simd(const pw_setting *s, const char *v, void *field, void *ctx, pw_err *err)
{
    (void)s, (void)ctx;
    if (pw_simd_parse(v, field) < 0)
        return pw_err_set(err, PW_ECONFIG, "expected auto, scalar, sse2 or avx2, got \"%s\"", v);
    return 0;
}

static void format_simd(const pw_setting *s, const void *field, GString *out)
{
    (void)s;
    g_string_append(out, pw_simd_name(*(const pw_simd_level *)field));
}

/* ---- The table ---- */

#define SITE(key, type, field) "site", key, PW_SETTING_##type, offsetof(pw_daemon_config, field)
#define SEC(key, type, field) "security", key, PW_SETTING_##type, offsetof(pw_daemon_config, field)
#define METRICS(key, type, field) "metrics", key, PW_SETTING_##type, offsetof(pw_daemon_config, field)
#define LANE(key, type, field) "lane", key, PW_SETTING_##type, offsetof(pw_daemon_lane, field)

static const char *const detectors[] = {[PW_DETECTOR_PLATEWATCH] = "platewatch", [PW_DETECTOR_HAAR] = "haar", NULL};

static const pw_setting table[] = {
    {SITE("id", STRING, site), .flags = PW_SETTING_REQUIRED | PW_SETTING_ID,
     .doc = "Site identifier, part of every topic: plate.<site>.<lane>.<kind>"},
    {SITE("formats", STRING, formats_dir), .doc = "Folder of plate-format files (*.fmt)",
     .doc_default = "`models/formats` of the installation"},
    {SITE("tessdata", STRING, tessdata_dir), .doc = "Tesseract model folder",
     .doc_default = "`models` of the installation"},
    {SITE("language", STRING, language), .doc = "Tesseract model name; several joined with '+' are combined"},
    {SITE("stats_interval_s", INT, stats_interval_s), .min = 1, .max = 3600, .doc = "Seconds between stats events"},

    {SEC("secret_key", STRING, secret_key),
     .doc = "Server key pair file written by `platewatch keygen` (readable by its owner only)"},
    {SEC("allow_list", STRING, allow_list), .doc = "Client public keys allowed to subscribe: a folder of .pub files, or one file"},
    {SEC("allow_plain", BOOL, allow_plain), .doc = "Publish without CURVE encryption (closed test networks only)"},

    {METRICS("listen", STRING, metrics_listen), .flags = PW_SETTING_EMPTY_IS_ABSENT,
     .doc = "Prometheus /metrics and /healthz over plain HTTP (docs/metrics.md), ADDRESS:PORT with a literal IP; "
            "left out: none. Read at start only"},

    {LANE("source", STRING, lane.capture.source), .flags = PW_SETTING_REQUIRED,
     .doc = "rtsp://, v4l2://, v4l2direct://, file:// URI, a folder of images, or testsrc://"},
    {LANE("camera", STRING, lane.camera), .flags = PW_SETTING_ID, .doc = "Camera id carried by every event",
     .doc_default = "the lane's name"},
    {LANE("direction", STRING, direction), .doc = "Direction of traffic, informational (inbound, outbound ...)"},
    {LANE("countries", CUSTOM, lane), .parse = parse_countries, .format = format_countries,
     .type_doc = "country codes of models/formats, comma-separated", .doc_default = "every loaded format",
     .doc = "Plate formats to match, most likely first"},
    {LANE("roi", CUSTOM, lane.detect.roi), .parse = parse_roi, .format = format_roi, .type_doc = "x,y,width,height",
     .doc_default = "the whole frame", .doc = "Region of interest in pixels: where plates pass in this camera"},
    {LANE("publish", STRING, publish_endpoint), .flags = PW_SETTING_REQUIRED, .doc = "ZeroMQ PUB endpoint to bind"},
    {LANE("replay", STRING, replay_endpoint), .flags = PW_SETTING_REQUIRED, .doc = "ZeroMQ ROUTER endpoint for replay requests"},
    {LANE("journal", STRING, journal), .flags = PW_SETTING_REQUIRED, .doc = "SQLite event journal, one file per lane"},
    {LANE("journal_max_bytes", SIZE, journal_max_bytes), .min = 2 << 20, .max = (double)(1LL << 40),
     .doc = "Size the journal file is kept under; the oldest events are pruned first"},
    {LANE("journal_max_age_s", INT64, journal_max_age_s), .min = 60, .max = 10 * 365 * 86400.0,
     .doc = "Events older than this many seconds are pruned"},
    {LANE("journal_sync_normal", BOOL, journal_sync_normal),
     .doc = "false: an fsync per event (power-cut safe); true: crash safe only, faster"},
    {LANE("detector", ENUM, detector), .choices = detectors, .flags = PW_SETTING_VARIANT,
     .doc = "Plate localiser; haar (OpenCV's cascade) is a baseline for benchmarks"},
    {LANE("haar_cascade", STRING, haar_cascade), .doc = "Cascade file used when detector = haar",
     .doc_default = "the build's `haar_cascade` option"},
    {LANE("simd", CUSTOM, lane.detect.simd), .parse = parse_simd, .format = format_simd,
     .type_doc = "auto, scalar, sse2 or avx2", .flags = PW_SETTING_VARIANT,
     .doc = "Localiser instruction set; auto picks the best this CPU has"},
    {LANE("ocr_workers", INT, lane.ocr_workers), .min = 1, .max = 16, .flags = PW_SETTING_VARIANT,
     .doc = "OCR threads, one Tesseract engine each"},
    {LANE("ocr_queue", INT, lane.ocr_queue), .min = 1, .max = 256, .flags = PW_SETTING_VARIANT,
     .doc = "Frames waiting for OCR at most; a frame that finds it full is dropped (counted)"},
    {LANE("candidates_per_frame", INT, lane.read.candidates), .min = 1, .max = PW_DETECT_MAX_CANDIDATES,
     .flags = PW_SETTING_VARIANT, .doc = "Localiser candidates read per frame, best first (as `platewatch read`)"},
    {LANE("rank_candidates", INT, lane.read.rank_candidates), .min = 0, .max = PW_DETECT_MAX_CANDIDATES,
     .flags = PW_SETTING_VARIANT,
     .doc = "Of the localiser's first boxes, only those holding a plate-like row of characters are read (as `platewatch read`, which looks at more: a still has one chance); 0: its first `candidates_per_frame`, each read"},
    {LANE("plain_fallback", BOOL, lane.ocr.plain_fallback), .flags = PW_SETTING_VARIANT,
     .doc = "Read a crop whole once more when its characters were found but not read (a second OCR call)"},
    {LANE("min_read_confidence", FLOAT, lane.read.min_confidence), .min = 0, .max = 100,
     .flags = PW_SETTING_VARIANT, .doc = "Reads below this confidence are not tracked (as `platewatch read`)"},
    {LANE("new_min_frames", INT, lane.tracker.new_min_frames), .min = 1, .max = 100, .flags = PW_SETTING_VARIANT,
     .doc = "Reads of a vehicle before vehicle.new; 2 keeps single-frame misreads out"},
    {LANE("new_min_confidence", FLOAT, lane.tracker.new_min_confidence), .min = 0, .max = 100,
     .flags = PW_SETTING_VARIANT, .doc = "Consensus confidence that sends vehicle.new"},
    {LANE("voting", BOOL, lane.tracker.disable_voting), .flags = PW_SETTING_INVERT | PW_SETTING_VARIANT,
     .doc = "Combine a vehicle's reads by per-character voting (false: the most confident read wins)"},
    {LANE("final_after_ms", INT64, lane.tracker.final_after_ns), .min = 100, .max = 600000, .scale = 1e6,
     .flags = PW_SETTING_VARIANT, .doc = "Silence after which a vehicle has left and vehicle.final is sent"},
    {LANE("settle_reads", INT, lane.tracker.settle_reads), .min = 0, .max = 100, .flags = PW_SETTING_VARIANT,
     .doc = "Reads in a row within one edit of a clear, unchanged vote after which a vehicle's plate is read only now and then; 0: every frame"},
    {LANE("reread_frames", INT, lane.tracker.reread_frames), .min = 1, .max = 1000, .flags = PW_SETTING_VARIANT,
     .doc = "Frames a settled plate goes unread at most; it is read again at once when a read disagrees"},
    {LANE("reread_size_change", FLOAT, lane.tracker.reread_size_change), .min = 1.01, .max = 10,
     .flags = PW_SETTING_VARIANT, .doc = "Width ratio to its last read at which a settled plate is read again"},
    {LANE("motion_threshold", INT, lane.motion_threshold), .min = 0, .max = 255, .flags = PW_SETTING_VARIANT,
     .doc = "Grey levels (16x16 cell means in the roi) a frame must change by to be searched; 0: search every frame"},
    {LANE("motion_refresh", INT, lane.motion_refresh), .min = 1, .max = 10000, .flags = PW_SETTING_VARIANT,
     .doc = "Frames between searches at most when nothing moves"},
    {LANE("jpeg_crops", BOOL, lane.jpeg_crops), .doc = "Attach the JPEG crop of the best read to events"},
    {LANE("stall_timeout_ms", INT, lane.capture.stall_timeout_ms), .min = 100, .max = 600000,
     .doc = "A source that sends nothing for this long is restarted (with backoff)"},
    {LANE("loop", BOOL, lane.capture.loop), .doc = "Restart a recording at its end (tests and soak runs)"},
    {LANE("pace", BOOL, lane.capture.pace), .doc = "Play a recording at its own frame rate, as a camera would"},
};

const pw_setting *pw_daemon_settings(size_t *n)
{
    *n = G_N_ELEMENTS(table);
    return table;
}

void pw_daemon_config_defaults(pw_daemon_config *c)
{
    memset(c, 0, sizeof *c);
    pw_ocr_config ocr;
    pw_ocr_config_defaults(&ocr);
    c->formats_dir = PW_MODELS_DIR "/formats";
    c->tessdata_dir = ocr.tessdata_dir;
    c->language = ocr.language;
    c->stats_interval_s = 10;
}

void pw_daemon_lane_defaults(pw_daemon_lane *dl)
{
    memset(dl, 0, sizeof *dl);
    /* The pipeline's defaults, and the read settings' from pw_read_settings_defaults(), are the lane's own. */
    pw_lane_config_defaults(&dl->lane, NULL);
    dl->lane.camera = NULL; /* the lane's name unless set */
    dl->direction = "inbound";
    dl->journal_max_bytes = PW_JOURNAL_MAX_BYTES_DEFAULT;
    dl->journal_max_age_s = PW_JOURNAL_MAX_AGE_S_DEFAULT;
    dl->detector = PW_DETECTOR_PLATEWATCH;
    dl->haar_cascade = PW_HAAR_PLATE_CASCADE;
}

/* What the lane runs follows from keys that depend on each other. */
static void lane_resolve(pw_daemon_lane *dl)
{
    dl->lane.haar_cascade = dl->detector == PW_DETECTOR_HAAR ? dl->haar_cascade : NULL;
}

int pw_daemon_lane_vary(pw_lane_config *lane, const char *key, const char *value, pw_err *err)
{
    const pw_setting *s = pw_settings_find(table, G_N_ELEMENTS(table), "lane", key);
    if (!s || !(s->flags & PW_SETTING_VARIANT)) {
        GString *keys = g_string_new(NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
            if (table[i].flags & PW_SETTING_VARIANT)
                g_string_append_printf(keys, "%s%s", keys->len ? ", " : "", table[i].key);
        const char *near = s ? NULL : pw_settings_suggest(table, G_N_ELEMENTS(table), "lane", key);
        pw_err_set(err, PW_ECONFIG, "--variant: %s '%s'%s%s%s (%s)", s ? "cannot vary" : "unknown key", key,
                   near ? "; did you mean " : "", near ? near : "", near ? "?" : "", keys->str);
        g_string_free(keys, TRUE);
        return PW_ECONFIG;
    }
    pw_daemon_lane dl;
    pw_daemon_lane_defaults(&dl);
    dl.lane = *lane;
    dl.detector = lane->haar_cascade ? PW_DETECTOR_HAAR : PW_DETECTOR_PLATEWATCH;
    dl.haar_cascade = lane->haar_cascade ? lane->haar_cascade : PW_HAAR_PLATE_CASCADE;
    pw_err why = {0};
    if (pw_setting_set(s, value, &dl, NULL, NULL, &why) < 0)
        return pw_err_set(err, PW_ECONFIG, "--variant: %s=%s: %s", key, value, why.msg);
    lane_resolve(&dl);
    *lane = dl.lane;
    return 0;
}

/* ---- Loading a file ---- */

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

static int read_site(const pw_settings_file *f, pw_daemon_config *c, pw_err *err)
{
    if (!pw_settings_file_line(f, "site", NULL))
        return pw_err_set(err, PW_ECONFIG, "%s: [site]: group missing (required)", c->path);
    int rc = pw_settings_apply(f, table, G_N_ELEMENTS(table), "site", "site", c, c->strings, c, err);
    pw_err ferr = {0};
    if (rc == 0 && (rc = pw_formats_load_dir(c->formats_dir, &c->formats, &ferr)) < 0)
        return pw_settings_bad(f, err, "site", pw_settings_file_line(f, "site", "formats") ? "formats" : NULL,
                               "formats %s: %s", c->formats_dir, ferr.msg);
    return rc;
}

static int read_security(const pw_settings_file *f, pw_daemon_config *c, pw_err *err)
{
    int rc = pw_settings_apply(f, table, G_N_ELEMENTS(table), "security", "security", c, c->strings, c, err);
    if (rc == 0 && !c->allow_plain && (!c->secret_key || !c->allow_list))
        return pw_settings_bad(f, err, "security", c->secret_key ? "allow_list" : "secret_key",
                               "missing: CURVE needs secret_key and allow_list, "
                               "or allow_plain = true to run unencrypted");
    return rc;
}

/* A lane's defaults, and what it takes from its group's name and the site. */
static void lane_start(const pw_settings_file *f, pw_daemon_config *c, const char *group, pw_daemon_lane *dl)
{
    pw_daemon_lane_defaults(dl);
    char *name = g_strdup(group);
    g_ptr_array_add(c->strings, name);
    dl->group = name;
    dl->lane.name = name + strlen("lane ");
    dl->lane.formats = c->formats;
    dl->lane.ocr.tessdata_dir = c->tessdata_dir;
    dl->lane.ocr.language = c->language;
    dl->fingerprint = fingerprint(pw_settings_file_keyfile(f), group);
}

/*
 * [metrics] listen = ADDRESS:PORT (docs/metrics.md): the address must be a
 * literal IP, so that what is bound is what the file says.
 */
static int read_metrics(const pw_settings_file *f, pw_daemon_config *c, pw_err *err)
{
    int rc = pw_settings_apply(f, table, G_N_ELEMENTS(table), "metrics", "metrics", c, c->strings, c, err);
    GSocketAddress *addr = NULL;
    pw_err why = {0};
    if (rc == 0 && c->metrics_listen && pw_listen_parse(c->metrics_listen, &addr, NULL, &why))
        rc = pw_settings_bad(f, err, "metrics", "listen", "%s", why.msg);
    g_clear_object(&addr);
    return rc;
}

static int read_lane_keys(const pw_settings_file *f, pw_daemon_config *c, const char *group, pw_daemon_lane *dl,
                          pw_err *err)
{
    lane_start(f, c, group, dl);
    pw_err why = {0};
    if (pw_settings_check_id(dl->lane.name, &why) < 0)
        return pw_settings_bad(f, err, group, NULL, "lane name %s", why.msg);
    int rc = pw_settings_apply(f, table, G_N_ELEMENTS(table), group, "lane", dl, c->strings, c, err);
    if (rc == 0 && !dl->lane.camera)
        dl->lane.camera = dl->lane.name;
    lane_resolve(dl);
    return rc;
}

static int read_lanes(const pw_settings_file *f, pw_daemon_config *c, pw_err *err)
{
    gchar **groups = g_key_file_get_groups(pw_settings_file_keyfile(f), NULL);
    int rc = 0;
    for (gchar **g = groups; *g && rc == 0; g++) {
        if (!strcmp(*g, "site") || !strcmp(*g, "security") || !strcmp(*g, "metrics"))
            continue;
        if (!g_str_has_prefix(*g, "lane "))
            rc = pw_settings_bad(f, err, *g, NULL,
                                 "unknown group (expected [site], [security], [metrics] or [lane NAME])");
        else if (c->n_lanes == PW_DAEMON_MAX_LANES)
            rc = pw_settings_bad(f, err, *g, NULL, "more than %d lanes", PW_DAEMON_MAX_LANES);
        else
            rc = read_lane_keys(f, c, *g, &c->lanes[c->n_lanes++], err);
    }
    g_strfreev(groups);
    if (rc == 0 && c->n_lanes == 0)
        rc = pw_err_set(err, PW_ECONFIG, "%s: no [lane NAME] group: nothing to watch", c->path);
    return rc;
}

/* ---- Checks across lanes ---- */

/* tcp://HOST:PORT split; 0 for another transport. */
static int tcp_port(const char *ep, char *host, size_t host_len)
{
    if (!g_str_has_prefix(ep, "tcp://"))
        return 0;
    const char *colon = strrchr(ep, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon < ep + 6 || !end || *end || port <= 0 || port > 65535)
        return 0;
    g_strlcpy(host, ep + 6, MIN(host_len, (size_t)(colon - ep - 6) + 1));
    return (int)port;
}

static bool wildcard_host(const char *h)
{
    return !strcmp(h, "*") || !strcmp(h, "0.0.0.0") || !strcmp(h, "[::]") || !strcmp(h, "::");
}

/* Two binds that cannot both succeed: the same endpoint, or one TCP port on overlapping addresses. */
static bool endpoints_clash(const char *a, const char *b)
{
    char ha[256], hb[256];
    int pa = tcp_port(a, ha, sizeof ha), pb = tcp_port(b, hb, sizeof hb);
    if (pa && pb)
        return pa == pb && (!strcmp(ha, hb) || wildcard_host(ha) || wildcard_host(hb));
    return !strcmp(a, b);
}

typedef struct {
    const pw_daemon_lane *dl;
    const char *key, *endpoint;
} bind_use;

static int check_endpoints(const pw_settings_file *f, const pw_daemon_config *c, pw_err *err)
{
    bind_use uses[2 * PW_DAEMON_MAX_LANES];
    size_t n = 0;
    for (size_t i = 0; i < c->n_lanes; i++) {
        uses[n++] = (bind_use){&c->lanes[i], "publish", c->lanes[i].publish_endpoint};
        uses[n++] = (bind_use){&c->lanes[i], "replay", c->lanes[i].replay_endpoint};
    }
    for (size_t j = 1; j < n; j++)
        for (size_t i = 0; i < j; i++)
            if (endpoints_clash(uses[i].endpoint, uses[j].endpoint))
                return pw_settings_bad(f, err, uses[j].dl->group, uses[j].key,
                                       "%s clashes with [%s] %s = %s (line %d): one of them could not bind",
                                       uses[j].endpoint, uses[i].dl->group, uses[i].key, uses[i].endpoint,
                                       pw_settings_file_line(f, uses[i].dl->group, uses[i].key));
    return 0;
}

/*
 * Each journal holds one lane's sequence: a second lane writing into it
 * would have every event refused on the unique sequence number.
 */
static int check_journals(const pw_settings_file *f, const pw_daemon_config *c, pw_err *err)
{
    char *paths[PW_DAEMON_MAX_LANES];
    int rc = 0;
    for (size_t j = 0; j < c->n_lanes; j++) {
        paths[j] = g_canonicalize_filename(c->lanes[j].journal, NULL);
        for (size_t i = 0; i < j && rc == 0; i++)
            if (!strcmp(paths[i], paths[j]))
                rc = pw_settings_bad(f, err, c->lanes[j].group, "journal",
                                     "%s is also the journal of [%s] (line %d): each lane needs its own",
                                     c->lanes[j].journal, c->lanes[i].group,
                                     pw_settings_file_line(f, c->lanes[i].group, "journal"));
    }
    for (size_t j = 0; j < c->n_lanes; j++)
        g_free(paths[j]);
    return rc;
}

int pw_daemon_config_load(const char *path, pw_daemon_config **out, pw_err *err)
{
    if (!out)
        return pw_err_set(err, -EINVAL, "no configuration to fill");
    *out = NULL;
    pw_settings_file *f = NULL;
    int rc = pw_settings_file_load(path, &f, err);
    if (rc < 0)
        return rc;
    pw_daemon_config *c = g_new0(pw_daemon_config, 1);
    pw_daemon_config_defaults(c);
    c->strings = g_ptr_array_new_with_free_func(g_free);
    char *own_path = g_strdup(path);
    g_ptr_array_add(c->strings, own_path);
    c->path = own_path;
    rc = read_site(f, c, err);
    if (rc == 0)
        rc = read_security(f, c, err);
    if (rc == 0)
        rc = read_metrics(f, c, err);
    if (rc == 0)
        rc = read_lanes(f, c, err);
    if (rc == 0)
        rc = check_journals(f, c, err);
    if (rc == 0)
        rc = check_endpoints(f, c, err);
    c->file = f;
    if (rc < 0) {
        pw_daemon_config_destroy(&c);
        return rc;
    }
    *out = c;
    return 0;
}

void pw_daemon_config_destroy(pw_daemon_config **cp)
{
    if (!cp || !*cp)
        return;
    pw_daemon_config *c = *cp;
    for (size_t i = 0; i < c->n_lanes; i++)
        g_free(c->lanes[i].fingerprint);
    pw_formats_destroy(&c->formats);
    pw_settings_file_destroy(&c->file);
    if (c->strings)
        g_ptr_array_unref(c->strings);
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
