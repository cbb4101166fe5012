/*
 * video_run.c - one configuration over every recording, through the
 * daemon's own code: the configuration file is loaded by
 * pw_daemon_config_load() and each recording runs in a pw_lane built from
 * the chosen [lane NAME] group with only its source (and pacing) replaced.
 * The lane's sink collects reads (frame level) and vehicle events.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pw_build_config.h"
#include "video.h"

/* Seconds between two still images of a manifest set: longer than final_after, so each is its own vehicle. */
#define STILL_PERIOD_S 30

/* What the lane's sink hands over, from the OCR workers and the tracker thread. */
typedef struct {
    GMutex lock;
    GArray *reads;   /* pw_vread */
    GArray *finals;  /* pw_vfinal */
    GArray *lat_new; /* ms from the frame's capture to its vehicle.new */
    uint64_t last_seq; /* latest frame with a read, for the progress bar */
} collector;

static void on_read(const pw_lane_read *r, void *user)
{
    collector *c = user;
    pw_vread v = {.seq = r->frame_seq, .pts_ns = r->pts_ns};
    g_strlcpy(v.text, r->text, sizeof v.text);
    g_mutex_lock(&c->lock);
    g_array_append_val(c->reads, v);
    c->last_seq = MAX(c->last_seq, r->frame_seq);
    g_mutex_unlock(&c->lock);
}

static void on_event(const pw_track_event *ev, void *user)
{
    collector *c = user;
    g_mutex_lock(&c->lock);
    if (ev->kind == PW_TRACK_NEW) {
        double ms = (double)(g_get_monotonic_time() * 1000 - ev->latest_capture_mono_ns) / 1e6;
        g_array_append_val(c->lat_new, ms);
    } else if (ev->kind == PW_TRACK_FINAL) {
        pw_vfinal f = {.frames = ev->frames, .confidence = ev->confidence};
        g_strlcpy(f.text, ev->text, sizeof f.text);
        g_strlcpy(f.country, ev->country, sizeof f.country);
        g_array_append_val(c->finals, f);
    }
    g_mutex_unlock(&c->lock);
}

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

int pw_vconfig_apply(const char *overrides, pw_lane_config *lane, pw_err *err)
{
    if (!overrides || !*overrides)
        return 0;
    gchar **items = g_strsplit(overrides, ",", -1);
    int rc = 0;
    for (gchar **it = items; *it && rc == 0; it++) {
        gchar **kv = g_strsplit(*it, "=", 2);
        if (!kv[0] || !kv[1])
            rc = pw_err_set(err, PW_ECONFIG, "--variant: '%s' is not key=value", *it);
        else
            rc = pw_daemon_lane_vary(lane, g_strstrip(kv[0]), g_strstrip(kv[1]), err);
        g_strfreev(kv);
    }
    g_strfreev(items);
    return rc;
}

/* The lane group asked for, or the first one. */
static const pw_daemon_lane *pick_lane(const pw_daemon_config *dc, const pw_vconfig *cfg, pw_err *err)
{
    if (!cfg->lane)
        return &dc->lanes[0];
    gchar *group = g_strconcat("lane ", cfg->lane, NULL);
    const pw_daemon_lane *dl = pw_daemon_config_find(dc, group);
    g_free(group);
    if (!dl)
        pw_err_set(err, PW_ECONFIG, "%s: no [lane %s] group", cfg->config_path, cfg->lane);
    return dl;
}

static void progress(const pw_vconfig *cfg, guint rec, guint n_recs, const pw_vrec *r, uint64_t frames, int est)
{
    if (!cfg->progress)
        return;
    double within = est > 0 ? MIN(0.99, (double)frames / est) : 0;
    int width = 30, filled = (int)((rec + within) / n_recs * width);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r%-12.12s [%s] %u/%u %-24.24s frame %6llu", cfg->label, bar, rec + 1, n_recs, r->name,
            (unsigned long long)frames);
    fflush(stderr);
}

/* The last ground-truth frame, to estimate how far through a recording the lane is. */
static int estimate_frames(const pw_vrec *r)
{
    int last = 0;
    for (guint i = 0; i < r->passages->len; i++)
        last = MAX(last, g_array_index(r->passages, pw_vpassage, i).last_frame);
    return last + 1;
}

static void latency_json(JsonObject *o, const char *name, const pw_lane_latency *l)
{
    JsonObject *x = json_object_new();
    json_object_set_double_member(x, "p50_ms", l->p50_ms);
    json_object_set_double_member(x, "p95_ms", l->p95_ms);
    json_object_set_double_member(x, "p99_ms", l->p99_ms);
    json_object_set_int_member(x, "samples", (gint64)l->samples);
    json_object_set_object_member(o, name, x);
}

static void stats_json(JsonObject *o, const pw_lane_counters *st, double wall_ms, double cpu)
{
    json_object_set_int_member(o, "frames", (gint64)st->frames_done);
    json_object_set_int_member(o, "frames_in", (gint64)st->frames_in);
    json_object_set_int_member(o, "frames_dropped", (gint64)st->capture_dropped);
    json_object_set_int_member(o, "crops_dropped", (gint64)st->ocr_dropped);
    json_object_set_int_member(o, "candidates", (gint64)st->candidates);
    json_object_set_int_member(o, "candidates_skipped", (gint64)st->candidates_skipped);
    json_object_set_int_member(o, "frames_still", (gint64)st->frames_still);
    json_object_set_double_member(o, "wall_ms", wall_ms);
    json_object_set_double_member(o, "cpu_ms", cpu);
    latency_json(o, "detect", &st->detect);
    latency_json(o, "ocr", &st->ocr);
    latency_json(o, "capture_to_event", &st->capture_to_event);
}

/* Runs one recording through a lane made from base; fills obj with its stats and scores. */
static int run_recording(const pw_vconfig *cfg, const pw_lane_config *base, const pw_vrec *r, guint index,
                         guint n_recs, collector *c, JsonObject *obj, pw_err *err)
{
    pw_lane_config lc = *base;
    lc.capture.source = r->source;
    lc.capture.pace = cfg->realtime;
    lc.capture.loop = 0;
    if (r->stills) {
        /* Stills get stream times far apart so that each image is a vehicle of its own. */
        lc.capture.fps_num = 1;
        lc.capture.fps_den = STILL_PERIOD_S;
    }
    pw_lane_sink sink = {.on_event = on_event, .on_read = on_read, .user = c};
    pw_lane *lane = NULL;
    int rc = pw_lane_new(&lc, &sink, &lane, err);
    double t0 = pw_now_ms(), c0 = cpu_ms();
    if (rc == 0)
        rc = pw_lane_start(lane, err);
    int est = estimate_frames(r);
    pw_lane_counters st;
    /*
     * Progress comes from the reads, not pw_lane_get_stats(): that reads the
     * OCR pool, which the lane frees while it drains (a race in lane.c).
     */
    while (rc == 0 && !pw_lane_finished(lane)) {
        g_usleep(50 * 1000);
        g_mutex_lock(&c->lock);
        uint64_t seq = c->last_seq;
        g_mutex_unlock(&c->lock);
        progress(cfg, index, n_recs, r, seq, est);
    }
    if (rc == 0) {
        pw_lane_wait(lane);
        double wall = pw_now_ms() - t0, cpu = cpu_ms() - c0;
        pw_lane_get_stats(lane, &st);
        stats_json(obj, &st, wall, cpu);
        if (st.last_error[0] && strcmp(st.capture_state, "ended") != 0)
            json_object_set_string_member(obj, "capture_error", st.last_error);
    }
    pw_lane_destroy(&lane);
    return rc;
}

/* Sums the per-recording counts into totals, and sample-weights the lane's stage percentiles. */
static void add_totals(JsonObject *tot, JsonObject *rec)
{
    static const char *const counts[] = {"passages", "exact", "one_edit", "missed", "finals", "false_vehicles",
                                         "truth_frames", "frames_exact", "frames_one_edit", "reads", "reads_exact",
                                         "reads_outside_passages", "frames", "frames_in", "frames_dropped",
                                         "crops_dropped", "candidates", "candidates_skipped", "frames_still"};
    for (size_t i = 0; i < G_N_ELEMENTS(counts); i++)
        json_object_set_int_member(tot, counts[i], (gint64)(pw_vjson_num(tot, counts[i]) +
                                                            pw_vjson_num(rec, counts[i])));
    json_object_set_double_member(tot, "wall_ms", pw_vjson_num(tot, "wall_ms") + pw_vjson_num(rec, "wall_ms"));
    json_object_set_double_member(tot, "cpu_ms", pw_vjson_num(tot, "cpu_ms") + pw_vjson_num(rec, "cpu_ms"));
    static const char *const stages[] = {"detect", "ocr", "capture_to_event"};
    static const char *const qs[] = {"p50_ms", "p95_ms", "p99_ms"};
    for (size_t s = 0; s < G_N_ELEMENTS(stages); s++) {
        JsonObject *src = json_object_get_object_member(rec, stages[s]);
        if (!json_object_has_member(tot, stages[s]))
            json_object_set_object_member(tot, stages[s], json_object_new());
        JsonObject *dst = json_object_get_object_member(tot, stages[s]);
        double n0 = pw_vjson_num(dst, "samples"), n1 = pw_vjson_num(src, "samples");
        for (size_t q = 0; q < G_N_ELEMENTS(qs) && n0 + n1 > 0; q++)
            json_object_set_double_member(dst, qs[q], (pw_vjson_num(dst, qs[q]) * n0 +
                                                        pw_vjson_num(src, qs[q]) * n1) / (n0 + n1));
        json_object_set_int_member(dst, "samples", (gint64)(n0 + n1));
    }
}

static int cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Exact percentiles of the capture-to-vehicle.new samples, and the samples for the histogram. */
static void new_latency_json(JsonObject *res, GArray *lat)
{
    g_array_sort(lat, cmp_double);
    JsonObject *o = json_object_new();
    static const double qs[] = {0.50, 0.95, 0.99};
    static const char *const names[] = {"p50_ms", "p95_ms", "p99_ms"};
    for (size_t i = 0; i < G_N_ELEMENTS(qs); i++)
        json_object_set_double_member(o, names[i], lat->len ? g_array_index(lat, double, (guint)(qs[i] * (lat->len - 1) + 0.5)) : 0);
    json_object_set_int_member(o, "samples", lat->len);
    JsonArray *samples = json_array_new();
    for (guint i = 0; i < lat->len; i++)
        json_array_add_double_element(samples, g_array_index(lat, double, i));
    json_object_set_array_member(o, "values_ms", samples);
    json_object_set_object_member(res, "capture_to_new", o);
}

static void finish_result(JsonObject *res, JsonObject *tot, collector *c, JsonObject *heights, GHashTable *conf)
{
    double frames = pw_vjson_num(tot, "frames"), wall = pw_vjson_num(tot, "wall_ms");
    json_object_set_double_member(res, "throughput_fps", wall > 0 ? frames * 1000.0 / wall : 0);
    json_object_set_double_member(res, "cpu_ms_per_frame", frames > 0 ? pw_vjson_num(tot, "cpu_ms") / frames : 0);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    json_object_set_int_member(res, "peak_rss_kb", ru.ru_maxrss);
    json_object_set_object_member(res, "totals", tot);
    new_latency_json(res, c->lat_new);
    json_object_set_object_member(res, "by_height", heights);
    json_object_set_array_member(res, "confusions", pw_vscore_confusions(conf, 20));
}

static void collector_reset(collector *c)
{
    g_array_set_size(c->reads, 0);
    g_array_set_size(c->finals, 0);
    c->last_seq = 0;
}

static JsonObject *result_header(const pw_vconfig *cfg, const pw_lane_config *lc)
{
    JsonObject *res = json_object_new();
    json_object_set_string_member(res, "label", cfg->label);
    json_object_set_string_member(res, "config", cfg->config_path);
    json_object_set_string_member(res, "lane", lc->name);
    json_object_set_string_member(res, "variant", cfg->overrides ? cfg->overrides : "");
    gchar *simd = g_strdup_printf("%s%s%s%s", pw_simd_name(lc->detect.simd),
                                  lc->detect.simd == PW_SIMD_AUTO ? " (" : "",
                                  lc->detect.simd == PW_SIMD_AUTO ? pw_simd_name(pw_simd_best()) : "",
                                  lc->detect.simd == PW_SIMD_AUTO ? ")" : "");
    json_object_set_string_member(res, "simd", simd);
    g_free(simd);
    json_object_set_int_member(res, "ocr_workers", lc->ocr_workers);
    json_object_set_boolean_member(res, "realtime", cfg->realtime != 0);
    return res;
}

/* The lane configuration as the daemon would build it, with the environment's PW_SIMD and the variant applied. */
static int lane_config(const pw_vconfig *cfg, const pw_daemon_config *dc, pw_lane_config *out, pw_err *err)
{
    const pw_daemon_lane *dl = pick_lane(dc, cfg, err);
    if (!dl)
        return PW_ECONFIG;
    *out = dl->lane;
    pw_simd_level env;
    if (pw_simd_from_env(&env) < 0)
        return pw_err_set(err, PW_ESIMD, "PW_SIMD='%s': expected scalar, sse2, avx2 or auto", g_getenv("PW_SIMD"));
    if (env != PW_SIMD_AUTO)
        out->detect.simd = env;
    return pw_vconfig_apply(cfg->overrides, out, err);
}

int pw_vrun(const pw_vconfig *cfg, const pw_vset *set, JsonObject **out, pw_err *err)
{
    *out = NULL;
    pw_daemon_config *dc = NULL;
    pw_lane_config base;
    int rc = pw_daemon_config_load(cfg->config_path, &dc, err);
    if (rc == 0)
        rc = lane_config(cfg, dc, &base, err);
    if (rc < 0) {
        pw_daemon_config_destroy(&dc);
        return rc;
    }
    collector c = {.reads = g_array_new(FALSE, FALSE, sizeof(pw_vread)),
                   .finals = g_array_new(FALSE, FALSE, sizeof(pw_vfinal)),
                   .lat_new = g_array_new(FALSE, FALSE, sizeof(double))};
    g_mutex_init(&c.lock);
    JsonObject *res = result_header(cfg, &base), *tot = json_object_new(), *heights = json_object_new();
    JsonArray *recs = json_array_new();
    GHashTable *conf = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int status = 0;
    for (guint i = 0; i < set->recs->len; i++) {
        const pw_vrec *r = set->recs->pdata[i];
        JsonObject *ro = json_object_new();
        json_object_set_string_member(ro, "recording", r->name);
        pw_err rerr = {0};
        collector_reset(&c);
        if (run_recording(cfg, &base, r, i, set->recs->len, &c, ro, &rerr) < 0) {
            json_object_set_string_member(ro, "error", rerr.msg);
            fprintf(stderr, "%sbench video: %s: %s\n", cfg->progress ? "\n" : "", r->name, rerr.msg);
            status = 1;
        } else {
            pw_vscore_recording(r, c.reads, c.finals, ro, heights, conf);
            add_totals(tot, ro);
        }
        json_array_add_object_element(recs, ro);
    }
    if (cfg->progress)
        fprintf(stderr, "\n");
    json_object_set_array_member(res, "recordings", recs);
    finish_result(res, tot, &c, heights, conf);
    g_hash_table_unref(conf);
    g_array_free(c.reads, TRUE), g_array_free(c.finals, TRUE), g_array_free(c.lat_new, TRUE);
    g_mutex_clear(&c.lock);
    pw_daemon_config_destroy(&dc);
    *out = res;
    return status;
}
