/*
 * zap.c - the ZAP handler (ZeroMQ RFC 27): a thread with its own REP socket
 * on inproc://zeromq.zap.01 that admits CURVE clients whose public key is in
 * the allow-list. It must be bound before any CURVE server socket accepts a
 * connection, so pw_zap_start() binds in the caller's thread.
 */
#define _POSIX_C_SOURCE 200809L
#include "publish_internal.h"

#include <errno.h>
#include <string.h>
#include <zmq.h>

struct pw_zap {
    void *sock;
    GHashTable *allow;   /* Z85 public keys */
    GThread *thread;
    gint denied;         /* atomic */
};

/* Sends the six-frame ZAP reply. */
static void zap_reply(void *sock, GPtrArray *req, const char *code, const char *text,
                      const char *user)
{
    gsize idlen = 0;
    const void *id = g_bytes_get_data(g_ptr_array_index(req, 1), &idlen);
    const void *data[] = {"1.0", id, code, text, user, ""};
    size_t len[] = {3, idlen, strlen(code), strlen(text), strlen(user), 0};
    pw_send_frames(sock, data, len, 6, 0);
}

/* Decides one request: frames are version, id, domain, address, identity, mechanism, key. */
static void zap_handle(pw_zap *zap, GPtrArray *req)
{
    if (req->len < 6) {
        g_warning("ZAP: dropped a request of %u frames", req->len);
        return;
    }
    const char *mechanism = pw_frame_is(req, 5, "CURVE") ? "CURVE" : "non-CURVE";
    char *address = pw_frame_strdup(req, 3);
    gsize klen = 0;
    const void *key = req->len >= 7 ? g_bytes_get_data(g_ptr_array_index(req, 6), &klen) : NULL;
    char z85[41] = "";
    if (pw_frame_is(req, 5, "CURVE") && klen == 32)
        zmq_z85_encode(z85, key, 32);
    if (z85[0] && g_hash_table_contains(zap->allow, z85)) {
        zap_reply(zap->sock, req, "200", "OK", z85);
    } else {
        g_atomic_int_inc(&zap->denied);
        int n = g_atomic_int_get(&zap->denied);
        /* A refused client reconnects every few hundred ms: sample the log after 10. */
        if (n <= 10 || n % 100 == 0)
            g_warning("ZAP: refused %s client from %s (key %s not in the allow-list; %d "
                      "refusals so far)", mechanism, address ? address : "?", z85[0] ? z85 : "none", n);
        zap_reply(zap->sock, req, "400", "key not allowed", "");
    }
    g_free(address);
}

static gpointer zap_main(gpointer data)
{
    pw_zap *zap = data;
    for (;;) {
        GPtrArray *req = NULL;
        int rc = pw_recv_frames(zap->sock, &req, 0);
        if (rc == -ETERM)
            break;
        if (rc == -EINTR || rc == PW_EMSG)
            continue;
        if (rc < 0) {
            g_warning("ZAP: receive failed: %s", zmq_strerror(-rc));
            break;
        }
        zap_handle(zap, req);
        g_ptr_array_unref(req);
    }
    zmq_close(zap->sock);
    zap->sock = NULL;
    return NULL;
}

int pw_zap_start(void *ctx, GHashTable *allow, pw_zap **out, pw_err *err)
{
    *out = NULL;
    pw_zap *zap = g_new0(pw_zap, 1);
    zap->allow = allow;
    zap->sock = zmq_socket(ctx, ZMQ_REP);
    int linger = 0;
    if (!zap->sock || zmq_setsockopt(zap->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(zap->sock, "inproc://zeromq.zap.01") != 0) {
        int rc = pw_err_set(err, -zmq_errno(), "cannot start the ZAP handler: %s",
                            zmq_strerror(zmq_errno()));
        if (zap->sock)
            zmq_close(zap->sock);
        g_hash_table_unref(allow);
        g_free(zap);
        return rc;
    }
    zap->thread = g_thread_new("pw-zap", zap_main, zap);
    *out = zap;
    return 0;
}

void pw_zap_stop(pw_zap **zp)
{
    if (!zp || !*zp)
        return;
    pw_zap *zap = *zp;
    g_thread_join(zap->thread);
    g_hash_table_unref(zap->allow);
    g_free(zap);
    *zp = NULL;
}

uint64_t pw_zap_denied(pw_zap *zap)
{
    return zap ? (uint64_t)(guint)g_atomic_int_get(&zap->denied) : 0;
}
