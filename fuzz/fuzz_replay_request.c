/*
 * fuzz_replay_request.c - libFuzzer target for the replay request parser
 * (publish/replay_request.c) the publisher and forwarder run on every
 * message their ROUTER receives. The input is the message's frames joined
 * by FUZZ_FRAME_SEP, the routing-id frame first.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "publish_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GPtrArray *frames = fuzz_frames(data, size);
    pw_replay_request req;
    pw_err err;
    pw_err_clear(&err);
    int rc = pw_replay_request_parse(frames, &req, &err);
    if (req.body > frames->len || req.reqid_len > PW_REPLAY_MAX_REQID || !req.reqid)
        abort();
    if (rc == 0) {
        /* What is accepted is exactly one of the two commands, with its frame count. */
        if (req.cmd == PW_REPLAY_REQ_REPLAY) {
            if (frames->len - req.body != 5 || !g_uuid_string_is_valid(req.stream_id) ||
                req.max == 0 || req.since > (uint64_t)G_MAXINT64)
                abort();
        } else if (req.cmd != PW_REPLAY_REQ_INFO || frames->len - req.body != 2) {
            abort();
        }
    } else if (rc != PW_EMSG || !err.msg[0]) {
        abort();
    }
    g_ptr_array_unref(frames);
    return 0;
}
