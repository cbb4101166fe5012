/*
 * replay_request.c - the one parser of replay requests, shared by the
 * publisher and the forwarder (docs/events.md, "Replay protocol").
 *
 * Frames are bytes with lengths, never C strings: a command must be exactly
 * "REPLAY" or "INFO" ("REPLAY\0junk" is not REPLAY), a request id is any 0 to
 * PW_REPLAY_MAX_REQID bytes and is echoed as it came, numbers are decimal
 * digits only, and each command has an exact number of frames.
 */
#define _POSIX_C_SOURCE 200809L
#include "publish_internal.h"

#include <string.h>

/* A decimal number of 1 to 19 digits (below 2^63), nothing else. */
static bool frame_u64(GPtrArray *frames, guint i, uint64_t *out)
{
    gsize n = 0;
    const char *d = g_bytes_get_data(g_ptr_array_index(frames, i), &n);
    if (n == 0 || n > 19)
        return false;
    uint64_t v = 0;
    for (gsize k = 0; k < n; k++) {
        if (!g_ascii_isdigit(d[k]))
            return false;
        v = v * 10 + (uint64_t)(d[k] - '0');
    }
    if (v > (uint64_t)G_MAXINT64)
        return false;
    *out = v;
    return true;
}

static int parse_replay(GPtrArray *frames, pw_replay_request *req, pw_err *err)
{
    guint n = frames->len - req->body;
    if (n != 5)
        return pw_err_set(err, PW_EMSG, "malformed REPLAY request: %u frames after the "
                          "delimiter where REPLAY, id, stream, since and max are 5", n);
    gsize len = 0;
    const char *stream = g_bytes_get_data(g_ptr_array_index(frames, req->body + 2), &len);
    if (len != PW_UUID_LEN)
        return pw_err_set(err, PW_EMSG, "malformed REPLAY request: the stream id is %zu bytes, "
                          "not a %d-character UUID", (size_t)len, PW_UUID_LEN);
    memcpy(req->stream_id, stream, PW_UUID_LEN);
    req->stream_id[PW_UUID_LEN] = '\0';
    if (!g_uuid_string_is_valid(req->stream_id))
        return pw_err_set(err, PW_EMSG, "malformed REPLAY request: the stream id is not a UUID");
    if (!frame_u64(frames, req->body + 3, &req->since))
        return pw_err_set(err, PW_EMSG, "malformed REPLAY request: since is not a decimal "
                          "number below 2^63");
    if (!frame_u64(frames, req->body + 4, &req->max) || req->max == 0)
        return pw_err_set(err, PW_EMSG, "malformed REPLAY request: max is not a decimal number "
                          "from 1 to 2^63 - 1");
    return 0;
}

int pw_replay_request_parse(GPtrArray *frames, pw_replay_request *req, pw_err *err)
{
    memset(req, 0, sizeof *req);
    req->reqid = "";
    /* Frame 0 is the ROUTER's routing id; the envelope ends at the first empty frame. */
    for (guint i = 1; frames && i < frames->len && !req->body; i++)
        if (g_bytes_get_size(g_ptr_array_index(frames, i)) == 0)
            req->body = i + 1;
    if (!req->body)
        return pw_err_set(err, PW_EMSG, "request without an envelope and empty delimiter");
    guint n = frames->len - req->body;
    if (n < 2)
        return pw_err_set(err, PW_EMSG, "request without a command and a request id");
    gsize idlen = 0;
    const void *id = g_bytes_get_data(g_ptr_array_index(frames, req->body + 1), &idlen);
    if (idlen > PW_REPLAY_MAX_REQID)
        return pw_err_set(err, PW_EMSG, "request id of %zu bytes is longer than %d",
                          (size_t)idlen, PW_REPLAY_MAX_REQID);
    req->reqid = idlen ? id : "";
    req->reqid_len = idlen;
    if (pw_frame_is(frames, req->body, PW_REPLAY_CMD_REPLAY)) {
        req->cmd = PW_REPLAY_REQ_REPLAY;
        return parse_replay(frames, req, err);
    }
    if (pw_frame_is(frames, req->body, PW_REPLAY_CMD_INFO)) {
        req->cmd = PW_REPLAY_REQ_INFO;
        return n == 2 ? 0 : pw_err_set(err, PW_EMSG, "malformed INFO request: %u frames after "
                                       "the delimiter where INFO and id are 2", n);
    }
    return pw_err_set(err, PW_EMSG, "unknown command");
}
