/*
 * publisher.c - one lane's publisher: sequence numbers, journal-then-send
 * on the PUB socket, and the service thread that answers replay requests on
 * the ROUTER socket and sends a heartbeat every heartbeat_ms.
 *
 * Locking: the PUB socket, the writing journal connection, last_seq and the
 * counters are guarded by one mutex, because pipeline threads publish while
 * the service thread sends heartbeats. The ROUTER socket and the reading
 * journal connection belong to the service thread alone.
 */
#define _POSIX_C_SOURCE 200809L
#include "publish_internal.h"
#include "subscriber.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

/* Prune the journal after this many events or this long, whichever is first. */
#define PRUNE_EVERY_EVENTS 1000
#define PRUNE_EVERY_US (60 * G_USEC_PER_SEC)

struct pw_publisher {
    char site[PW_ID_MAX + 1];
    char lane[PW_ID_MAX + 1];
    char instance_id[PW_UUID_LEN + 1];
    char pub_ep[256];
    char replay_ep[256];
    int64_t max_bytes;
    int64_t max_age_s;
    int heartbeat_ms;

    void *ctx;
    void *pub;
    void *router;
    pw_zap *zap;
    GThread *service;
    gint stopping;            /* atomic */

    GMutex lock;
    pw_journal *writer;       /* under lock */
    uint64_t last_seq;        /* under lock */
    pw_publisher_counters counters; /* under lock */
    int since_prune;          /* under lock */
    int64_t bytes_since_prune; /* under lock */
    int64_t last_prune_us;    /* under lock */

    pw_journal *reader;       /* service thread only */
    /* Handshakes on PUB and ROUTER (service thread only once it runs). */
    pw_handshake_watch *watch[2];
    gint handshake_failed;    /* atomic */
};

/* ---- Set-up ---- */

static int config_check(const pw_publisher_config *cfg, pw_err *err)
{
    if (!pw_id_valid(cfg->site))
        return pw_err_set(err, PW_ECONFIG, "publisher site id \"%s\" must be 1-%d letters, "
                          "digits, '_' or '-'", cfg->site ? cfg->site : "", PW_ID_MAX);
    if (!pw_id_valid(cfg->lane))
        return pw_err_set(err, PW_ECONFIG, "publisher lane id \"%s\" must be 1-%d letters, "
                          "digits, '_' or '-'", cfg->lane ? cfg->lane : "", PW_ID_MAX);
    if (cfg->heartbeat_ms < 0 || cfg->sndhwm < 0 || cfg->journal_max_bytes < 0 ||
        cfg->journal_max_age_s < 0)
        return pw_err_set(err, PW_ECONFIG, "publisher heartbeat, HWM and journal bounds must "
                          "not be negative");
    return 0;
}

static void *make_socket(void *ctx, int type, int hwm, int linger)
{
    void *s = zmq_socket(ctx, type);
    int64_t maxmsg = PW_MAX_MSG_BYTES;
    if (s) {
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    }
    return s;
}

/* Applies CURVE (server key pair + allow-list via ZAP) or the explicit plain mode. */
static int setup_security(pw_publisher *p, const pw_publisher_config *cfg, pw_err *err)
{
    if (!cfg->secret_key_file && !cfg->allow_list) {
        if (!cfg->allow_plain)
            return pw_err_set(err, PW_ECONFIG, "publisher %s/%s: no CURVE keys configured "
                              "(secret_key_file, allow_list) and plain TCP not explicitly "
                              "allowed", p->site, p->lane);
        g_warning("publisher %s/%s: CURVE is OFF (plain TCP explicitly allowed): events are "
                  "neither encrypted nor authenticated", p->site, p->lane);
        return 0;
    }
    if (!cfg->secret_key_file || !cfg->allow_list)
        return pw_err_set(err, PW_ECONFIG, "publisher %s/%s: CURVE needs both a secret key "
                          "file and a client allow-list", p->site, p->lane);
    pw_keypair kp;
    GHashTable *allow = NULL;
    int rc = pw_keys_load_secret(cfg->secret_key_file, &kp, err);
    if (rc || (rc = pw_keys_load_allow(cfg->allow_list, &allow, err)) ||
        (rc = pw_zap_start(p->ctx, allow, &p->zap, err)) ||
        (rc = pw_sock_curve_server(p->pub, &kp, err)))
        goto out;
    rc = pw_sock_curve_server(p->router, &kp, err);
out:
    memset(&kp, 0, sizeof kp);
    return rc;
}

static int open_journal(pw_publisher *p, const pw_publisher_config *cfg, pw_err *err)
{
    uint64_t first = 0;
    int rc = pw_journal_open(cfg->journal_path, false, !cfg->journal_sync_normal, &p->writer, err);
    if (rc || (rc = pw_journal_bounds(p->writer, &first, &p->last_seq, err)) ||
        (rc = pw_journal_prune(p->writer, p->max_bytes, p->max_age_s, err)))
        return rc;
    p->counters.last_seq = p->last_seq;
    p->last_prune_us = pw_wall_us();
    return pw_journal_open(cfg->journal_path, true, !cfg->journal_sync_normal, &p->reader, err);
}

static gpointer service_main(gpointer data);

int pw_publisher_new(const pw_publisher_config *cfg, pw_publisher **out, pw_err *err)
{
    if (!cfg || !out)
        return pw_err_set(err, -EINVAL, "pw_publisher_new: NULL argument");
    *out = NULL;
    int rc = config_check(cfg, err);
    if (rc)
        return rc;
    pw_publisher *p = g_new0(pw_publisher, 1);
    g_mutex_init(&p->lock);
    g_strlcpy(p->site, cfg->site, sizeof p->site);
    g_strlcpy(p->lane, cfg->lane, sizeof p->lane);
    char *uuid = g_uuid_string_random();
    g_strlcpy(p->instance_id, uuid, sizeof p->instance_id);
    g_free(uuid);
    p->max_bytes = cfg->journal_max_bytes ? cfg->journal_max_bytes : PW_JOURNAL_MAX_BYTES_DEFAULT;
    p->max_age_s = cfg->journal_max_age_s ? cfg->journal_max_age_s : PW_JOURNAL_MAX_AGE_S_DEFAULT;
    p->heartbeat_ms = cfg->heartbeat_ms ? cfg->heartbeat_ms : 1000;
    p->ctx = zmq_ctx_new();
    p->pub = make_socket(p->ctx, ZMQ_PUB, cfg->sndhwm ? cfg->sndhwm : 10000, 200);
    p->router = make_socket(p->ctx, ZMQ_ROUTER, PW_REPLAY_QUEUE_MSGS, 0);
    int mandatory = 1;
    if (p->router)
        zmq_setsockopt(p->router, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory);
    if (!p->pub || !p->router)
        rc = pw_err_set(err, -zmq_errno(), "cannot create ZeroMQ sockets: %s",
                        zmq_strerror(zmq_errno()));
    if (rc || (rc = open_journal(p, cfg, err)) || (rc = setup_security(p, cfg, err)) ||
        (rc = pw_handshake_watch_new(p->ctx, p->pub, "PUB", &p->watch[0], err)) ||
        (rc = pw_handshake_watch_new(p->ctx, p->router, "replay", &p->watch[1], err)) ||
        (rc = pw_sock_bind(p->pub, cfg->pub_endpoint, "PUB", p->pub_ep, sizeof p->pub_ep, err)) ||
        (rc = pw_sock_bind(p->router, cfg->replay_endpoint, "replay", p->replay_ep,
                           sizeof p->replay_ep, err))) {
        pw_publisher_destroy(&p);
        return rc;
    }
    p->service = g_thread_new("pw-pub-service", service_main, p);
    g_message("publisher %s/%s: stream %s continues at seq %" G_GUINT64_FORMAT
              ", PUB %s, replay %s", p->site, p->lane, pw_journal_stream_id(p->writer),
              p->last_seq + 1, p->pub_ep, p->replay_ep);
    *out = p;
    return 0;
}

void pw_publisher_destroy(pw_publisher **pp)
{
    if (!pp || !*pp)
        return;
    pw_publisher *p = *pp;
    g_atomic_int_set(&p->stopping, 1);
    if (p->service) {
        g_thread_join(p->service);
    } else if (p->router) {
        pw_handshake_watch_destroy(&p->watch[1]);
        zmq_close(p->router);
    }
    pw_handshake_watch_destroy(&p->watch[0]);
    if (p->pub)
        zmq_close(p->pub);
    /* Terminating the context wakes the ZAP thread with ETERM. */
    if (p->ctx)
        zmq_ctx_term(p->ctx);
    pw_zap_stop(&p->zap);
    pw_journal_close(&p->reader);
    pw_journal_close(&p->writer);
    g_mutex_clear(&p->lock);
    g_free(p);
    *pp = NULL;
}

/* ---- Publishing ---- */

static int event_check(const pw_event *ev, size_t jpeg_len, pw_err *err)
{
    if (ev->kind != PW_EVENT_VEHICLE_NEW && ev->kind != PW_EVENT_VEHICLE_UPDATE &&
        ev->kind != PW_EVENT_VEHICLE_FINAL)
        return pw_err_set(err, -EINVAL, "pw_publisher_publish: kind %d is not a vehicle event",
                          (int)ev->kind);
    if (!pw_id_valid(ev->camera))
        return pw_err_set(err, -EINVAL, "pw_publisher_publish: camera id \"%.63s\" must be "
                          "letters, digits, '_' or '-'", ev->camera);
    if (!g_utf8_validate(ev->plate, -1, NULL) || !g_utf8_validate(ev->country, -1, NULL))
        return pw_err_set(err, -EINVAL, "pw_publisher_publish: plate or country is not UTF-8");
    if (!(ev->confidence >= 0.0 && ev->confidence <= 1.0))
        return pw_err_set(err, -EINVAL, "pw_publisher_publish: confidence %g is outside 0..1",
                          ev->confidence);
    if (jpeg_len > PW_JPEG_MAX)
        return pw_err_set(err, PW_ETOOBIG, "pw_publisher_publish: JPEG crop of %zu bytes "
                          "exceeds %u", jpeg_len, PW_JPEG_MAX);
    return 0;
}

/* Fills the (publisher) fields for sequence number seq. */
static void stamp(pw_publisher *p, pw_event *ev, uint64_t seq, size_t jpeg_len)
{
    char *uuid = g_uuid_string_random();
    g_strlcpy(ev->event_id, uuid, sizeof ev->event_id);
    g_free(uuid);
    g_strlcpy(ev->stream_id, pw_journal_stream_id(p->writer), sizeof ev->stream_id);
    g_strlcpy(ev->instance_id, p->instance_id, sizeof ev->instance_id);
    g_strlcpy(ev->site, p->site, sizeof ev->site);
    g_strlcpy(ev->lane, p->lane, sizeof ev->lane);
    ev->schema_version = PW_EVENT_SCHEMA_VERSION;
    ev->seq = seq;
    ev->published_us = pw_wall_us();
    int64_t trigger = ev->trigger_capture_us ? ev->trigger_capture_us : ev->last_seen_us;
    double lat = trigger > 0 ? (double)(ev->published_us - trigger) / 1000.0 : 0.0;
    /* A trigger time from a wrong clock must not make an event every reader rejects. */
    ev->latency_ms = lat > 0.0 && lat < PW_EVENT_MAX_LATENCY_MS ? lat : 0.0;
    ev->jpeg_bytes = (uint32_t)jpeg_len;
}

/* Sends [topic][json][jpeg]; PUB never blocks, so a failure only counts. */
static void send_event(pw_publisher *p, const char *topic, const char *json,
                       const uint8_t *jpeg, size_t jpeg_len)
{
    const void *data[] = {topic, json, jpeg};
    size_t len[] = {strlen(topic), strlen(json), jpeg_len};
    int n = (jpeg && jpeg_len) ? 3 : 2;
    if (pw_send_frames(p->pub, data, len, n, ZMQ_DONTWAIT) != 0)
        p->counters.send_failures++;
}

/*
 * Pruning runs every so many events or seconds, and after a 32nd of the
 * journal's bound has been written, so that large events (crops) cannot
 * overshoot the bound by more than that.
 */
static void maybe_prune(pw_publisher *p, size_t bytes)
{
    int64_t now = pw_wall_us();
    p->bytes_since_prune += (int64_t)bytes;
    if (++p->since_prune < PRUNE_EVERY_EVENTS && now - p->last_prune_us < PRUNE_EVERY_US &&
        p->bytes_since_prune < p->max_bytes / 32)
        return;
    pw_err err;
    pw_err_clear(&err);
    if (pw_journal_prune(p->writer, p->max_bytes, p->max_age_s, &err) != 0)
        g_warning("publisher %s/%s: %s", p->site, p->lane, err.msg);
    p->since_prune = 0;
    p->bytes_since_prune = 0;
    p->last_prune_us = now;
}

int pw_publisher_publish(pw_publisher *p, pw_event *ev, const uint8_t *jpeg,
                         size_t jpeg_len, pw_err *err)
{
    if (!p || !ev)
        return pw_err_set(err, -EINVAL, "pw_publisher_publish: NULL argument");
    if (!jpeg)
        jpeg_len = 0;
    int rc = event_check(ev, jpeg_len, err);
    if (rc)
        return rc;
    char topic[256];
    char *json = NULL;
    g_mutex_lock(&p->lock);
    uint64_t seq = p->last_seq + 1;
    stamp(p, ev, seq, jpeg_len);
    if (!(rc = pw_event_to_json(ev, &json, err)) && !(rc = pw_event_topic(ev, topic, sizeof topic)))
        rc = pw_journal_append(p->writer, seq, ev->published_us, topic, json, jpeg, jpeg_len, err);
    if (rc == 0) {
        /* Only a journalled event is sent: replay can then always recover it. */
        p->last_seq = seq;
        p->counters.last_seq = seq;
        p->counters.published++;
        send_event(p, topic, json, jpeg, jpeg_len);
        maybe_prune(p, strlen(json) + jpeg_len);
    }
    g_mutex_unlock(&p->lock);
    g_free(json);
    return rc;
}

/* A heartbeat/stats event with the publisher's header fields. */
static void header_event(pw_publisher *p, pw_event *ev, pw_event_kind kind)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    g_strlcpy(ev->stream_id, pw_journal_stream_id(p->writer), sizeof ev->stream_id);
    g_strlcpy(ev->instance_id, p->instance_id, sizeof ev->instance_id);
    g_strlcpy(ev->site, p->site, sizeof ev->site);
    g_strlcpy(ev->lane, p->lane, sizeof ev->lane);
    ev->published_us = pw_wall_us();
}

int pw_publisher_publish_stats(pw_publisher *p, const char *camera, const pw_lane_stats *st,
                               pw_err *err)
{
    if (!p || !st)
        return pw_err_set(err, -EINVAL, "pw_publisher_publish_stats: NULL argument");
    if (!pw_id_valid(camera))
        return pw_err_set(err, -EINVAL, "pw_publisher_publish_stats: camera id \"%s\" is not "
                          "an id", camera ? camera : "");
    pw_event ev;
    pw_publisher_counters pc;
    pw_publisher_get_counters(p, &pc);
    header_event(p, &ev, PW_EVENT_STATS);
    g_strlcpy(ev.camera, camera, sizeof ev.camera);
    char topic[256];
    pw_event_topic(&ev, topic, sizeof topic);
    char *json = pw_event_stats_json(&ev, st, &pc);
    g_mutex_lock(&p->lock);
    send_event(p, topic, json, NULL, 0);
    g_mutex_unlock(&p->lock);
    g_free(json);
    return 0;
}

const char *pw_publisher_endpoint(const pw_publisher *p, const char *which)
{
    if (!p || !which)
        return NULL;
    if (strcmp(which, "pub") == 0)
        return p->pub_ep;
    if (strcmp(which, "replay") == 0)
        return p->replay_ep;
    return NULL;
}

const char *pw_publisher_stream_id(const pw_publisher *p)
{
    return p ? pw_journal_stream_id(p->writer) : NULL;
}

void pw_publisher_get_counters(pw_publisher *p, pw_publisher_counters *out)
{
    g_mutex_lock(&p->lock);
    *out = p->counters;
    g_mutex_unlock(&p->lock);
    out->auth_denied = pw_zap_denied(p->zap);
    out->handshake_failed = (uint64_t)(guint)g_atomic_int_get(&p->handshake_failed);
}

/*
 * Logs the clients whose security handshake failed: a wrong server key on
 * the client's side shows only here (ZAP is never asked). A client retries
 * every few hundred ms, so after the first 10 the log is sampled.
 */
static void watch_handshakes(pw_publisher *p)
{
    for (int i = 0; i < 2; i++) {
        pw_err why;
        pw_err_clear(&why);
        int n = pw_handshake_watch_poll(p->watch[i], &why);
        if (i == 0) {
            /* The PUB's watch also counts its connections: a socket has one monitor. */
            int connections = pw_handshake_watch_connections(p->watch[0]);
            g_mutex_lock(&p->lock);
            p->counters.subscribers = (uint64_t)connections;
            g_mutex_unlock(&p->lock);
        }
        if (n <= 0)
            continue;
        int before = g_atomic_int_add(&p->handshake_failed, n);
        int total = before + n;
        if (before < 10 || total / 100 != before / 100)
            g_warning("publisher %s/%s: %s (%d failed handshakes so far)", p->site, p->lane,
                      why.msg, total);
    }
}

/* ---- Service thread: heartbeat and replay ---- */

static void send_heartbeat(pw_publisher *p)
{
    uint64_t first = 0, last = 0;
    pw_err err;
    pw_err_clear(&err);
    if (pw_journal_bounds(p->reader, &first, &last, &err) != 0)
        g_warning("publisher %s/%s: %s", p->site, p->lane, err.msg);
    pw_event ev;
    header_event(p, &ev, PW_EVENT_HEARTBEAT);
    g_mutex_lock(&p->lock);
    ev.last_seq = p->last_seq;
    ev.first_seq = first;
    char topic[256];
    pw_event_topic(&ev, topic, sizeof topic);
    char *json = pw_event_heartbeat_json(&ev);
    send_event(p, topic, json, NULL, 0);
    g_mutex_unlock(&p->lock);
    g_free(json);
}

/*
 * How long one request may wait, in all, for its client's reply queue to
 * drain: long enough for a client that reads, short enough that one that
 * does not cannot hold up heartbeats and other clients.
 */
#define REPLAY_STALL_US (100 * 1000)

/* A parsed replay request and the message it came in (for its envelope). */
typedef struct {
    GPtrArray *frames;
    pw_replay_request r;
    int64_t deadline;     /* monotonic: give up on a full queue after this */
} request;

/*
 * Sends the envelope of req (through its empty delimiter), then n reply
 * frames. The ROUTER is ZMQ_ROUTER_MANDATORY with a high-water mark of
 * PW_REPLAY_QUEUE_MSGS: a client that does not read gets -EAGAIN on the
 * routing-id frame (nothing of the message is queued) instead of growing our
 * memory; the send is retried until the request's deadline.
 */
static int reply(pw_publisher *p, const request *req, const void *const *data,
                 const size_t *len, int n)
{
    for (guint i = 0; i < req->r.body; i++) {
        gsize sz = 0;
        const void *d = g_bytes_get_data(g_ptr_array_index(req->frames, i), &sz);
        while (zmq_send(p->router, d, sz, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            if (i > 0 || zmq_errno() != EAGAIN || g_get_monotonic_time() >= req->deadline)
                return -zmq_errno();
            g_usleep(1000);
        }
    }
    return pw_send_frames(p->router, data, len, n, ZMQ_DONTWAIT);
}

static void reply_text(pw_publisher *p, const request *req, const char *kind, const char *text)
{
    const void *data[] = {kind, req->r.reqid, text};
    size_t len[] = {strlen(kind), req->r.reqid_len, strlen(text)};
    reply(p, req, data, len, 3);
}

static void count_bad_request(pw_publisher *p)
{
    g_mutex_lock(&p->lock);
    p->counters.bad_requests++;
    g_mutex_unlock(&p->lock);
}

typedef struct {
    pw_publisher *p;
    const request *req;
    uint64_t sent;
    uint64_t bytes;
    bool stalled;     /* the client's queue is full: the rest is not sent */
} replay_ctx;

static int replay_row(uint64_t seq, const char *topic, const char *json, const void *jpeg,
                      size_t jpeg_len, void *user)
{
    (void)seq;
    replay_ctx *rc = user;
    /* Stop at the byte bound; the END tells the client how far it got. */
    if (rc->sent > 0 && rc->bytes + strlen(json) + jpeg_len > PW_REPLAY_MAX_BYTES)
        return 1;
    const void *data[] = {PW_REPLAY_REP_EVENT, rc->req->r.reqid, topic, json, jpeg};
    size_t len[] = {strlen(PW_REPLAY_REP_EVENT), rc->req->r.reqid_len, strlen(topic),
                    strlen(json), jpeg_len};
    if (reply(rc->p, rc->req, data, len, jpeg && jpeg_len ? 5 : 4) != 0) {
        rc->stalled = true;
        return 1;
    }
    rc->sent++;
    rc->bytes += strlen(json) + jpeg_len;
    return 0;
}

static char *bounds_json(pw_publisher *p, uint64_t first, uint64_t last, const char *extra)
{
    return g_strdup_printf("{\"stream_id\":\"%s\",\"site\":\"%s\",\"lane\":\"%s\","
                           "\"first_seq\":%" G_GUINT64_FORMAT ",\"last_seq\":%" G_GUINT64_FORMAT
                           "%s}", pw_journal_stream_id(p->reader), p->site, p->lane, first,
                           last, extra);
}

static void handle_replay(pw_publisher *p, const request *req)
{
    uint64_t first = 0, last = 0;
    pw_err err;
    pw_err_clear(&err);
    if (strcmp(req->r.stream_id, pw_journal_stream_id(p->reader)) != 0) {
        reply_text(p, req, PW_REPLAY_REP_ERROR, "unknown stream");
        return;
    }
    replay_ctx rc = {p, req, 0, 0, false};
    int n = req->r.max > PW_REPLAY_MAX_BATCH ? PW_REPLAY_MAX_BATCH : (int)req->r.max;
    int jrc = pw_journal_read(p->reader, req->r.since, n, replay_row, &rc, &err);
    /* Counted before the END, so that a client that has it sees the counts. */
    g_mutex_lock(&p->lock);
    p->counters.replay_requests++;
    p->counters.replayed_events += rc.sent;
    g_mutex_unlock(&p->lock);
    if (jrc < 0 || pw_journal_bounds(p->reader, &first, &last, &err) != 0) {
        g_warning("publisher %s/%s: replay: %s", p->site, p->lane, err.msg);
        reply_text(p, req, PW_REPLAY_REP_ERROR, "journal read failed");
    } else if (!rc.stalled) {
        char extra[96];
        snprintf(extra, sizeof extra, ",\"sent\":%" G_GUINT64_FORMAT, rc.sent);
        char *json = bounds_json(p, first, last, extra);
        reply_text(p, req, PW_REPLAY_REP_END, json);
        g_free(json);
    }
}

static void handle_info(pw_publisher *p, const request *req)
{
    uint64_t first = 0, last = 0;
    pw_journal_bounds(p->reader, &first, &last, NULL);
    char *one = bounds_json(p, first, last, "");
    char *json = g_strdup_printf("{\"streams\":[%s]}", one);
    reply_text(p, req, PW_REPLAY_REP_INFO, json);
    g_free(json);
    g_free(one);
}

static void handle_request(pw_publisher *p, GPtrArray *frames)
{
    request req = {frames, {0}, g_get_monotonic_time() + REPLAY_STALL_US};
    pw_err err;
    pw_err_clear(&err);
    if (pw_replay_request_parse(frames, &req.r, &err) != 0) {
        /* Counted before the answer, so that a client that has it sees the count. */
        count_bad_request(p);
        /* Without an envelope there is no one to answer. */
        if (req.r.body)
            reply_text(p, &req, PW_REPLAY_REP_ERROR, err.msg);
    } else if (req.r.cmd == PW_REPLAY_REQ_REPLAY) {
        handle_replay(p, &req);
    } else {
        handle_info(p, &req);
    }
}

static gpointer service_main(gpointer data)
{
    pw_publisher *p = data;
    int64_t next_hb = g_get_monotonic_time();
    while (!g_atomic_int_get(&p->stopping)) {
        int64_t now = g_get_monotonic_time();
        watch_handshakes(p);
        if (now >= next_hb) {
            send_heartbeat(p);
            next_hb = now + (int64_t)p->heartbeat_ms * 1000;
        }
        /* Short polls so that destroy is noticed promptly. */
        long wait_ms = (long)((next_hb - now) / 1000);
        zmq_pollitem_t items[1] = {{p->router, 0, ZMQ_POLLIN, 0}};
        int n = zmq_poll(items, 1, wait_ms < 100 ? wait_ms : 100);
        if (n < 0 && zmq_errno() == ETERM)
            break;
        while (n > 0 && (items[0].revents & ZMQ_POLLIN)) {
            GPtrArray *frames = NULL;
            int rc = pw_recv_frames(p->router, &frames, ZMQ_DONTWAIT);
            if (rc == PW_EMSG) {
                count_bad_request(p); /* too many frames: read and dropped */
                continue;
            }
            if (rc != 0)
                break;
            handle_request(p, frames);
            g_ptr_array_unref(frames);
        }
    }
    pw_handshake_watch_destroy(&p->watch[1]);
    zmq_close(p->router);
    p->router = NULL;
    return NULL;
}
