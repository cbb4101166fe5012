/*
 * subscriber.c - the subscriber library: a SUB socket for live events and a
 * DEALER for replay. Each stream (one lane publisher's journal) has a next
 * expected sequence number. An event at that number is delivered; an older
 * one is a duplicate and dropped; a newer one opens a gap: it is held back
 * and the missing range is asked for through the replay endpoint. Since the
 * publisher journals before it publishes, every sequence number it has sent
 * or announced in a heartbeat can be replayed until the journal prunes it.
 */
#define _POSIX_C_SOURCE 200809L
#include "subscriber.h"
#include "publish_internal.h"
#include "pw_json.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

/* Live events held while a gap is being filled; beyond this they are dropped
 * and fetched by replay later, so memory stays bounded under a flood. */
#define MAX_PENDING 20000
/* Bytes of held events (JSON and crops) per stream, for the same reason. */
#define MAX_PENDING_BYTES (64u * 1024u * 1024u)
/* Streams tracked; protects memory against a peer inventing stream ids. */
#define MAX_STREAMS 4096

typedef struct {
    pw_event ev;
    char *json;
    GBytes *jpeg;
} held_event;

typedef struct {
    char id[PW_UUID_LEN + 1];
    char instance[PW_UUID_LEN + 1];
    bool positioned;       /* next is meaningful */
    uint64_t next;         /* next sequence number to deliver */
    uint64_t known_last;   /* highest sequence number known to exist */
    GTree *pending;        /* seq -> held_event, live events after a gap */
    size_t pending_bytes;
    char reqid[32];        /* outstanding replay request, "" when none */
    int64_t req_deadline;  /* monotonic us */
    uint64_t req_next;     /* next when the request was sent, to see whether it helped */
} stream;

struct pw_subscriber {
    pw_subscriber_cb cb;
    void *user;
    unsigned kinds;
    bool backfill;
    int replay_timeout_ms;
    int replay_batch;
    bool have_replay;
    void *ctx;
    void *sub;
    void *dealer;
    pw_handshake_watch *watch[2];  /* handshakes of sub and dealer */
    pw_err error;          /* why pw_subscriber_run last failed */
    GHashTable *streams;   /* id -> stream */
    pw_subscriber_counters c;
    uint64_t next_reqid;
    gint stop;             /* atomic */
};

/* ---- Streams ---- */

static gint seq_cmp(gconstpointer a, gconstpointer b, gpointer unused)
{
    (void)unused;
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void held_free(gpointer p)
{
    held_event *h = p;
    g_free(h->json);
    if (h->jpeg)
        g_bytes_unref(h->jpeg);
    pw_event_clear(&h->ev);
    g_free(h);
}

static void stream_free(gpointer p)
{
    stream *s = p;
    g_tree_destroy(s->pending);
    g_free(s);
}

static stream *stream_get(pw_subscriber *sub, const char *id)
{
    stream *s = g_hash_table_lookup(sub->streams, id);
    if (s || g_hash_table_size(sub->streams) >= MAX_STREAMS)
        return s;
    s = g_new0(stream, 1);
    g_strlcpy(s->id, id, sizeof s->id);
    s->pending = g_tree_new_full(seq_cmp, NULL, g_free, held_free);
    g_hash_table_insert(sub->streams, s->id, s);
    sub->c.streams++;
    return s;
}

/* ---- Replay requests ---- */

static void request_replay(pw_subscriber *sub, stream *s)
{
    if (!sub->have_replay)
        return;
    snprintf(s->reqid, sizeof s->reqid, "%" G_GUINT64_FORMAT, ++sub->next_reqid);
    char since[32], max[32];
    snprintf(since, sizeof since, "%" G_GUINT64_FORMAT, s->next - 1);
    snprintf(max, sizeof max, "%d", sub->replay_batch);
    const void *data[] = {"", PW_REPLAY_CMD_REPLAY, s->reqid, s->id, since, max};
    size_t len[] = {0, strlen(PW_REPLAY_CMD_REPLAY), strlen(s->reqid), strlen(s->id),
                    strlen(since), strlen(max)};
    /* A refused send is retried when the deadline passes. */
    pw_send_frames(sub->dealer, data, len, 6, ZMQ_DONTWAIT);
    s->req_next = s->next;
    s->req_deadline = g_get_monotonic_time() + (int64_t)sub->replay_timeout_ms * 1000;
    sub->c.replay_requests++;
}

/* Without a replay endpoint a gap cannot be filled: it is counted as lost. */
static void skip_to(pw_subscriber *sub, stream *s, uint64_t seq)
{
    g_warning("stream %s: events %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT " missed and no "
              "replay endpoint configured", s->id, s->next, seq - 1);
    sub->c.gaps++;
    sub->c.lost += seq - s->next;
    s->next = seq;
}

static void open_gap(pw_subscriber *sub, stream *s)
{
    if (s->reqid[0])
        return;
    sub->c.gaps++;
    g_debug("stream %s: gap after seq %" G_GUINT64_FORMAT " (last known %" G_GUINT64_FORMAT
            "), asking for replay", s->id, s->next - 1, s->known_last);
    request_replay(sub, s);
}

/* ---- Delivery ---- */

static void deliver(pw_subscriber *sub, const pw_event *ev, const char *json,
                    GBytes *jpeg)
{
    if (sub->kinds && !(sub->kinds & PW_KIND_BIT(ev->kind)))
        return;
    gsize n = 0;
    const uint8_t *data = jpeg ? g_bytes_get_data(jpeg, &n) : NULL;
    sub->c.delivered++;
    sub->cb(ev, json, n ? data : NULL, n, sub->user);
}

/* Delivers held events that have become next in line, dropping stale ones. */
static void drain_pending(pw_subscriber *sub, stream *s)
{
    for (;;) {
        uint64_t *key = NULL;
        held_event *h = NULL;
        GTreeNode *first = g_tree_node_first(s->pending);
        if (!first)
            return;
        key = g_tree_node_key(first);
        h = g_tree_node_value(first);
        if (*key > s->next)
            return;
        if (*key == s->next) {
            deliver(sub, &h->ev, h->json, h->jpeg);
            sub->c.live++;
            s->next++;
        } else {
            sub->c.duplicates++;
        }
        size_t bytes = strlen(h->json) + (h->jpeg ? g_bytes_get_size(h->jpeg) : 0);
        s->pending_bytes -= bytes < s->pending_bytes ? bytes : s->pending_bytes;
        uint64_t k = *key;
        g_tree_remove(s->pending, &k);
    }
}

static void hold(pw_subscriber *sub, stream *s, const pw_event *ev, const char *json,
                 GBytes *jpeg)
{
    size_t bytes = strlen(json) + (jpeg ? g_bytes_get_size(jpeg) : 0);
    if ((int)g_tree_nnodes(s->pending) >= MAX_PENDING ||
        s->pending_bytes + bytes > MAX_PENDING_BYTES || g_tree_lookup(s->pending, &ev->seq))
        return;
    s->pending_bytes += bytes;
    held_event *h = g_new0(held_event, 1);
    h->ev = *ev;
    h->ev.counters_json = NULL;
    h->json = g_strdup(json);
    h->jpeg = jpeg ? g_bytes_ref(jpeg) : NULL;
    uint64_t *key = g_new(uint64_t, 1);
    *key = ev->seq;
    g_tree_insert(s->pending, key, h);
    (void)sub;
}

/* Positions a stream seen for the first time at seq (or its heartbeat's last + 1). */
static void position(pw_subscriber *sub, stream *s, uint64_t first_seen)
{
    s->positioned = true;
    s->next = sub->backfill ? 1 : first_seen;
    g_message("stream %s: following from seq %" G_GUINT64_FORMAT, s->id, s->next);
}

static void on_vehicle(pw_subscriber *sub, stream *s, const pw_event *ev, const char *json,
                       GBytes *jpeg, bool live)
{
    if (!s->positioned)
        position(sub, s, ev->seq);
    if (ev->seq > s->known_last)
        s->known_last = ev->seq;
    if (ev->seq < s->next) {
        sub->c.duplicates++;
        return;
    }
    if (ev->seq > s->next && !live) {
        /* Replay skipped numbers: the journal has pruned them for good. */
        g_warning("stream %s: events %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT " are no "
                  "longer in the publisher's journal and are lost", s->id, s->next, ev->seq - 1);
        sub->c.lost += ev->seq - s->next;
        s->next = ev->seq;
    }
    if (ev->seq == s->next) {
        deliver(sub, ev, json, jpeg);
        if (live)
            sub->c.live++;
        else
            sub->c.replayed++;
        s->next++;
        drain_pending(sub, s);
        return;
    }
    if (!sub->have_replay) {
        skip_to(sub, s, ev->seq);
        on_vehicle(sub, s, ev, json, jpeg, live);
        return;
    }
    hold(sub, s, ev, json, jpeg);
    open_gap(sub, s);
}

static void on_heartbeat(pw_subscriber *sub, stream *s, const pw_event *ev)
{
    if (!s->positioned)
        position(sub, s, ev->last_seq + 1);
    if (ev->last_seq > s->known_last)
        s->known_last = ev->last_seq;
    if (ev->last_seq >= s->next) {
        if (sub->have_replay)
            open_gap(sub, s);
        else
            skip_to(sub, s, ev->last_seq + 1);
    }
}

static void note_instance(pw_subscriber *sub, stream *s, const char *instance)
{
    if (s->instance[0] && strcmp(s->instance, instance) != 0) {
        sub->c.restarts++;
        g_message("stream %s: publisher restarted (instance %s)", s->id, instance);
    }
    g_strlcpy(s->instance, instance, sizeof s->instance);
}

/* ---- Message parsing ---- */

static void malformed(pw_subscriber *sub, const char *what)
{
    sub->c.malformed++;
    /* The first few are logged in full; a flood is only sampled. */
    if (sub->c.malformed <= 10 || sub->c.malformed % 1000 == 0)
        g_warning("dropped malformed message (%" G_GUINT64_FORMAT " so far): %s",
                  sub->c.malformed, what);
}

/*
 * Checks frames [topic][json][jpeg?] starting at index at and parses the
 * event. Returns the JSON text (g_free) or NULL when malformed.
 */
static char *parse_event(pw_subscriber *sub, GPtrArray *frames, guint at, pw_event *ev,
                         GBytes **jpeg)
{
    pw_err err;
    pw_err_clear(&err);
    guint n = frames->len - at;
    if (n != 2 && n != 3) {
        malformed(sub, "an event has 2 or 3 frames [topic][json][jpeg]");
        return NULL;
    }
    char *topic = pw_frame_strdup(frames, at);
    char *json = pw_frame_strdup(frames, at + 1);
    *jpeg = n == 3 ? g_ptr_array_index(frames, at + 2) : NULL;
    char want[256];
    const char *why = NULL;
    memset(ev, 0, sizeof *ev);
    if (!topic || !json)
        why = "the topic or JSON frame contains a NUL byte";
    else if (pw_event_from_json(json, strlen(json), ev, &err) != 0)
        why = err.msg;
    else if (pw_event_topic(ev, want, sizeof want) != 0 || strcmp(want, topic) != 0)
        why = "the topic frame does not match the event's site, lane and kind";
    else if (ev->jpeg_bytes != (*jpeg ? g_bytes_get_size(*jpeg) : 0))
        why = "jpeg_bytes does not match the JPEG frame";
    if (why) {
        char buf[600];
        snprintf(buf, sizeof buf, "topic \"%.64s\": %s", topic ? topic : "?", why);
        malformed(sub, buf);
        pw_event_clear(ev);
        g_free(json);
        json = NULL;
    }
    g_free(topic);
    return json;
}

static void on_live(pw_subscriber *sub, GPtrArray *frames)
{
    pw_event ev;
    GBytes *jpeg = NULL;
    char *json = parse_event(sub, frames, 0, &ev, &jpeg);
    if (!json)
        return;
    stream *s = stream_get(sub, ev.stream_id);
    if (!s) {
        malformed(sub, "too many streams");
    } else {
        note_instance(sub, s, ev.instance_id);
        if (ev.kind == PW_EVENT_HEARTBEAT) {
            on_heartbeat(sub, s, &ev);
            deliver(sub, &ev, json, NULL);
        } else if (ev.kind == PW_EVENT_STATS) {
            deliver(sub, &ev, json, NULL);
        } else {
            on_vehicle(sub, s, &ev, json, jpeg, true);
        }
    }
    pw_event_clear(&ev);
    g_free(json);
}

/* The stream whose outstanding request id is frame i, or NULL for a stale answer. */
static stream *stream_by_reqid(pw_subscriber *sub, GPtrArray *frames, guint i)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, sub->streams);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        stream *s = v;
        if (s->reqid[0] && pw_frame_is(frames, i, s->reqid))
            return s;
    }
    return NULL;
}

static void on_replay_event(pw_subscriber *sub, stream *s, GPtrArray *frames)
{
    pw_event ev;
    GBytes *jpeg = NULL;
    char *json = parse_event(sub, frames, 3, &ev, &jpeg);
    if (!json)
        return;
    if (strcmp(ev.stream_id, s->id) != 0 || ev.seq == 0)
        malformed(sub, "a replayed event belongs to another stream");
    else
        on_vehicle(sub, s, &ev, json, jpeg, false);
    pw_event_clear(&ev);
    g_free(json);
}

/* END carries the journal's bounds: decides whether to ask again. */
static void on_replay_end(pw_subscriber *sub, stream *s, GPtrArray *frames)
{
    char *text = pw_frame_strdup(frames, 3);
    uint64_t first = 0, last = 0, sent = 0;
    JsonParser *parser = json_parser_new();
    bool ok = text && pw_json_check_depth(text, strlen(text), NULL) == 0 &&
              json_parser_load_from_data(parser, text, -1, NULL) &&
              JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser));
    if (ok) {
        JsonObject *o = json_node_get_object(json_parser_get_root(parser));
        first = (uint64_t)json_object_get_int_member_with_default(o, "first_seq", 0);
        last = (uint64_t)json_object_get_int_member_with_default(o, "last_seq", 0);
        sent = (uint64_t)json_object_get_int_member_with_default(o, "sent", 0);
    }
    g_object_unref(parser);
    g_free(text);
    if (!ok) {
        malformed(sub, "replay END without its JSON bounds");
        return;
    }
    s->reqid[0] = '\0';
    if (last > s->known_last)
        s->known_last = last;
    if (sent == 0 && first > s->next && last >= first) {
        g_warning("stream %s: events %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT " are no "
                  "longer in the publisher's journal and are lost", s->id, s->next, first - 1);
        sub->c.lost += first - s->next;
        s->next = first;
    }
    /*
     * Events were sent but none could be delivered: the journal holds an
     * event this subscriber rejects (counted as malformed). Asking again
     * would loop for ever, so that one event is given up as lost.
     */
    if (sent > 0 && s->next == s->req_next && s->known_last >= s->next) {
        g_warning("stream %s: event %" G_GUINT64_FORMAT " cannot be delivered (malformed in the "
                  "publisher's journal) and is lost", s->id, s->next);
        sub->c.lost++;
        s->next++;
    }
    drain_pending(sub, s);
    if (s->known_last >= s->next || g_tree_nnodes(s->pending) > 0)
        request_replay(sub, s);
}

/* Replies are [""][kind][reqid][...]; kinds and ids are compared as bytes. */
static void on_replay(pw_subscriber *sub, GPtrArray *frames)
{
    stream *s = frames->len >= 4 ? stream_by_reqid(sub, frames, 2) : NULL;
    if (frames->len < 4 || g_bytes_get_size(g_ptr_array_index(frames, 0)) != 0) {
        malformed(sub, "replay reply without its empty delimiter, kind and request id");
    } else if (!s) {
        /* An answer to a request we have given up on: its events come again. */
    } else if (pw_frame_is(frames, 1, PW_REPLAY_REP_EVENT)) {
        on_replay_event(sub, s, frames);
    } else if (pw_frame_is(frames, 1, PW_REPLAY_REP_END) && frames->len == 4) {
        on_replay_end(sub, s, frames);
    } else if (pw_frame_is(frames, 1, PW_REPLAY_REP_ERROR) && frames->len == 4) {
        char *text = pw_frame_strdup(frames, 3);
        g_warning("stream %s: replay refused: %s", s->id, text ? text : "(binary text)");
        g_free(text);
    } else {
        malformed(sub, "unknown replay reply kind or wrong frame count");
    }
}

void pw_subscriber_handle(pw_subscriber *sub, GPtrArray *frames, bool replay)
{
    if (replay)
        on_replay(sub, frames);
    else
        on_live(sub, frames);
}

/* ---- Life cycle ---- */

static int setup_sockets(pw_subscriber *sub, const pw_subscriber_config *cfg, pw_err *err)
{
    int linger = 0, rc = 0;
    int64_t maxmsg = PW_MAX_MSG_BYTES;
    void *socks[] = {sub->sub, sub->dealer};
    for (int i = 0; i < 2 && rc == 0; i++) {
        if (!socks[i])
            continue;
        zmq_setsockopt(socks[i], ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(socks[i], ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
        if (cfg->server_public_key_file || cfg->client_secret_key_file)
            rc = pw_sock_curve_client(socks[i], cfg->server_public_key_file,
                                      cfg->client_secret_key_file, err);
    }
    if (rc)
        return rc;
    if (!cfg->server_public_key_file && !cfg->client_secret_key_file) {
        if (!cfg->allow_plain)
            return pw_err_set(err, PW_ECONFIG, "subscriber: no CURVE keys configured "
                              "(server public key, client secret key) and plain TCP not "
                              "explicitly allowed");
        g_warning("subscriber: CURVE is OFF (plain TCP explicitly allowed)");
    }
    const char *names[] = {"subscriber: events endpoint", "subscriber: replay endpoint"};
    for (int i = 0; i < 2 && rc == 0; i++)
        if (socks[i])
            rc = pw_handshake_watch_new(sub->ctx, socks[i], names[i], &sub->watch[i], err);
    if (rc)
        return rc;
    const char *prefix = cfg->prefix ? cfg->prefix : "plate.";
    zmq_setsockopt(sub->sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
    if (zmq_connect(sub->sub, cfg->pub_endpoint) != 0)
        return pw_err_set(err, -zmq_errno(), "subscriber: cannot connect to %s: %s",
                          cfg->pub_endpoint, zmq_strerror(zmq_errno()));
    if (sub->dealer && zmq_connect(sub->dealer, cfg->replay_endpoint) != 0)
        return pw_err_set(err, -zmq_errno(), "subscriber: cannot connect to replay %s: %s",
                          cfg->replay_endpoint, zmq_strerror(zmq_errno()));
    return 0;
}

int pw_subscriber_new(const pw_subscriber_config *cfg, pw_subscriber_cb cb, void *user,
                      pw_subscriber **out, pw_err *err)
{
    if (!cfg || !cb || !out)
        return pw_err_set(err, -EINVAL, "pw_subscriber_new: NULL argument");
    *out = NULL;
    if (!cfg->pub_endpoint || !*cfg->pub_endpoint)
        return pw_err_set(err, PW_ECONFIG, "subscriber: no PUB endpoint configured");
    if (cfg->replay_batch < 0 || cfg->replay_batch > PW_REPLAY_MAX_BATCH ||
        cfg->replay_timeout_ms < 0)
        return pw_err_set(err, PW_ECONFIG, "subscriber: replay_batch must be 0..%d and "
                          "replay_timeout_ms not negative", PW_REPLAY_MAX_BATCH);
    pw_subscriber *sub = g_new0(pw_subscriber, 1);
    sub->cb = cb;
    sub->user = user;
    sub->kinds = cfg->kinds;
    sub->backfill = cfg->backfill_new_streams;
    sub->replay_timeout_ms = cfg->replay_timeout_ms ? cfg->replay_timeout_ms : 2000;
    sub->replay_batch = cfg->replay_batch ? cfg->replay_batch : 500;
    sub->have_replay = cfg->replay_endpoint && *cfg->replay_endpoint;
    sub->streams = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, stream_free);
    sub->ctx = zmq_ctx_new();
    sub->sub = zmq_socket(sub->ctx, ZMQ_SUB);
    sub->dealer = sub->have_replay ? zmq_socket(sub->ctx, ZMQ_DEALER) : NULL;
    int rc = setup_sockets(sub, cfg, err);
    if (rc) {
        pw_subscriber_destroy(&sub);
        return rc;
    }
    *out = sub;
    return 0;
}

void pw_subscriber_destroy(pw_subscriber **sp)
{
    if (!sp || !*sp)
        return;
    pw_subscriber *sub = *sp;
    pw_handshake_watch_destroy(&sub->watch[0]);
    pw_handshake_watch_destroy(&sub->watch[1]);
    if (sub->sub)
        zmq_close(sub->sub);
    if (sub->dealer)
        zmq_close(sub->dealer);
    if (sub->ctx)
        zmq_ctx_term(sub->ctx);
    g_hash_table_unref(sub->streams);
    g_free(sub);
    *sp = NULL;
}

int pw_subscriber_resume(pw_subscriber *sub, const char *stream_id, uint64_t last_seq)
{
    if (!sub || !stream_id || !g_uuid_string_is_valid(stream_id))
        return -EINVAL;
    stream *s = stream_get(sub, stream_id);
    if (!s)
        return -ENOSPC;
    s->positioned = true;
    s->next = last_seq + 1;
    return 0;
}

uint64_t pw_subscriber_position(const pw_subscriber *sub, const char *stream_id)
{
    stream *s = sub && stream_id ? g_hash_table_lookup(sub->streams, stream_id) : NULL;
    return s && s->positioned ? s->next - 1 : 0;
}

void pw_subscriber_get_counters(const pw_subscriber *sub, pw_subscriber_counters *out)
{
    *out = sub->c;
}

const char *pw_subscriber_error(const pw_subscriber *sub)
{
    return sub ? sub->error.msg : "";
}

void pw_subscriber_stop(pw_subscriber *sub)
{
    if (sub)
        g_atomic_int_set(&sub->stop, 1);
}

/* Re-asks for replays whose answer is overdue (lost request, publisher restart). */
static void retry_overdue(pw_subscriber *sub)
{
    int64_t now = g_get_monotonic_time();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, sub->streams);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        stream *s = v;
        if (s->reqid[0] && now >= s->req_deadline)
            request_replay(sub, s);
    }
}

/* Reads what is waiting on one socket, a bounded number of messages at a time. */
static int drain_socket(pw_subscriber *sub, void *sock, bool replay)
{
    for (int i = 0; i < 1000; i++) {
        GPtrArray *frames = NULL;
        int rc = pw_recv_frames(sock, &frames, ZMQ_DONTWAIT);
        if (rc == -EAGAIN || rc == -EINTR)
            return 0;
        if (rc == PW_EMSG) {
            malformed(sub, "a message of more frames than any platewatch message");
            continue;
        }
        if (rc < 0)
            return rc;
        pw_subscriber_handle(sub, frames, replay);
        g_ptr_array_unref(frames);
    }
    return 0;
}

int pw_subscriber_run(pw_subscriber *sub, int timeout_ms)
{
    if (!sub)
        return -EINVAL;
    uint64_t before = sub->c.delivered;
    int64_t end = timeout_ms < 0 ? G_MAXINT64
                                 : g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
    int rc = 0;
    while (rc == 0 && !g_atomic_int_compare_and_exchange(&sub->stop, 1, 0)) {
        int64_t now = g_get_monotonic_time();
        if (now >= end)
            break;
        int64_t left_ms = (end - now) / 1000;
        zmq_pollitem_t items[2] = {{sub->sub, 0, ZMQ_POLLIN, 0},
                                   {sub->dealer, 0, ZMQ_POLLIN, 0}};
        int n = zmq_poll(items, sub->dealer ? 2 : 1, left_ms < 100 ? left_ms : 100);
        if (n < 0 && zmq_errno() != EINTR)
            rc = -zmq_errno();
        if (n > 0 && (items[0].revents & ZMQ_POLLIN))
            rc = drain_socket(sub, sub->sub, false);
        if (rc == 0 && n > 0 && sub->dealer && (items[1].revents & ZMQ_POLLIN))
            rc = drain_socket(sub, sub->dealer, true);
        for (int i = 0; i < 2 && rc == 0; i++)
            if (pw_handshake_watch_poll(sub->watch[i], &sub->error) > 0)
                rc = PW_EHANDSHAKE;
        retry_overdue(sub);
    }
    if (rc < 0 && rc != PW_EHANDSHAKE)
        pw_err_set(&sub->error, rc, "subscriber: socket failure: %s", pw_strerror(rc));
    return rc ? rc : (int)(sub->c.delivered - before);
}
