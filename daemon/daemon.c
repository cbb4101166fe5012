#define _POSIX_C_SOURCE 200809L
#include "daemon.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "daemon_config.h"
#include "publish.h"

/* A configuration shared by the lanes built from it (g_atomic_rc_box). */
typedef struct {
    pw_daemon_config *cfg;
} config_box;

/*
 * One [lane] group at run time. Until its source runs, the lane belongs to
 * its starter thread, which retries the start with backoff (a camera that
 * is down must not stop the other lanes, nor block the main loop while it
 * is waited for); the main thread reads the lane's counters only once
 * `running` is set.
 */
typedef struct {
    config_box *box;              /* reference held while the lane runs */
    const pw_daemon_lane *dl;     /* inside box->cfg */
    pw_publisher *pub;
    pw_lane *lane;
    gint publish_failures;
    GThread *starter;             /* starts the lane, retrying; joined by the main thread */
    GMutex lock;                  /* guards the fields below */
    GCond wake;                   /* wakes the starter out of its backoff */
    int cancel;                   /* the starter gives up (reload, shutdown) */
    int running;                  /* the lane's threads run */
    uint64_t failed_starts;       /* starts that failed, each followed by a retry */
    uint64_t lane_restarts;       /* remakes after a source failed, with the old reconnects */
    char start_error[256];        /* why the latest start failed */
    gint events[PW_EVENT_VEHICLE_FINAL + 1];   /* vehicle events by pw_event_kind */
} running_lane;

struct pw_daemon {
    char *path;
    config_box *box;
    GPtrArray *lanes;  /* of running_lane * */
};

static void config_box_clear(gpointer p)
{
    pw_daemon_config_destroy(&((config_box *)p)->cfg);
}

static config_box *config_box_new(pw_daemon_config *cfg)
{
    config_box *b = g_atomic_rc_box_new0(config_box);
    b->cfg = cfg;
    return b;
}

static void config_box_unref(config_box *b)
{
    if (b)
        g_atomic_rc_box_release_full(b, config_box_clear);
}

static int64_t mono_to_wall_us(int64_t mono_ns)
{
    return g_get_real_time() - (g_get_monotonic_time() - mono_ns / 1000);
}

/* Converts a tracker event into the published event model. */
static void to_event(const running_lane *rl, const pw_track_event *ev, pw_event *out)
{
    static const pw_event_kind kinds[] = {
        [PW_TRACK_NEW] = PW_EVENT_VEHICLE_NEW,
        [PW_TRACK_UPDATE] = PW_EVENT_VEHICLE_UPDATE,
        [PW_TRACK_FINAL] = PW_EVENT_VEHICLE_FINAL,
    };
    memset(out, 0, sizeof *out);
    out->kind = kinds[ev->kind];
    g_strlcpy(out->camera, rl->dl->lane.camera, sizeof out->camera);
    g_strlcpy(out->plate, ev->text, sizeof out->plate);
    out->confidence = ev->confidence / 100.0;
    out->n_char_conf = strlen(out->plate);
    for (size_t i = 0; i < out->n_char_conf; i++)
        out->char_conf[i] = ev->char_conf[i] / 100.0f;
    out->n_alts = MIN(ev->n_alts, (size_t)PW_VEHICLE_MAX_ALTS);
    for (size_t i = 0; i < out->n_alts; i++) {
        out->alts[i] = ev->alts[i];
        out->alts[i].confidence = ev->alts[i].confidence / 100.0f;
    }
    g_strlcpy(out->country, ev->country, sizeof out->country);
    out->first_seen_us = ev->first_seen_ns / 1000;
    out->last_seen_us = ev->last_seen_ns / 1000;
    out->best_capture_us = ev->best_capture_ns / 1000;
    out->frames = (uint32_t)ev->frames;
    memcpy(out->corners, ev->corners, sizeof out->corners);
    out->trigger_capture_us = mono_to_wall_us(ev->latest_capture_mono_ns);
}

/* Called on the lane's tracker thread: journal, then publish. */
static void on_vehicle(const pw_track_event *ev, void *user)
{
    running_lane *rl = user;
    pw_event out;
    to_event(rl, ev, &out);
    gsize len = 0;
    const uint8_t *jpeg = ev->jpeg ? g_bytes_get_data(ev->jpeg, &len) : NULL;
    pw_err err = {0};
    g_atomic_int_inc(&rl->events[out.kind]);
    if (pw_publisher_publish(rl->pub, &out, jpeg, len, &err) < 0) {
        g_atomic_int_inc(&rl->publish_failures);
        g_warning("lane %s: event for %s not journalled: %s", rl->dl->lane.name, ev->text, err.msg);
    }
}

static int open_publisher(const pw_daemon_config *c, const pw_daemon_lane *dl, pw_publisher **pub, pw_err *err)
{
    pw_publisher_config pc = {
        .site = c->site,
        .lane = dl->lane.name,
        .pub_endpoint = dl->publish_endpoint,
        .replay_endpoint = dl->replay_endpoint,
        .journal_path = dl->journal,
        .journal_max_bytes = dl->journal_max_bytes,
        .journal_max_age_s = dl->journal_max_age_s,
        .journal_sync_normal = dl->journal_sync_normal != 0,
        .secret_key_file = c->secret_key,
        .allow_list = c->allow_list,
        .allow_plain = c->allow_plain != 0,
    };
    pw_err perr = {0};
    int rc = pw_publisher_new(&pc, pub, &perr);
    if (rc < 0)
        return pw_err_set(err, rc, "%s: [%s]: publisher: %s", c->path, dl->group, perr.msg);
    return 0;
}

/* Asks the starter to give up and waits for it (at most one start attempt, start_timeout_ms). */
static void stop_starter(running_lane *rl)
{
    if (!rl->starter)
        return;
    g_mutex_lock(&rl->lock);
    rl->cancel = 1;
    g_cond_signal(&rl->wake);
    g_mutex_unlock(&rl->lock);
    g_thread_join(rl->starter);
    rl->starter = NULL;
}

static void running_lane_free(running_lane *rl)
{
    if (!rl)
        return;
    stop_starter(rl);
    pw_lane_destroy(&rl->lane); /* drains: the last FINALs go out through the publisher */
    pw_publisher_destroy(&rl->pub);
    config_box_unref(rl->box);
    g_mutex_clear(&rl->lock);
    g_cond_clear(&rl->wake);
    g_free(rl);
}

static int lane_running(running_lane *rl)
{
    g_mutex_lock(&rl->lock);
    int running = rl->running;
    g_mutex_unlock(&rl->lock);
    return running;
}

/* Waits out one backoff; returns 1 when the starter was cancelled meanwhile. */
static int backoff_wait(running_lane *rl, int ms)
{
    gint64 until = g_get_monotonic_time() + (gint64)ms * 1000;
    g_mutex_lock(&rl->lock);
    while (!rl->cancel && g_cond_wait_until(&rl->wake, &rl->lock, until))
        ;
    int cancel = rl->cancel;
    g_mutex_unlock(&rl->lock);
    return cancel;
}

/* Records a failed start; the reason is logged when it changes, not at every retry. */
static void note_failed_start(running_lane *rl, const char *why, int next_ms)
{
    g_mutex_lock(&rl->lock);
    int changed = strcmp(rl->start_error, why) != 0;
    g_strlcpy(rl->start_error, why, sizeof rl->start_error);
    rl->failed_starts++;
    g_mutex_unlock(&rl->lock);
    if (changed)
        g_warning("lane %s: %s; retrying (first in %d ms, then with backoff); the other lanes run on",
                  rl->dl->lane.name, why, next_ms);
}

/* The starter thread: starts the lane, retrying with exponential backoff until it runs. */
static gpointer starter_main(gpointer data)
{
    running_lane *rl = data;
    const pw_capture_config *cc = &rl->dl->lane.capture;
    int backoff_ms = cc->backoff_initial_ms > 0 ? cc->backoff_initial_ms : 200;
    int max_ms = MAX(cc->backoff_max_ms, backoff_ms);
    for (;;) {
        pw_err err = {0};
        if (pw_lane_start(rl->lane, &err) == 0)
            break;
        note_failed_start(rl, err.msg[0] ? err.msg : pw_strerror(err.code), backoff_ms);
        if (backoff_wait(rl, backoff_ms))
            return NULL;
        backoff_ms = MIN(backoff_ms * 2, max_ms);
    }
    g_mutex_lock(&rl->lock);
    rl->running = 1;
    uint64_t failed = rl->failed_starts;
    g_mutex_unlock(&rl->lock);
    g_message("lane %s: started (camera %s, source %s, publishing on %s)%s", rl->dl->lane.name,
              rl->dl->lane.camera, rl->dl->lane.capture.source, pw_publisher_endpoint(rl->pub, "pub"),
              failed ? " after failed starts" : "");
    return NULL;
}

/* Makes the lane's pipeline and hands it to a new starter thread. */
static int launch_lane(running_lane *rl, pw_err *err)
{
    pw_lane_sink sink = {.on_event = on_vehicle, .user = rl};
    pw_err lerr = {0};
    int rc = pw_lane_new(&rl->dl->lane, &sink, &rl->lane, &lerr);
    if (rc < 0)
        return pw_err_set(err, rc, "%s: [%s]: %s", rl->box->cfg->path, rl->dl->group, lerr.msg);
    g_mutex_lock(&rl->lock);
    rl->running = 0;
    rl->cancel = 0;
    g_mutex_unlock(&rl->lock);
    rl->starter = g_thread_new("pw-lane-start", starter_main, rl);
    return 0;
}

/*
 * Opens the lane's publisher and makes its pipeline; a configuration that
 * cannot work fails here. The source itself is started by the starter
 * thread, so a camera that is down is retried while the other lanes run.
 */
static int start_lane(pw_daemon *d, const pw_daemon_lane *dl, pw_err *err)
{
    running_lane *rl = g_new0(running_lane, 1);
    g_mutex_init(&rl->lock);
    g_cond_init(&rl->wake);
    rl->box = g_atomic_rc_box_acquire(d->box);
    rl->dl = dl;
    int rc = open_publisher(d->box->cfg, dl, &rl->pub, err);
    if (rc == 0)
        rc = launch_lane(rl, err);
    if (rc < 0) {
        running_lane_free(rl);
        return rc;
    }
    g_ptr_array_add(d->lanes, rl);
    return 0;
}

int pw_daemon_new(const char *config_path, pw_daemon **out, pw_err *err)
{
    if (!config_path || !out)
        return pw_err_set(err, -EINVAL, "no configuration file given");
    *out = NULL;
    pw_daemon_config *cfg = NULL;
    int rc = pw_daemon_config_load(config_path, &cfg, err);
    if (rc < 0)
        return rc;
    if (cfg->allow_plain)
        g_warning("%s: [security] allow_plain = true: events are published WITHOUT encryption or "
                  "client authentication", config_path);
    pw_daemon *d = g_new0(pw_daemon, 1);
    d->path = g_strdup(config_path);
    d->box = config_box_new(cfg);
    d->lanes = g_ptr_array_new();
    *out = d;
    return 0;
}

int pw_daemon_start(pw_daemon *d, pw_err *err)
{
    const pw_daemon_config *c = d->box->cfg;
    for (size_t i = 0; i < c->n_lanes; i++) {
        int rc = start_lane(d, &c->lanes[i], err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Stops lanes the new configuration drops or changes; returns how many were stopped. */
static int stop_changed_lanes(pw_daemon *d, const pw_daemon_config *next)
{
    int stopped = 0;
    for (guint i = d->lanes->len; i-- > 0;) {
        running_lane *rl = g_ptr_array_index(d->lanes, i);
        const pw_daemon_lane *now = pw_daemon_config_find(next, rl->dl->group);
        if (now && strcmp(now->fingerprint, rl->dl->fingerprint) == 0)
            continue;
        g_message("lane %s: %s, stopping", rl->dl->lane.name, now ? "configuration changed" : "removed");
        g_ptr_array_remove_index(d->lanes, i);
        running_lane_free(rl);
        stopped++;
    }
    return stopped;
}

static int is_running(pw_daemon *d, const char *group)
{
    for (guint i = 0; i < d->lanes->len; i++)
        if (!strcmp(((running_lane *)g_ptr_array_index(d->lanes, i))->dl->group, group))
            return 1;
    return 0;
}

int pw_daemon_reload(pw_daemon *d, pw_err *err)
{
    pw_daemon_config *next = NULL;
    int rc = pw_daemon_config_load(d->path, &next, err);
    if (rc < 0)
        return rc;
    int stopped = stop_changed_lanes(d, next);
    config_box_unref(d->box);
    d->box = config_box_new(next);
    int started = 0;
    for (size_t i = 0; i < next->n_lanes; i++) {
        if (is_running(d, next->lanes[i].group))
            continue;
        pw_err lerr = {0};
        if (start_lane(d, &next->lanes[i], &lerr) < 0) {
            g_warning("%s", lerr.msg);
            rc = pw_err_set(err, lerr.code, "%s", lerr.msg);
        } else {
            started++;
        }
    }
    g_message("reloaded %s: %d lane(s) stopped, %d started, %u running", d->path, stopped, started, d->lanes->len);
    return rc;
}

/* The camera's state as the health view names it. */
static const char *health_state(int running, uint64_t failed_starts, const char *capture_state)
{
    if (!running)
        return failed_starts ? "retrying" : "starting";
    if (!strcmp(capture_state, "running") || !strcmp(capture_state, "starting"))
        return capture_state;
    /* A failed source is remade by pw_daemon_tick(); a live one recovers by itself. */
    if (!strcmp(capture_state, "recovering") || !strcmp(capture_state, "failed"))
        return "retrying";
    return "stopped";
}

static void publish_lane_stats(running_lane *rl)
{
    pw_lane_counters lc = {0};
    g_mutex_lock(&rl->lock);
    int running = rl->running;
    uint64_t failed = rl->failed_starts, remade = rl->lane_restarts;
    char start_error[sizeof rl->start_error];
    g_strlcpy(start_error, rl->start_error, sizeof start_error);
    g_mutex_unlock(&rl->lock);
    /* Until it runs, the lane belongs to its starter thread: only the health is known. */
    if (running)
        pw_lane_get_stats(rl->lane, &lc);
    pw_stage_latency stages[] = {
        {"detect", lc.detect.p50_ms, lc.detect.p99_ms},
        {"ocr", lc.ocr.p50_ms, lc.ocr.p99_ms},
        {"capture_to_event", lc.capture_to_event.p50_ms, lc.capture_to_event.p99_ms},
    };
    pw_queue_depth queues[] = {{"ocr_in", lc.ocr_queue_depth, lc.ocr_queue_capacity}};
    pw_lane_health health = {
        .state = health_state(running, failed, lc.capture_state),
        .last_frame_us = lc.last_frame_real_ns / 1000,
        .restarts = failed + remade + lc.reconnects,
        .last_error = lc.last_error[0] ? lc.last_error : start_error,
    };
    pw_lane_stats st = {
        .frames_in = lc.frames_in,
        .frames_dropped = lc.capture_dropped + lc.ocr_frames_dropped,
        .reads = lc.reads,
        .events = lc.events,
        .reconnects = lc.reconnects,
        .stages = stages,
        .n_stages = G_N_ELEMENTS(stages),
        .queues = queues,
        .n_queues = G_N_ELEMENTS(queues),
        .health = &health,
    };
    pw_err err = {0};
    if (pw_publisher_publish_stats(rl->pub, rl->dl->lane.camera, &st, &err) < 0)
        g_warning("lane %s: stats not published: %s", rl->dl->lane.name, err.msg);
}

void pw_daemon_publish_stats(pw_daemon *d)
{
    for (guint i = 0; i < d->lanes->len; i++)
        publish_lane_stats(g_ptr_array_index(d->lanes, i));
}

/*
 * A running lane whose source failed for good (a recording that cannot be
 * read any more, or cannot restart its loop) has drained and stopped: it is
 * made anew and retried like a source that cannot start.
 */
static void remake_failed_lane(running_lane *rl)
{
    if (!lane_running(rl) || !pw_lane_finished(rl->lane))
        return;
    pw_lane_counters lc;
    pw_lane_get_stats(rl->lane, &lc);
    if (strcmp(lc.capture_state, "failed") != 0)
        return;
    g_warning("lane %s: source failed: %s; restarting the lane", rl->dl->lane.name, lc.last_error);
    g_thread_join(rl->starter);
    rl->starter = NULL;
    pw_lane_destroy(&rl->lane);
    g_mutex_lock(&rl->lock);
    rl->lane_restarts += 1 + lc.reconnects;
    g_strlcpy(rl->start_error, lc.last_error, sizeof rl->start_error);
    g_mutex_unlock(&rl->lock);
    pw_err err = {0};
    if (launch_lane(rl, &err) < 0)
        g_warning("lane %s: cannot be made anew: %s", rl->dl->lane.name, err.msg);
}

void pw_daemon_tick(pw_daemon *d)
{
    for (guint i = 0; i < d->lanes->len; i++)
        remake_failed_lane(g_ptr_array_index(d->lanes, i));
}

int pw_daemon_all_finished(pw_daemon *d)
{
    for (guint i = 0; i < d->lanes->len; i++) {
        running_lane *rl = g_ptr_array_index(d->lanes, i);
        if (!rl->lane || !lane_running(rl) || !pw_lane_finished(rl->lane))
            return 0;
    }
    return 1;
}

/* The running lanes as daemon_metrics.c reads them (main thread). */
void pw_daemon_foreach_lane(pw_daemon *d, pw_daemon_lane_cb cb, void *user)
{
    for (guint i = 0; i < d->lanes->len; i++) {
        running_lane *rl = g_ptr_array_index(d->lanes, i);
        pw_daemon_lane_view v = {.dl = rl->dl, .lane = rl->lane, .pub = rl->pub,
                                 .publish_failures = (uint64_t)g_atomic_int_get(&rl->publish_failures)};
        for (int k = 0; k <= PW_EVENT_VEHICLE_FINAL; k++)
            v.events[k] = (uint64_t)g_atomic_int_get(&rl->events[k]);
        cb(&v, user);
    }
}

const char *pw_daemon_metrics_listen(const pw_daemon *d)
{
    return d->box->cfg->metrics_listen;
}

int pw_daemon_stats_interval(const pw_daemon *d)
{
    return d->box->cfg->stats_interval_s;
}

void pw_daemon_stop(pw_daemon *d)
{
    /* Lanes still starting give up first; then every lane is asked, so they drain in parallel. */
    for (guint i = 0; i < d->lanes->len; i++)
        stop_starter(g_ptr_array_index(d->lanes, i));
    for (guint i = 0; i < d->lanes->len; i++)
        pw_lane_stop(((running_lane *)g_ptr_array_index(d->lanes, i))->lane);
    for (guint i = 0; i < d->lanes->len; i++)
        pw_lane_wait(((running_lane *)g_ptr_array_index(d->lanes, i))->lane);
}

void pw_daemon_destroy(pw_daemon **dp)
{
    if (!dp || !*dp)
        return;
    pw_daemon *d = *dp;
    pw_daemon_stop(d);
    for (guint i = 0; i < d->lanes->len; i++)
        running_lane_free(g_ptr_array_index(d->lanes, i));
    g_ptr_array_free(d->lanes, TRUE);
    config_box_unref(d->box);
    g_free(d->path);
    g_free(d);
    *dp = NULL;
}
