/*
 * handshake.c - watching a socket's ZMTP (CURVE) handshakes through libzmq's
 * socket monitor. A CURVE client whose server key is wrong, or whose own key
 * the server refuses, otherwise hears nothing at all: libzmq reconnects
 * quietly for ever. Both ends use this: the subscriber to fail with a
 * sentence, the publisher to log the clients it could not admit.
 */
#define _POSIX_C_SOURCE 200809L
#include "publish_internal.h"
#include "subscriber.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

struct pw_handshake_watch {
    void *watched;
    void *pair;
    char what[64];
    int connections; /* accepted and not yet disconnected */
};

#define FAILED_EVENTS (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | \
                       ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
/*
 * A socket has one monitor at most (a second zmq_socket_monitor replaces the
 * first), so the watch also counts the connections a server socket accepts.
 */
#define WATCHED_EVENTS (FAILED_EVENTS | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED)

int pw_handshake_watch_new(void *ctx, void *sock, const char *what, pw_handshake_watch **out,
                           pw_err *err)
{
    *out = NULL;
    pw_handshake_watch *w = g_new0(pw_handshake_watch, 1);
    g_strlcpy(w->what, what, sizeof w->what);
    char ep[64];
    /* One inproc name per watched socket: its address is unique in the process. */
    snprintf(ep, sizeof ep, "inproc://pw-handshake-%p", sock);
    int linger = 0;
    if (zmq_socket_monitor(sock, ep, WATCHED_EVENTS) != 0 ||
        !(w->pair = zmq_socket(ctx, ZMQ_PAIR)) ||
        zmq_setsockopt(w->pair, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_connect(w->pair, ep) != 0) {
        int rc = pw_err_set(err, -zmq_errno(), "cannot watch the %s socket's handshakes: %s",
                            what, zmq_strerror(zmq_errno()));
        if (w->pair)
            zmq_close(w->pair);
        zmq_socket_monitor(sock, NULL, 0);
        g_free(w);
        return rc;
    }
    w->watched = sock;
    *out = w;
    return 0;
}

void pw_handshake_watch_destroy(pw_handshake_watch **wp)
{
    if (!wp || !*wp)
        return;
    pw_handshake_watch *w = *wp;
    zmq_socket_monitor(w->watched, NULL, 0);
    zmq_close(w->pair);
    g_free(w);
    *wp = NULL;
}

void *pw_handshake_watch_socket(pw_handshake_watch *w)
{
    return w ? w->pair : NULL;
}

/* The sentence for one failed handshake, from the event and its value. */
static void describe(const pw_handshake_watch *w, uint16_t event, uint32_t value,
                     const char *endpoint, pw_err *err)
{
    char why[256];
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        snprintf(why, sizeof why, "the server refused this client's key (ZAP status %u: "
                 "the key is not in the server's allow-list)", value);
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
             value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
        snprintf(why, sizeof why, "a handshake message could not be decrypted: the client's "
                 "copy of the server public key does not match the server's secret key");
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
             value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        snprintf(why, sizeof why, "the two ends use different security (CURVE on one, plain "
                 "on the other)");
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        snprintf(why, sizeof why, "ZMTP protocol error 0x%x (for CURVE, usually a wrong "
                 "server public key)", value);
    else
        snprintf(why, sizeof why, "the connection closed during the handshake (%s): for "
                 "CURVE, usually a wrong server public key", g_strerror((int)value));
    pw_err_set(err, PW_EHANDSHAKE, "%s %s: security handshake failed: %s", w->what,
               endpoint, why);
}

int pw_handshake_watch_poll(pw_handshake_watch *w, pw_err *err)
{
    int failures = 0;
    while (w) {
        GPtrArray *frames = NULL;
        int rc = pw_recv_frames(w->pair, &frames, ZMQ_DONTWAIT);
        if (rc != 0)
            break;
        gsize n = 0;
        const uint8_t *d = frames->len == 2
            ? g_bytes_get_data(g_ptr_array_index(frames, 0), &n) : NULL;
        if (d && n == 6) {
            uint16_t event;
            uint32_t value;
            memcpy(&event, d, sizeof event);
            memcpy(&value, d + 2, sizeof value);
            char *endpoint = pw_frame_strdup(frames, 1);
            if (event & FAILED_EVENTS) {
                failures++;
                describe(w, event, value, endpoint ? endpoint : "?", err);
            } else if (event == ZMQ_EVENT_ACCEPTED) {
                w->connections++;
            } else if (event == ZMQ_EVENT_DISCONNECTED && w->connections > 0) {
                w->connections--;
            }
            g_free(endpoint);
        }
        g_ptr_array_unref(frames);
    }
    return failures;
}

int pw_handshake_watch_connections(const pw_handshake_watch *w)
{
    return w ? w->connections : 0;
}
