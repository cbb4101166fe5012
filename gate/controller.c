/*
 * controller.c - the lane controller: one event in, one decision out,
 * audited, idempotent by event id, then published (docs/gate.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "console.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

struct pw_gate {
    pw_gate_config cfg;            /* strings below are owned copies */
    char *store_path, *decision_endpoint, *events_endpoint, *replay_endpoint, *prefix;
    char *server_key, *client_key;
    pw_declstore *store;
    pw_checkpointer *checkpointer;
    void *zctx;
    void *pub;                     /* decisions PUB, NULL when not publishing */
    char endpoint[256];
    pw_gate_source *source;
    gint stop;
    int64_t next_heartbeat_us;
    pw_gate_counters counters;
    int run_decisions;             /* new decisions in the current pw_gate_run() */
    pw_err run_err;                /* first store failure inside pw_gate_run() */
    GAsyncQueue *inbox;            /* posted decisions (pw_gate_post), any thread */
    GMutex metrics_lock;
    pw_gate_metrics metrics;
};

typedef struct {
    char *site, *lane, *vehicle, *json;
} posted;

static void posted_free(gpointer p)
{
    posted *m = p;
    g_free(m->site);
    g_free(m->lane);
    g_free(m->vehicle);
    g_free(m->json);
    g_free(m);
}

static void copy_config(pw_gate *g, const pw_gate_config *cfg)
{
    g->cfg = *cfg;
    g->cfg.store_path = g->store_path = g_strdup(cfg->store_path);
    g->cfg.decision_endpoint = g->decision_endpoint = g_strdup(cfg->decision_endpoint);
    g->cfg.events_endpoint = g->events_endpoint = g_strdup(cfg->events_endpoint);
    g->cfg.replay_endpoint = g->replay_endpoint = g_strdup(cfg->replay_endpoint);
    g->cfg.prefix = g->prefix = g_strdup(cfg->prefix ? cfg->prefix : "plate.");
    g->cfg.server_public_key_file = g->server_key = g_strdup(cfg->server_public_key_file);
    g->cfg.client_secret_key_file = g->client_key = g_strdup(cfg->client_secret_key_file);
}

static int bind_pub(pw_gate *g, pw_err *err)
{
    g->pub = zmq_socket(g->zctx, ZMQ_PUB);
    if (!g->pub)
        return pw_err_set(err, -zmq_errno(), "cannot create the decisions socket: %s",
                          zmq_strerror(zmq_errno()));
    int linger = 0;
    zmq_setsockopt(g->pub, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(g->pub, g->decision_endpoint) != 0) {
        int e = zmq_errno();
        return pw_err_set(err, -e, "cannot bind the decisions endpoint %s: %s",
                          g->decision_endpoint, zmq_strerror(e));
    }
    size_t n = sizeof g->endpoint;
    if (zmq_getsockopt(g->pub, ZMQ_LAST_ENDPOINT, g->endpoint, &n) != 0)
        g_strlcpy(g->endpoint, g->decision_endpoint, sizeof g->endpoint);
    return 0;
}

/* Sends one decision; a PUB drops rather than blocks, so failure is only logged. */
static void publish(pw_gate *g, const char *site, const char *lane, const char *json)
{
    if (!g->pub)
        return;
    char topic[160];
    snprintf(topic, sizeof topic, "gate.%s.%s.decision", site, lane);
    if (zmq_send(g->pub, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(g->pub, json, strlen(json), ZMQ_DONTWAIT) < 0)
        g_warning("gate: cannot publish a decision: %s", zmq_strerror(zmq_errno()));
}

/* Hands a committed decision to the outputs, then records that it was. */
static int deliver(pw_gate *g, const char *event_id, pw_gate_verdict v, const char *site,
                   const char *lane, const char *json, pw_err *err)
{
    publish(g, site, lane, json);
    if (g->cfg.on_decision)
        g->cfg.on_decision(v, json, g->cfg.user);
    return pw_audit_mark_published(pw_declstore_db(g->store), event_id, err);
}

static int republish_one(const char *event_id, int verdict, const char *site,
                         const char *lane, const char *json, void *user)
{
    pw_gate *g = user;
    g->counters.republished++;
    return deliver(g, event_id, (pw_gate_verdict)verdict, site, lane, json, NULL);
}

static int republish_review(const char *vehicle, int verdict, const char *site,
                            const char *lane, const char *json, void *user)
{
    pw_gate *g = user;
    (void)verdict;
    pw_gate_post(g, site, lane, vehicle, json);
    return 0;
}

static void source_event(const pw_event *ev, const void *jpeg, size_t jpeg_len,
                         const pw_err *refused, void *user);

static int resume_one(const char *stream_id, uint64_t seq, void *user)
{
    return pw_gate_source_resume(user, stream_id, seq);
}

static int open_input(pw_gate *g, pw_err *err)
{
    if (!g->events_endpoint)
        return 0;
    int rc = pw_gate_source_new(g->zctx, &g->cfg, source_event, g, &g->source, err);
    if (rc == 0)
        rc = pw_audit_positions(pw_declstore_db(g->store), resume_one, g->source, err);
    return rc;
}

int pw_gate_new(const pw_gate_config *cfg, pw_gate **out, pw_err *err)
{
    *out = NULL;
    int rc = pw_gate_config_check(cfg, err);
    if (rc)
        return rc;
    pw_gate *g = g_new0(pw_gate, 1);
    copy_config(g, cfg);
    g->inbox = g_async_queue_new_full(posted_free);
    g_mutex_init(&g->metrics_lock);
    g->zctx = zmq_ctx_new();
    if ((rc = pw_declstore_new(g->store_path, &g->store, err)) ||
        (rc = pw_audit_init(pw_declstore_db(g->store), err)) ||
        (rc = pw_review_init(pw_declstore_db(g->store), err)) ||
        (rc = pw_checkpointer_start(g->store_path, pw_declstore_db(g->store),
                                    &g->checkpointer, err)) ||
        (g->decision_endpoint && (rc = bind_pub(g, err))) ||
        (rc = open_input(g, err)) ||
        /* A decision committed before a crash but never sent goes out now. */
        (rc = pw_audit_unpublished(pw_declstore_db(g->store), republish_one, g, err)) ||
        (rc = pw_review_unpublished(pw_declstore_db(g->store), republish_review, g, err))) {
        pw_gate_destroy(&g);
        return rc;
    }
    *out = g;
    return 0;
}

void pw_gate_destroy(pw_gate **gp)
{
    if (!gp || !*gp)
        return;
    pw_gate *g = *gp;
    pw_gate_source_destroy(&g->source);
    if (g->pub)
        zmq_close(g->pub);
    if (g->zctx)
        zmq_ctx_term(g->zctx);
    pw_checkpointer_stop(&g->checkpointer, g->store ? pw_declstore_db(g->store) : NULL);
    pw_declstore_destroy(&g->store);
    g_free(g->store_path);
    g_free(g->decision_endpoint);
    g_free(g->events_endpoint);
    g_free(g->replay_endpoint);
    g_free(g->prefix);
    g_free(g->server_key);
    g_free(g->client_key);
    if (g->inbox)
        g_async_queue_unref(g->inbox);
    g_mutex_clear(&g->metrics_lock);
    g_free(g);
    *gp = NULL;
}

const char *pw_gate_endpoint(const pw_gate *g)
{
    return g->pub ? g->endpoint : NULL;
}

void pw_gate_get_counters(const pw_gate *g, pw_gate_counters *out)
{
    *out = g->counters;
}

void pw_gate_get_metrics(pw_gate *g, pw_gate_metrics *out)
{
    g_mutex_lock(&g->metrics_lock);
    *out = g->metrics;
    g_mutex_unlock(&g->metrics_lock);
}

void pw_gate_post(pw_gate *g, const char *site, const char *lane, const char *vehicle,
                  const char *json)
{
    posted *m = g_new0(posted, 1);
    m->site = g_strdup(site);
    m->lane = g_strdup(lane);
    m->vehicle = g_strdup(vehicle);
    m->json = g_strdup(json);
    g_async_queue_push(g->inbox, m);
    /* Wakes a waiting poll; the run loop goes on and drains the inbox. */
    if (g->source)
        pw_gate_source_stop(g->source);
}

/* Publishes what pw_gate_post() queued, in the deciding thread that owns the PUB. */
static void drain_inbox(pw_gate *g)
{
    posted *m;
    while ((m = g_async_queue_try_pop(g->inbox))) {
        pw_gate_verdict v = strstr(m->json, "\"decision\":\"RELEASE\"") ? PW_GATE_RELEASE
                                                                          : PW_GATE_HOLD;
        publish(g, m->site, m->lane, m->json);
        if (g->cfg.on_decision)
            g->cfg.on_decision(v, m->json, g->cfg.user);
        pw_err err = {0};
        if (pw_review_mark_published(pw_declstore_db(g->store), m->vehicle, &err))
            g_warning("gate: %s", err.msg);
        g_mutex_lock(&g->metrics_lock);
        g->metrics.officer[v]++;
        g_mutex_unlock(&g->metrics_lock);
        posted_free(m);
    }
}

void pw_gate_result_clear(pw_gate_result *r)
{
    if (!r)
        return;
    g_free(r->json);
    memset(r, 0, sizeof *r);
}

/* Decides and records inside the caller's transaction. */
static int decide_and_record(pw_gate *g, const pw_gate_read *r, const void *jpeg,
                             size_t jpeg_len, pw_gate_result *out, pw_err *err)
{
    sqlite3 *db = pw_declstore_db(g->store);
    pw_gate_decision d;
    int rc = pw_gate_decide(g->store, &g->cfg.th, r, &d, err);
    if (rc)
        return rc;
    int64_t now = g_get_real_time();
    out->verdict = d.verdict;
    out->json = pw_gate_decision_json(r, &d, &g->cfg.th, now);
    rc = pw_audit_insert(db, r, &d, out->json, now, err);
    if (rc == 0 && jpeg && jpeg_len)
        rc = pw_crop_put(db, r->ev->event_id, jpeg, jpeg_len, err);
    if (rc == 0 && d.verdict == PW_GATE_RELEASE) {
        const pw_gate_candidate *c = &g_array_index(d.candidates, pw_gate_candidate, d.chosen);
        rc = pw_declstore_mark_used(g->store, c->decl.id, r->vehicle, r->ev->first_seen_us, err);
    }
    if (rc == 0)
        rc = pw_audit_set_position(db, r->ev->stream_id, r->ev->seq, err);
    pw_gate_decision_clear(&d);
    return rc;
}

/* Looks up, or makes and commits, the decision for one vehicle event. */
static int decide_once(pw_gate *g, const pw_gate_read *r, const void *jpeg, size_t jpeg_len,
                       pw_gate_result *out, pw_err *err)
{
    sqlite3 *db = pw_declstore_db(g->store);
    /* IMMEDIATE: the check for an earlier decision and the insert are one step. */
    int rc = pw_db_exec(db, "BEGIN IMMEDIATE", "deciding", err);
    if (rc)
        return rc;
    int found = pw_audit_find(db, r->ev->event_id, &out->verdict, &out->json, err);
    if (found == 1)
        out->duplicate = true;
    else if (found == 0)
        rc = decide_and_record(g, r, jpeg, jpeg_len, out, err);
    else
        rc = found;
    if (rc == 0)
        rc = pw_db_exec(db, found == 1 ? "ROLLBACK" : "COMMIT", "deciding", err);
    if (rc) {
        pw_db_exec(db, "ROLLBACK", "deciding", NULL);
        pw_gate_result_clear(out);
    }
    return rc;
}

/* Counts one decided event for /metrics. */
static void observe(pw_gate *g, const pw_gate_result *res, int rc, int64_t t0)
{
    g_mutex_lock(&g->metrics_lock);
    if (rc == 0 && res->duplicate)
        g->metrics.duplicates++;
    else if (rc == 0 && res->verdict) {
        g->metrics.decisions[res->verdict]++;
        g->metrics.last_decision_us = g_get_real_time();
        pw_histogram_observe(&g->metrics.latency,
                             (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
    }
    g_mutex_unlock(&g->metrics_lock);
}

/* Counts one event refused as malformed, for the counters and /metrics. */
static void count_malformed(pw_gate *g)
{
    g->counters.malformed++;
    g_mutex_lock(&g->metrics_lock);
    g->metrics.malformed++;
    g_mutex_unlock(&g->metrics_lock);
}

static int handle_event(pw_gate *g, const pw_event *ev, const void *jpeg, size_t jpeg_len,
                        pw_gate_result *out, pw_err *err)
{
    memset(out, 0, sizeof *out);
    if (ev->kind != PW_EVENT_VEHICLE_NEW && ev->kind != PW_EVENT_VEHICLE_FINAL) {
        g->counters.ignored++;
        return 0;
    }
    g->counters.events++;
    pw_gate_read r;
    pw_gate_read_from_event(ev, &r);
    int rc = decide_once(g, &r, jpeg, jpeg_len, out, err);
    if (rc)
        return rc;
    if (out->duplicate) {
        g->counters.duplicates++;
        return 0;
    }
    g->counters.decisions++;
    g->run_decisions++;
    return deliver(g, ev->event_id, out->verdict, ev->site, ev->lane, out->json, err);
}

int pw_gate_handle_event(pw_gate *g, const pw_event *ev, const void *jpeg, size_t jpeg_len,
                         pw_gate_result *out, pw_err *err)
{
    int64_t t0 = g_get_monotonic_time();
    int rc = handle_event(g, ev, jpeg, jpeg_len, out, err);
    observe(g, out, rc, t0);
    return rc;
}

int pw_gate_handle_json(pw_gate *g, const char *json, size_t len, pw_gate_result *out,
                        pw_err *err)
{
    memset(out, 0, sizeof *out);
    pw_event ev;
    int rc = pw_event_from_json(json, len, &ev, err);
    if (rc) {
        count_malformed(g);
        return rc;
    }
    rc = pw_gate_handle_event(g, &ev, NULL, 0, out, err);
    pw_event_clear(&ev);
    return rc;
}

static void source_event(const pw_event *ev, const void *jpeg, size_t jpeg_len,
                         const pw_err *refused, void *user)
{
    pw_gate *g = user;
    if (!ev) {
        count_malformed(g);
        g_warning("gate: event refused: %s", refused->msg);
        return;
    }
    pw_gate_result res;
    pw_err err = {0};
    if (pw_gate_handle_event(g, ev, jpeg, jpeg_len, &res, &err)) {
        /* The store failed: nothing was recorded, so the event may be replayed. */
        g_warning("gate: %s", err.msg);
        if (!g->run_err.code)
            g->run_err = err;
        pw_gate_stop(g);
    }
    pw_gate_result_clear(&res);
}

static void heartbeat(pw_gate *g)
{
    int64_t now = g_get_real_time();
    if (!g->pub || now < g->next_heartbeat_us)
        return;
    g->next_heartbeat_us = now + (int64_t)g->cfg.heartbeat_ms * 1000;
    char *t = pw_format_time(now);
    char *json = g_strdup_printf("{\"schema_version\":1,\"kind\":\"gate.heartbeat\","
                                 "\"time\":\"%s\",\"decisions\":%" G_GUINT64_FORMAT "}",
                                 t, g->counters.decisions);
    static const char topic[] = "gate.heartbeat";
    zmq_send(g->pub, topic, sizeof topic - 1, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(g->pub, json, strlen(json), ZMQ_DONTWAIT);
    g_free(json);
    g_free(t);
}

int pw_gate_run(pw_gate *g, int timeout_ms, pw_err *err)
{
    int64_t end = timeout_ms < 0 ? INT64_MAX : g_get_monotonic_time() + timeout_ms * 1000LL;
    g_atomic_int_set(&g->stop, 0);
    g->run_decisions = 0;
    pw_err_clear(&g->run_err);
    while (!g_atomic_int_get(&g->stop)) {
        heartbeat(g);
        drain_inbox(g);
        int64_t left = (end - g_get_monotonic_time()) / 1000;
        if (left <= 0)
            break;
        int slice = (int)MIN(left, (int64_t)g->cfg.heartbeat_ms);
        int rc = g->source ? pw_gate_source_poll(g->source, slice, err) : 0;
        if (!g->source)
            g_usleep((gulong)slice * 1000);
        if (rc < 0)
            return rc;
    }
    if (g->run_err.code) {
        if (err)
            *err = g->run_err;
        return g->run_err.code;
    }
    return g->run_decisions;
}

void pw_gate_stop(pw_gate *g)
{
    g_atomic_int_set(&g->stop, 1);
    if (g->source)
        pw_gate_source_stop(g->source);
}
