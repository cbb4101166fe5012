/*
 * forwarder.c - the site forwarder. Events go through ZeroMQ's own proxy
 * (XSUB connected to every upstream PUB, XPUB bound for subscribers), so
 * subscriptions travel upstream and the daemons need no new code. Replay
 * requests arrive at a ROUTER and are routed to the upstream that owns the
 * requested stream: the owners are learnt by sending INFO to every upstream
 * replay endpoint (a forwarder answers INFO with all its streams, so
 * forwarders stack: lanes -> crossing -> central office).
 */
#define _POSIX_C_SOURCE 200809L
#include "publish_internal.h"
#include "pw_json.h"
#include "subscriber.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#define CONTROL_EP_FMT "inproc://pw-forwarder-control-%p"

typedef struct {
    void *dealer;
    char endpoint[256];
} upstream;

typedef struct {
    char stream_id[PW_UUID_LEN + 1];
    guint upstream;
    char *info_json;   /* the stream's entry as the upstream described it */
} route;

struct pw_forwarder {
    void *ctx;
    void *xsub;
    void *xpub;
    void *control;     /* PAIR: steers the proxy (TERMINATE) */
    void *router;
    upstream *ups;
    guint n_ups;
    pw_zap *zap;
    GThread *proxy_thread;
    GThread *replay_thread;
    GHashTable *routes;    /* stream id -> route (replay thread only) */
    int info_interval_ms;
    uint64_t next_reqid;
    char pub_ep[256];
    char replay_ep[256];
    char control_ep[64];
    gint stopping;     /* atomic */
};

/* ---- Set-up ---- */

static void *make_socket(pw_forwarder *fw, int type)
{
    void *s = zmq_socket(fw->ctx, type);
    int linger = 0, hwm = 100000;
    int64_t maxmsg = PW_MAX_MSG_BYTES;
    if (s) {
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
        zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    }
    return s;
}

static int server_security(pw_forwarder *fw, const pw_forwarder_config *cfg, pw_err *err)
{
    if (!cfg->secret_key_file && !cfg->allow_list) {
        if (!cfg->allow_plain)
            return pw_err_set(err, PW_ECONFIG, "forwarder: no CURVE keys configured for "
                              "subscribers and plain TCP not explicitly allowed");
        g_warning("forwarder: CURVE is OFF towards subscribers (plain TCP explicitly allowed)");
        return 0;
    }
    if (!cfg->secret_key_file || !cfg->allow_list)
        return pw_err_set(err, PW_ECONFIG, "forwarder: CURVE needs both a secret key file and "
                          "a client allow-list");
    pw_keypair kp;
    GHashTable *allow = NULL;
    int rc = pw_keys_load_secret(cfg->secret_key_file, &kp, err);
    if (!rc && !(rc = pw_keys_load_allow(cfg->allow_list, &allow, err)) &&
        !(rc = pw_zap_start(fw->ctx, allow, &fw->zap, err)) &&
        !(rc = pw_sock_curve_server(fw->xpub, &kp, err)))
        rc = pw_sock_curve_server(fw->router, &kp, err);
    memset(&kp, 0, sizeof kp);
    return rc;
}

/* Client-side CURVE towards one upstream (set before each connect). */
static int client_security(void *sock, const pw_forwarder_config *cfg, const pw_upstream *u,
                           pw_err *err)
{
    const char *server = u->public_key_file ? u->public_key_file : cfg->upstream_public_key_file;
    if (!server && !cfg->client_secret_key_file) {
        if (!cfg->allow_plain)
            return pw_err_set(err, PW_ECONFIG, "forwarder: no CURVE keys configured for "
                              "upstream %s and plain TCP not explicitly allowed",
                              u->pub_endpoint);
        return 0;
    }
    return pw_sock_curve_client(sock, server, cfg->client_secret_key_file, err);
}

static int connect_to(void *sock, const char *ep, const char *what, pw_err *err)
{
    if (!ep || zmq_connect(sock, ep) != 0)
        return pw_err_set(err, ep ? -zmq_errno() : PW_ECONFIG, "forwarder: cannot connect "
                          "to %s endpoint %s: %s", what, ep ? ep : "(none)",
                          ep ? zmq_strerror(zmq_errno()) : "not configured");
    return 0;
}

static int connect_upstreams(pw_forwarder *fw, const pw_forwarder_config *cfg, pw_err *err)
{
    fw->n_ups = (guint)cfg->n_upstreams;
    fw->ups = g_new0(upstream, fw->n_ups);
    for (guint i = 0; i < fw->n_ups; i++) {
        const pw_upstream *u = &cfg->upstreams[i];
        upstream *up = &fw->ups[i];
        up->dealer = make_socket(fw, ZMQ_DEALER);
        g_strlcpy(up->endpoint, u->replay_endpoint ? u->replay_endpoint : "",
                  sizeof up->endpoint);
        int rc = client_security(fw->xsub, cfg, u, err);
        if (rc || (rc = connect_to(fw->xsub, u->pub_endpoint, "upstream PUB", err)) ||
            (rc = client_security(up->dealer, cfg, u, err)) ||
            (rc = connect_to(up->dealer, u->replay_endpoint, "upstream replay", err)))
            return rc;
    }
    return 0;
}

static gpointer proxy_main(gpointer data);
static gpointer replay_main(gpointer data);

static void route_free(gpointer p)
{
    route *r = p;
    g_free(r->info_json);
    g_free(r);
}

int pw_forwarder_new(const pw_forwarder_config *cfg, pw_forwarder **out, pw_err *err)
{
    if (!cfg || !out)
        return pw_err_set(err, -EINVAL, "pw_forwarder_new: NULL argument");
    *out = NULL;
    if (cfg->n_upstreams == 0 || !cfg->upstreams)
        return pw_err_set(err, PW_ECONFIG, "forwarder: no upstreams configured");
    pw_forwarder *fw = g_new0(pw_forwarder, 1);
    fw->info_interval_ms = cfg->info_interval_ms > 0 ? cfg->info_interval_ms : 2000;
    fw->routes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, route_free);
    fw->ctx = zmq_ctx_new();
    fw->xsub = make_socket(fw, ZMQ_XSUB);
    fw->xpub = make_socket(fw, ZMQ_XPUB);
    fw->router = make_socket(fw, ZMQ_ROUTER);
    fw->control = make_socket(fw, ZMQ_PAIR);
    snprintf(fw->control_ep, sizeof fw->control_ep, CONTROL_EP_FMT, (void *)fw);
    int rc = zmq_bind(fw->control, fw->control_ep) == 0 ? 0
             : pw_err_set(err, -zmq_errno(), "forwarder: control socket: %s",
                          zmq_strerror(zmq_errno()));
    if (rc || (rc = server_security(fw, cfg, err)) || (rc = connect_upstreams(fw, cfg, err)) ||
        (rc = pw_sock_bind(fw->xpub, cfg->pub_endpoint, "forwarder XPUB", fw->pub_ep,
                           sizeof fw->pub_ep, err)) ||
        (rc = pw_sock_bind(fw->router, cfg->replay_endpoint, "forwarder replay", fw->replay_ep,
                           sizeof fw->replay_ep, err))) {
        pw_forwarder_destroy(&fw);
        return rc;
    }
    fw->proxy_thread = g_thread_new("pw-fw-proxy", proxy_main, fw);
    fw->replay_thread = g_thread_new("pw-fw-replay", replay_main, fw);
    g_message("forwarder: %u upstreams, XPUB %s, replay %s", fw->n_ups, fw->pub_ep,
              fw->replay_ep);
    *out = fw;
    return 0;
}

const char *pw_forwarder_endpoint(const pw_forwarder *fw, const char *which)
{
    if (!fw || !which)
        return NULL;
    if (strcmp(which, "pub") == 0)
        return fw->pub_ep;
    if (strcmp(which, "replay") == 0)
        return fw->replay_ep;
    return NULL;
}

static void close_sock(void **s)
{
    if (*s)
        zmq_close(*s);
    *s = NULL;
}

void pw_forwarder_destroy(pw_forwarder **fp)
{
    if (!fp || !*fp)
        return;
    pw_forwarder *fw = *fp;
    g_atomic_int_set(&fw->stopping, 1);
    if (fw->proxy_thread) {
        /* The proxy owns xsub/xpub while it runs; it stops on TERMINATE. */
        void *steer = zmq_socket(fw->ctx, ZMQ_PAIR);
        zmq_connect(steer, fw->control_ep);
        zmq_send(steer, "TERMINATE", 9, 0);
        g_thread_join(fw->proxy_thread);
        zmq_close(steer);
    }
    if (fw->replay_thread)
        g_thread_join(fw->replay_thread);
    close_sock(&fw->xsub);
    close_sock(&fw->xpub);
    close_sock(&fw->control);
    close_sock(&fw->router);
    for (guint i = 0; i < fw->n_ups; i++)
        close_sock(&fw->ups[i].dealer);
    if (fw->ctx)
        zmq_ctx_term(fw->ctx);
    pw_zap_stop(&fw->zap);
    g_hash_table_unref(fw->routes);
    g_free(fw->ups);
    g_free(fw);
    *fp = NULL;
}

/* ---- Threads ---- */

static gpointer proxy_main(gpointer data)
{
    pw_forwarder *fw = data;
    zmq_proxy_steerable(fw->xsub, fw->xpub, NULL, fw->control);
    return NULL;
}

static void send_info_requests(pw_forwarder *fw)
{
    for (guint i = 0; i < fw->n_ups; i++) {
        char reqid[32];
        snprintf(reqid, sizeof reqid, "fw%" G_GUINT64_FORMAT, ++fw->next_reqid);
        const void *data[] = {"", PW_REPLAY_CMD_INFO, reqid};
        size_t len[] = {0, strlen(PW_REPLAY_CMD_INFO), strlen(reqid)};
        pw_send_frames(fw->ups[i].dealer, data, len, 3, ZMQ_DONTWAIT);
    }
}

/* Learns the streams an upstream holds from its INFO reply JSON. */
static void learn_streams(pw_forwarder *fw, guint up, const char *json)
{
    JsonParser *parser = json_parser_new();
    JsonNode *root = NULL;
    JsonArray *streams = NULL;
    if (pw_json_check_depth(json, strlen(json), NULL) == 0 &&
        json_parser_load_from_data(parser, json, -1, NULL) &&
        (root = json_parser_get_root(parser)) && JSON_NODE_HOLDS_OBJECT(root)) {
        JsonNode *n = json_object_get_member(json_node_get_object(root), "streams");
        if (n && JSON_NODE_HOLDS_ARRAY(n))
            streams = json_node_get_array(n);
    }
    for (guint i = 0; streams && i < json_array_get_length(streams); i++) {
        JsonNode *e = json_array_get_element(streams, i);
        const char *id = JSON_NODE_HOLDS_OBJECT(e)
            ? json_object_get_string_member_with_default(json_node_get_object(e), "stream_id", "")
            : "";
        if (!g_uuid_string_is_valid(id))
            continue;
        route *r = g_new0(route, 1);
        g_strlcpy(r->stream_id, id, sizeof r->stream_id);
        r->upstream = up;
        r->info_json = json_to_string(e, FALSE);
        g_hash_table_replace(fw->routes, r->stream_id, r);
    }
    if (!streams)
        g_warning("forwarder: upstream %s sent an INFO reply without a streams list",
                  fw->ups[up].endpoint);
    g_object_unref(parser);
}

/* Sends frames[from..] on sock, after optional leading frames. */
static void forward(void *sock, GPtrArray *frames, guint from)
{
    for (guint i = from; i < frames->len; i++) {
        gsize n = 0;
        const void *d = g_bytes_get_data(g_ptr_array_index(frames, i), &n);
        zmq_send(sock, d, n, (i + 1 < frames->len ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    }
}

/* An upstream answered: either our own INFO or a reply to route back. */
static void on_upstream(pw_forwarder *fw, guint up, GPtrArray *frames)
{
    if (frames->len >= 4 && g_bytes_get_size(g_ptr_array_index(frames, 0)) == 0) {
        char *json = pw_frame_strdup(frames, 3);
        if (json && pw_frame_is(frames, 1, PW_REPLAY_REP_INFO))
            learn_streams(fw, up, json);
        g_free(json);
        return;
    }
    forward(fw->router, frames, 0);
}

/* Replies to a client directly: envelope frames up to body, then kind, reqid, text. */
static void answer(pw_forwarder *fw, GPtrArray *frames, const pw_replay_request *req,
                   const char *kind, const char *text)
{
    guint body = req->body;
    for (guint i = 0; i < body; i++) {
        gsize n = 0;
        const void *d = g_bytes_get_data(g_ptr_array_index(frames, i), &n);
        zmq_send(fw->router, d, n, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    }
    const void *data[] = {kind, req->reqid, text};
    size_t len[] = {strlen(kind), req->reqid_len, strlen(text)};
    pw_send_frames(fw->router, data, len, 3, ZMQ_DONTWAIT);
}

static void answer_info(pw_forwarder *fw, GPtrArray *frames, const pw_replay_request *req)
{
    GString *s = g_string_new("{\"streams\":[");
    GHashTableIter it;
    gpointer k, v;
    bool first = true;
    g_hash_table_iter_init(&it, fw->routes);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        g_string_append_printf(s, "%s%s", first ? "" : ",", ((route *)v)->info_json);
        first = false;
    }
    g_string_append(s, "]}");
    answer(fw, frames, req, PW_REPLAY_REP_INFO, s->str);
    g_string_free(s, TRUE);
}

/* A client request: [envelope...][""][cmd][reqid][...], parsed as the publisher does. */
static void on_client(pw_forwarder *fw, GPtrArray *frames)
{
    pw_replay_request req;
    pw_err err;
    pw_err_clear(&err);
    if (pw_replay_request_parse(frames, &req, &err) != 0) {
        if (req.body)
            answer(fw, frames, &req, PW_REPLAY_REP_ERROR, err.msg);
        else
            g_warning("forwarder: dropped a malformed replay request: %s", err.msg);
    } else if (req.cmd == PW_REPLAY_REQ_INFO) {
        answer_info(fw, frames, &req);
    } else {
        route *r = g_hash_table_lookup(fw->routes, req.stream_id);
        if (r)
            forward(fw->ups[r->upstream].dealer, frames, 0);
        else
            answer(fw, frames, &req, PW_REPLAY_REP_ERROR, "unknown stream");
    }
}

static void drain(pw_forwarder *fw, void *sock, gint up)
{
    GPtrArray *frames = NULL;
    int rc = 0;
    for (int i = 0; i < 1000 && (rc = pw_recv_frames(sock, &frames, ZMQ_DONTWAIT)) != -EAGAIN;
         i++) {
        if (rc == PW_EMSG)
            continue; /* more than PW_MAX_FRAMES frames: read and dropped */
        if (rc != 0)
            break;
        if (up < 0)
            on_client(fw, frames);
        else
            on_upstream(fw, (guint)up, frames);
        g_ptr_array_unref(frames);
    }
}

static gpointer replay_main(gpointer data)
{
    pw_forwarder *fw = data;
    guint n = fw->n_ups + 1;
    zmq_pollitem_t *items = g_new0(zmq_pollitem_t, n);
    items[0].socket = fw->router;
    for (guint i = 0; i < fw->n_ups; i++)
        items[i + 1].socket = fw->ups[i].dealer;
    int64_t next_info = 0;
    while (!g_atomic_int_get(&fw->stopping)) {
        if (g_get_monotonic_time() >= next_info) {
            send_info_requests(fw);
            /* Learn quickly at first, then at the configured pace. */
            int64_t every = g_hash_table_size(fw->routes) < fw->n_ups ? 200 : fw->info_interval_ms;
            next_info = g_get_monotonic_time() + every * 1000;
        }
        for (guint i = 0; i < n; i++)
            items[i].events = ZMQ_POLLIN;
        if (zmq_poll(items, (int)n, 100) <= 0)
            continue;
        if (items[0].revents & ZMQ_POLLIN)
            drain(fw, fw->router, -1);
        for (guint i = 0; i < fw->n_ups; i++)
            if (items[i + 1].revents & ZMQ_POLLIN)
                drain(fw, fw->ups[i].dealer, (gint)i);
    }
    g_free(items);
    return NULL;
}
