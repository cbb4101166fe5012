/*
 * capture.c - the capture core: configuration, the first start, the
 * consumer side, and the supervisor thread that restarts live sources with
 * exponential backoff and ends recordings.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "capture_internal.h"

#define LOG_DOMAIN "pw-capture"
/* How often the supervisor looks for stalls and due restarts. */
#define TICK_MS 50

typedef struct {
    int code; /* PW_EEOS, a negative error, or 0 to wake the supervisor */
    char msg[256];
} cap_event;

struct pw_capture {
    pw_capture_config cfg;
    char *source;
    pw_source_spec spec;
    pw_fqueue *q;
    pw_backend *backend;
    int backend_running;
    GAsyncQueue *events;
    GThread *supervisor;
    int started;
    gint stopping;
    gint restartable; /* resolved: 1 live, 0 recorded, -1 not known yet */
    GMutex lock;      /* guards the fields below */
    pw_capture_state state;
    uint64_t restarts;
    char last_error[256];
};

/* The supervisor's own bookkeeping, touched by its thread only. */
typedef struct {
    int backoff_ms;
    int64_t next_attempt_ns;
    int64_t attempt_ns;     /* when the current pipeline instance was started */
    uint64_t frames_at_attempt;
} sup_state;

static const char *const state_names[] = {
    "stopped", "starting", "running", "recovering", "ended", "failed",
};

const char *pw_capture_state_name(pw_capture_state s)
{
    return (unsigned)s < G_N_ELEMENTS(state_names) ? state_names[s] : "unknown";
}

void pw_capture_config_defaults(pw_capture_config *cfg, const char *source)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->source = source;
    cfg->queue_depth = 2;
    cfg->live = -1;
    cfg->start_timeout_ms = 10000;
    cfg->stall_timeout_ms = 3000;
    cfg->backoff_initial_ms = 200;
    cfg->backoff_max_ms = 2000;
}

static int check_config(const pw_capture_config *c, pw_err *err)
{
    const char *s = c->source ? c->source : "(null)";
    if (c->queue_depth < 1 || c->queue_depth > 64)
        return pw_err_set(err, PW_ECONFIG, "source '%s': queue_depth %d is outside 1..64", s,
                          c->queue_depth);
    if (c->width < 0 || c->height < 0 || c->width > PW_MAX_IMAGE_SIDE ||
        c->height > PW_MAX_IMAGE_SIDE || (c->width > 0) != (c->height > 0))
        return pw_err_set(err, PW_ECONFIG, "source '%s': size %dx%d is not usable", s,
                          c->width, c->height);
    if (c->fps_num < 0 || c->fps_den < 0 || (c->fps_num > 0) != (c->fps_den > 0))
        return pw_err_set(err, PW_ECONFIG, "source '%s': frame rate %d/%d is not usable", s,
                          c->fps_num, c->fps_den);
    if (c->start_timeout_ms <= 0 || c->stall_timeout_ms <= 0 || c->backoff_initial_ms <= 0 ||
        c->backoff_max_ms < c->backoff_initial_ms)
        return pw_err_set(err, PW_ECONFIG, "source '%s': timeouts must be positive and "
                          "backoff_max_ms >= backoff_initial_ms", s);
    return 0;
}

static void set_state(pw_capture *cap, pw_capture_state st, const char *reason)
{
    g_mutex_lock(&cap->lock);
    pw_capture_state old = cap->state;
    cap->state = st;
    if (reason && *reason)
        g_strlcpy(cap->last_error, reason, sizeof cap->last_error);
    g_mutex_unlock(&cap->lock);
    /* Logged on changes only, so a camera that stays away does not flood the log. */
    if (old != st)
        g_log(LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "source '%s': %s -> %s%s%s", cap->source,
              pw_capture_state_name(old), pw_capture_state_name(st),
              reason && *reason ? ": " : "", reason ? reason : "");
}

int pw_capture_new(const pw_capture_config *cfg, pw_capture **out, pw_err *err)
{
    *out = NULL;
    if (!cfg || !cfg->source)
        return pw_err_set(err, PW_ECONFIG, "capture configuration has no source");
    int rc = check_config(cfg, err);
    if (rc)
        return rc;
    pw_capture *cap = g_new0(pw_capture, 1);
    cap->cfg = *cfg;
    cap->source = g_strdup(cfg->source);
    cap->cfg.source = cap->source;
    rc = pw_source_parse(&cap->cfg, &cap->spec, err);
    if (rc) {
        pw_source_spec_clear(&cap->spec);
        g_free(cap->source);
        g_free(cap);
        return rc;
    }
    g_mutex_init(&cap->lock);
    cap->restartable = cap->spec.restartable;
    cap->q = pw_fqueue_new(cfg->queue_depth);
    int dropping = cap->spec.dropping >= 0 ? cap->spec.dropping : cap->spec.restartable;
    /* Until a gst: pipeline says whether it is live, block rather than lose frames. */
    pw_fqueue_set_dropping(cap->q, dropping > 0);
    cap->events = g_async_queue_new_full(g_free);
    switch (cap->spec.kind) {
    case PW_SRC_GST: rc = pw_backend_gst_new(cap, &cap->backend, err); break;
    case PW_SRC_IMAGES: rc = pw_backend_images_new(cap, &cap->backend, err); break;
    case PW_SRC_V4L2DIRECT: rc = pw_backend_v4l2_new(cap, &cap->backend, err); break;
    }
    if (rc) {
        pw_capture_destroy(&cap);
        return rc;
    }
    *out = cap;
    return 0;
}

const pw_capture_config *pw_capture_cfg(const pw_capture *cap) { return &cap->cfg; }
const pw_source_spec *pw_capture_spec(const pw_capture *cap) { return &cap->spec; }

void pw_capture_deliver(pw_capture *cap, pw_frame *f)
{
    pw_fqueue_push(cap->q, f);
}

void pw_capture_report(pw_capture *cap, int code, const char *fmt, ...)
{
    cap_event *ev = g_new0(cap_event, 1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->msg, sizeof ev->msg, fmt, ap);
    va_end(ap);
    ev->code = code;
    g_async_queue_push(cap->events, ev);
}

void pw_capture_set_live(pw_capture *cap, int live)
{
    /* Only a gst: pipeline of unknown kind learns what it is this way. */
    if (cap->spec.restartable >= 0)
        return;
    g_atomic_int_set(&cap->restartable, live);
    if (cap->spec.dropping < 0)
        pw_fqueue_set_dropping(cap->q, live);
}

static int backend_start(pw_capture *cap, pw_err *err)
{
    int rc = cap->backend->ops->start(cap->backend, err);
    cap->backend_running = rc == 0;
    return rc;
}

/* Stops the backend and forgets what its old instance reported. */
static void backend_stop(pw_capture *cap)
{
    if (cap->backend_running)
        cap->backend->ops->stop(cap->backend);
    cap->backend_running = 0;
    cap_event *ev;
    while ((ev = g_async_queue_try_pop(cap->events)))
        g_free(ev);
}

static int64_t now_ns(void)
{
    return pw_clock_ns(CLOCK_MONOTONIC);
}

/* The current instance ended or failed: end a recording or schedule a restart. */
static void handle_end(pw_capture *cap, sup_state *s, int code, const char *why)
{
    pw_err err;
    pw_err_clear(&err);
    backend_stop(cap);
    if (g_atomic_int_get(&cap->restartable) <= 0) {
        if (code == PW_EEOS && cap->cfg.loop) {
            if (backend_start(cap, &err) == 0)
                return;
            code = err.code ? err.code : PW_ESOURCE;
            why = err.msg;
        }
        set_state(cap, code == PW_EEOS ? PW_CAPTURE_ENDED : PW_CAPTURE_FAILED,
                  code == PW_EEOS ? "end of stream" : why);
        pw_fqueue_close(cap->q, code);
        return;
    }
    set_state(cap, PW_CAPTURE_RECOVERING, why);
    s->next_attempt_ns = now_ns() + (int64_t)s->backoff_ms * 1000000;
    s->backoff_ms = MIN(s->backoff_ms * 2, cap->cfg.backoff_max_ms);
}

static void try_restart(pw_capture *cap, sup_state *s)
{
    pw_fqueue_counts c;
    pw_fqueue_counts_get(cap->q, &c);
    g_mutex_lock(&cap->lock);
    cap->restarts++;
    g_mutex_unlock(&cap->lock);
    s->attempt_ns = now_ns();
    s->frames_at_attempt = c.frames;
    pw_err err;
    pw_err_clear(&err);
    int rc = backend_start(cap, &err);
    if (rc) {
        g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "source '%s': restart failed: %s", cap->source,
              err.msg);
        handle_end(cap, s, rc, err.msg);
    }
}

static void on_tick(pw_capture *cap, sup_state *s)
{
    pw_fqueue_counts c;
    pw_fqueue_counts_get(cap->q, &c);
    int64_t now = now_ns();
    int64_t stall_ns = (int64_t)cap->cfg.stall_timeout_ms * 1000000;
    g_mutex_lock(&cap->lock);
    pw_capture_state st = cap->state;
    g_mutex_unlock(&cap->lock);
    if (g_atomic_int_get(&cap->restartable) <= 0)
        return;
    if (st == PW_CAPTURE_RUNNING) {
        int64_t last = MAX(c.last_push_mono_ns, s->attempt_ns);
        if (now - last > stall_ns) {
            char why[96];
            snprintf(why, sizeof why, "no frame for %d ms", cap->cfg.stall_timeout_ms);
            handle_end(cap, s, -ETIMEDOUT, why);
        }
    } else if (st == PW_CAPTURE_RECOVERING) {
        if (cap->backend_running && c.frames > s->frames_at_attempt) {
            set_state(cap, PW_CAPTURE_RUNNING, NULL);
            s->backoff_ms = cap->cfg.backoff_initial_ms;
        } else if (cap->backend_running && now - s->attempt_ns > stall_ns) {
            char why[96];
            snprintf(why, sizeof why, "no frame within %d ms of a restart",
                     cap->cfg.stall_timeout_ms);
            handle_end(cap, s, -ETIMEDOUT, why);
        } else if (!cap->backend_running && now >= s->next_attempt_ns) {
            try_restart(cap, s);
        }
    }
}

static gpointer supervise(gpointer data)
{
    pw_capture *cap = data;
    sup_state s = {.backoff_ms = cap->cfg.backoff_initial_ms, .attempt_ns = now_ns()};
    while (!g_atomic_int_get(&cap->stopping)) {
        cap_event *ev = g_async_queue_timeout_pop(cap->events, TICK_MS * 1000);
        if (g_atomic_int_get(&cap->stopping)) {
            g_free(ev);
            break;
        }
        g_mutex_lock(&cap->lock);
        pw_capture_state st = cap->state;
        g_mutex_unlock(&cap->lock);
        /* Reports only matter from a running instance of an unfinished source. */
        if (ev && ev->code && cap->backend_running && st != PW_CAPTURE_ENDED &&
            st != PW_CAPTURE_FAILED)
            handle_end(cap, &s, ev->code, ev->code == PW_EEOS ? "end of stream" : ev->msg);
        g_free(ev);
        on_tick(cap, &s);
    }
    return NULL;
}

/* Waits for the first frame, an error or the start timeout; 0 when a frame came. */
static int wait_first_frame(pw_capture *cap, char *why, size_t whylen)
{
    int64_t deadline = now_ns() + (int64_t)cap->cfg.start_timeout_ms * 1000000;
    for (;;) {
        pw_fqueue_counts c;
        pw_fqueue_counts_get(cap->q, &c);
        if (c.frames > 0)
            return 0;
        cap_event *ev = g_async_queue_timeout_pop(cap->events, 20 * 1000);
        if (ev) {
            pw_fqueue_counts_get(cap->q, &c);
            if (c.frames > 0) {
                /* The end came right after the first frame: the supervisor handles it. */
                g_async_queue_push_front(cap->events, ev);
                return 0;
            }
            if (ev->code == PW_EEOS)
                snprintf(why, whylen, "the stream ended before its first frame");
            else
                snprintf(why, whylen, "%s", ev->msg);
            int code = ev->code ? ev->code : PW_ESOURCE;
            g_free(ev);
            return code;
        }
        if (now_ns() > deadline) {
            snprintf(why, whylen, "no frame within %d ms", cap->cfg.start_timeout_ms);
            return -ETIMEDOUT;
        }
    }
}

int pw_capture_start(pw_capture *cap, pw_err *err)
{
    if (cap->started)
        return pw_err_set(err, -EALREADY, "source '%s': already started", cap->source);
    cap->started = 1;
    set_state(cap, PW_CAPTURE_STARTING, NULL);
    pw_err berr;
    pw_err_clear(&berr);
    char why[sizeof berr.msg] = "";
    int rc = backend_start(cap, &berr);
    if (rc) {
        /* The pipeline's bus usually says more than the failed state change. */
        cap_event *ev = g_async_queue_try_pop(cap->events);
        snprintf(why, sizeof why, "%s", ev && ev->msg[0] ? ev->msg : berr.msg);
        g_free(ev);
    } else {
        rc = wait_first_frame(cap, why, sizeof why);
    }
    if (rc) {
        backend_stop(cap);
        set_state(cap, PW_CAPTURE_FAILED, why);
        return pw_err_set(err, PW_ESOURCE, "source '%s' cannot start: %s", cap->source, why);
    }
    set_state(cap, PW_CAPTURE_RUNNING, NULL);
    cap->supervisor = g_thread_new("pw-capture-sup", supervise, cap);
    return 0;
}

int pw_capture_next(pw_capture *cap, int timeout_ms, pw_frame **out, pw_err *err)
{
    int rc = pw_fqueue_pop(cap->q, timeout_ms, out);
    if (rc == PW_EEOS) {
        pw_err_set(err, rc, "source '%s': end of stream", cap->source);
    } else if (rc && rc != -ETIMEDOUT && rc != -ECANCELED) {
        g_mutex_lock(&cap->lock);
        pw_err_set(err, rc, "source '%s' failed: %s", cap->source, cap->last_error);
        g_mutex_unlock(&cap->lock);
    }
    return rc;
}

void pw_capture_get_stats(pw_capture *cap, pw_capture_stats *st)
{
    pw_fqueue_counts c;
    pw_fqueue_counts_get(cap->q, &c);
    memset(st, 0, sizeof *st);
    st->frames = c.frames;
    st->delivered = c.delivered;
    st->dropped = c.dropped;
    st->queued = c.queued;
    if (c.last_push_mono_ns > 0)
        st->last_frame_real_ns = pw_clock_ns(CLOCK_REALTIME) - (now_ns() - c.last_push_mono_ns);
    g_mutex_lock(&cap->lock);
    st->restarts = cap->restarts;
    st->state = cap->state;
    g_strlcpy(st->last_error, cap->last_error, sizeof st->last_error);
    g_mutex_unlock(&cap->lock);
}

void pw_capture_stop(pw_capture *cap)
{
    if (!cap || g_atomic_int_get(&cap->stopping))
        return;
    g_atomic_int_set(&cap->stopping, 1);
    /* Aborting first frees a producer blocked on a full queue, so that the
     * pipeline can reach NULL state. */
    pw_fqueue_abort(cap->q);
    if (cap->supervisor) {
        g_async_queue_push(cap->events, g_new0(cap_event, 1));
        g_thread_join(cap->supervisor);
        cap->supervisor = NULL;
    }
    backend_stop(cap);
    if (cap->started)
        set_state(cap, PW_CAPTURE_STOPPED, NULL);
}

void pw_capture_destroy(pw_capture **capp)
{
    if (!capp || !*capp)
        return;
    pw_capture *cap = *capp;
    pw_capture_stop(cap);
    if (cap->backend)
        cap->backend->ops->destroy(cap->backend);
    pw_fqueue_free(cap->q);
    g_async_queue_unref(cap->events);
    pw_source_spec_clear(&cap->spec);
    g_mutex_clear(&cap->lock);
    g_free(cap->source);
    g_free(cap);
    *capp = NULL;
}
