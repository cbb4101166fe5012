/*
 * wire.c - small ZeroMQ helpers shared by the publisher, the subscriber and
 * the forwarder: binding with a clear error, multipart send and receive.
 */
#define _POSIX_C_SOURCE 200809L
#include "publish_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int pw_sock_bind(void *sock, const char *endpoint, const char *what,
                 char *resolved, size_t resolved_size, pw_err *err)
{
    if (!endpoint || !*endpoint)
        return pw_err_set(err, PW_ECONFIG, "no %s endpoint configured", what);
    if (zmq_bind(sock, endpoint) != 0) {
        int e = zmq_errno();
        return pw_err_set(err, -e, "cannot bind the %s endpoint %s: %s%s", what, endpoint,
                          zmq_strerror(e),
                          e == EADDRINUSE ? " (another process holds this port)" : "");
    }
    if (resolved && resolved_size) {
        size_t n = resolved_size;
        if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, resolved, &n) != 0)
            g_strlcpy(resolved, endpoint, resolved_size);
    }
    return 0;
}

int pw_send_frames(void *sock, const void *const *data, const size_t *len, int n, int flags)
{
    for (int i = 0; i < n; i++) {
        int f = flags | (i + 1 < n ? ZMQ_SNDMORE : 0);
        if (zmq_send(sock, data[i], len[i], f) < 0)
            return -zmq_errno();
    }
    return 0;
}

static void bytes_free(gpointer p)
{
    g_bytes_unref(p);
}

int pw_recv_frames(void *sock, GPtrArray **out, int flags)
{
    GPtrArray *frames = g_ptr_array_new_with_free_func(bytes_free);
    int more = 1;
    size_t count = 0;
    while (more) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        /* Only the first frame may be non-blocking: the rest are already here. */
        if (zmq_msg_recv(&msg, sock, count == 0 ? flags : 0) < 0) {
            int e = zmq_errno();
            zmq_msg_close(&msg);
            g_ptr_array_unref(frames);
            *out = NULL;
            return -e;
        }
        /* Frames past the limit are still read, so that the next message starts clean. */
        if (++count <= PW_MAX_FRAMES)
            g_ptr_array_add(frames, g_bytes_new(zmq_msg_data(&msg), zmq_msg_size(&msg)));
        else if (frames->len)
            g_ptr_array_set_size(frames, 0);
        more = zmq_msg_more(&msg);
        zmq_msg_close(&msg);
    }
    if (count > PW_MAX_FRAMES) {
        g_ptr_array_unref(frames);
        *out = NULL;
        return PW_EMSG;
    }
    *out = frames;
    return 0;
}

char *pw_frame_strdup(GPtrArray *frames, guint i)
{
    if (!frames || i >= frames->len)
        return NULL;
    gsize n = 0;
    const char *d = g_bytes_get_data(g_ptr_array_index(frames, i), &n);
    /* Text with a NUL inside would be read as its first part only: refuse it whole. */
    if (n && memchr(d, '\0', n))
        return NULL;
    return g_strndup(d ? d : "", n);
}

bool pw_frame_equals(GPtrArray *frames, guint i, const void *data, size_t len)
{
    if (!frames || i >= frames->len)
        return false;
    gsize n = 0;
    const void *d = g_bytes_get_data(g_ptr_array_index(frames, i), &n);
    return n == len && (len == 0 || memcmp(d, data, len) == 0);
}

bool pw_frame_is(GPtrArray *frames, guint i, const char *text)
{
    return pw_frame_equals(frames, i, text, strlen(text));
}

int pw_parse_u64(const char *s, uint64_t *out)
{
    guint64 v = 0;
    if (!s || !g_ascii_string_to_unsigned(s, 10, 0, G_MAXINT64, &v, NULL))
        return PW_EMSG;
    *out = v;
    return 0;
}
