/*
 * fuzz_event.c - libFuzzer target for the event parser every subscriber and
 * lane controller runs on bytes from the network: pw_event_from_json() must
 * accept or refuse any input with a reason, never crash or leak, and what it
 * accepts must serialise again.
 */
#include <stdint.h>
#include <stdlib.h>

#include <glib.h>

#include "publish.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pw_event ev;
    pw_err err;
    pw_err_clear(&err);
    int rc = pw_event_from_json((const char *)data, size, &ev, &err);
    if (rc == 0) {
        char *json = NULL;
        /* Stats and heartbeats are built by the publisher; vehicle events must round-trip. */
        if (ev.kind >= PW_EVENT_VEHICLE_NEW && ev.kind <= PW_EVENT_VEHICLE_FINAL &&
            pw_event_to_json(&ev, &json, &err) != 0)
            abort();
        g_free(json);
        pw_event_clear(&ev);
    } else if (!err.msg[0]) {
        abort(); /* a refusal always says why */
    }
    return 0;
}
