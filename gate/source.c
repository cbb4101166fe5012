/*
 * source.c - where the controller's events come from: the subscriber
 * library of publish/ (ordering, gap detection, replay), or a plain ZeroMQ
 * SUB socket receiving the same messages (topic frame, JSON frame,
 * optional JPEG frame) without replay, for a forwarder that keeps no
 * journal. docs/gate.md, "Input".
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_internal.h"

#include <errno.h>
#include <string.h>
#include <zmq.h>

#include "subscriber.h"

struct pw_gate_source {
    pw_gate_source_cb cb;
    void *user;
    void *sub;                 /* plain SUB socket, or NULL */
    pw_handshake_watch *watch; /* its security handshakes */
    pw_subscriber *lib;        /* the subscriber library, or NULL */
    gint stop;
};

static int plain_new(void *zctx, const pw_gate_config *cfg, pw_gate_source *s, pw_err *err)
{
    s->sub = zmq_socket(zctx, ZMQ_SUB);
    if (!s->sub)
        return pw_err_set(err, -zmq_errno(), "cannot create the events socket: %s",
                          zmq_strerror(zmq_errno()));
    int linger = 0, rc = 0;
    int64_t maxmsg = PW_MAX_MSG_BYTES;   /* as the publisher's: refuse floods */
    zmq_setsockopt(s->sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s->sub, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (!cfg->allow_plain && (rc = pw_sock_curve_client(s->sub, cfg->server_public_key_file,
                                                         cfg->client_secret_key_file, err)))
        return rc;
    /* A refused key or a wrong server key is otherwise silence, retried for ever. */
    if ((rc = pw_handshake_watch_new(zctx, s->sub, "events endpoint", &s->watch, err)))
        return rc;
    const char *prefix = cfg->prefix ? cfg->prefix : "plate.";
    zmq_setsockopt(s->sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
    if (zmq_connect(s->sub, cfg->events_endpoint) != 0)
        return pw_err_set(err, -zmq_errno(), "cannot connect to the events endpoint %s: %s",
                          cfg->events_endpoint, zmq_strerror(zmq_errno()));
    return 0;
}

/*
 * Parses a JSON frame with the event model's one parser and hands the
 * event on with its optional crop.
 */
static void deliver_json(pw_gate_source *s, const char *json, size_t len, GBytes *crop)
{
    pw_event ev;
    pw_err err = {0};
    gsize n = 0;
    const void *jpeg = crop ? g_bytes_get_data(crop, &n) : NULL;
    if (pw_event_from_json(json, len, &ev, &err) == 0)
        s->cb(&ev, jpeg, n, NULL, s->user);
    else
        s->cb(NULL, NULL, 0, &err, s->user);
    pw_event_clear(&ev);
}

/* Receives one multipart message and hands its JSON frame (frame 1) and
 * optional crop (frame 2) on. */
static int plain_recv_one(pw_gate_source *s)
{
    GBytes *json = NULL, *crop = NULL;
    int frame = 0, more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, s->sub, frame == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            int e = zmq_errno();
            zmq_msg_close(&part);
            g_clear_pointer(&json, g_bytes_unref);
            g_clear_pointer(&crop, g_bytes_unref);
            return e == EAGAIN ? 0 : -e;
        }
        more = zmq_msg_more(&part);
        if (frame == 1)
            json = g_bytes_new(zmq_msg_data(&part), zmq_msg_size(&part));
        else if (frame == 2 && zmq_msg_size(&part) > 0)
            crop = g_bytes_new(zmq_msg_data(&part), zmq_msg_size(&part));
        zmq_msg_close(&part);
        frame++;
    }
    int got = json ? 1 : 0;
    if (json) {
        gsize len = 0;
        const char *text = g_bytes_get_data(json, &len);
        deliver_json(s, text, len, crop);
    }
    g_clear_pointer(&json, g_bytes_unref);
    g_clear_pointer(&crop, g_bytes_unref);
    return got;
}

static int plain_poll(pw_gate_source *s, int timeout_ms, pw_err *err)
{
    zmq_pollitem_t item = {s->sub, 0, ZMQ_POLLIN, 0};
    int delivered = 0;
    int64_t end = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
    while (!g_atomic_int_get(&s->stop)) {
        int64_t left = (end - g_get_monotonic_time()) / 1000;
        /* Slices of at most 100 ms so that pw_gate_stop() is seen promptly. */
        int n = zmq_poll(&item, 1, (long)CLAMP(left, 0, 100));
        if (n < 0 && zmq_errno() != EINTR)
            return pw_err_set(err, -zmq_errno(), "polling the events socket: %s",
                              zmq_strerror(zmq_errno()));
        int got;
        while (n > 0 && (got = plain_recv_one(s)) > 0)
            delivered += got;
        if (pw_handshake_watch_poll(s->watch, err) > 0)
            return PW_EHANDSHAKE;
        if (left <= 0)
            break;
    }
    return delivered;
}

static void lib_event(const pw_event *ev, const char *json, const uint8_t *jpeg,
                      size_t jpeg_len, void *user)
{
    pw_gate_source *s = user;
    /* The library parsed and checked the event already: it is used as it is. */
    (void)json;
    s->cb(ev, jpeg, jpeg_len, NULL, s->user);
}

static int lib_new(const pw_gate_config *cfg, pw_gate_source *s, pw_err *err)
{
    pw_subscriber_config sc = {
        .pub_endpoint = cfg->events_endpoint,
        .replay_endpoint = cfg->replay_endpoint,
        .prefix = cfg->prefix,
        .backfill_new_streams = cfg->backfill,
        .kinds = PW_KIND_BIT(PW_EVENT_VEHICLE_NEW) | PW_KIND_BIT(PW_EVENT_VEHICLE_FINAL),
        .server_public_key_file = cfg->server_public_key_file,
        .client_secret_key_file = cfg->client_secret_key_file,
        .allow_plain = cfg->allow_plain,
    };
    return pw_subscriber_new(&sc, lib_event, s, &s->lib, err);
}

int pw_gate_source_new(void *zctx, const pw_gate_config *cfg, pw_gate_source_cb cb,
                       void *user, pw_gate_source **out, pw_err *err)
{
    pw_gate_source *s = g_new0(pw_gate_source, 1);
    s->cb = cb;
    s->user = user;
    int rc = cfg->plain_input ? plain_new(zctx, cfg, s, err) : lib_new(cfg, s, err);
    if (rc) {
        pw_gate_source_destroy(&s);
        return rc;
    }
    *out = s;
    return 0;
}

int pw_gate_source_resume(pw_gate_source *s, const char *stream_id, uint64_t seq)
{
    if (s->lib)
        return pw_subscriber_resume(s->lib, stream_id, seq);
    /* The plain socket cannot replay; idempotency by event id covers repeats. */
    (void)stream_id;
    (void)seq;
    return 0;
}

int pw_gate_source_poll(pw_gate_source *s, int timeout_ms, pw_err *err)
{
    g_atomic_int_set(&s->stop, 0);
    if (s->lib) {
        int rc = pw_subscriber_run(s->lib, timeout_ms);
        return rc < 0 ? pw_err_set(err, rc, "%s", pw_subscriber_error(s->lib)) : rc;
    }
    return plain_poll(s, timeout_ms, err);
}

void pw_gate_source_stop(pw_gate_source *s)
{
    g_atomic_int_set(&s->stop, 1);
    if (s->lib)
        pw_subscriber_stop(s->lib);
}

void pw_gate_source_destroy(pw_gate_source **sp)
{
    if (!sp || !*sp)
        return;
    pw_gate_source *s = *sp;
    pw_subscriber_destroy(&s->lib);
    pw_handshake_watch_destroy(&s->watch);
    if (s->sub)
        zmq_close(s->sub);
    g_free(s);
    *sp = NULL;
}
