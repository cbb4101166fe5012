/*
 * fuzz_subscriber.c - libFuzzer target for the subscriber library's message
 * handling (publish/subscriber.c): live events from the SUB socket and
 * replay replies from the DEALER, as the frames of one message. The first
 * byte chooses the socket; the rest is the frames joined by FUZZ_FRAME_SEP.
 * One subscriber (its sockets connected to nothing) carries state from input
 * to input, as a running one does, and is renewed every 4096 inputs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "publish_internal.h"
#include "subscriber.h"

static void on_event(const pw_event *ev, const char *json, const uint8_t *jpeg,
                     size_t jpeg_len, void *user)
{
    (void)user;
    /* What is delivered was parsed whole: its JSON and crop agree with the event. */
    if (!ev || !json || ev->jpeg_bytes != jpeg_len || (jpeg_len && !jpeg))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pw_subscriber *sub;
    static unsigned inputs;
    if (size < 1)
        return 0;
    fuzz_quiet_logs();
    if (sub && ++inputs % 4096 == 0)
        pw_subscriber_destroy(&sub);
    if (!sub) {
        pw_subscriber_config cfg = {
            .pub_endpoint = "tcp://127.0.0.1:9", .replay_endpoint = "tcp://127.0.0.1:9",
            .allow_plain = true, .backfill_new_streams = data[0] & 2,
        };
        if (pw_subscriber_new(&cfg, on_event, NULL, &sub, NULL) != 0)
            abort();
    }
    GPtrArray *frames = fuzz_frames(data + 1, size - 1);
    pw_subscriber_handle(sub, frames, data[0] & 1);
    g_ptr_array_unref(frames);
    return 0;
}
