/*
 * track_sink.h - the tracker suites' event sink: a pw_track_emit callback
 * that copies up to 32 events into a sink, for the tests to inspect.
 */
#ifndef PW_TEST_TRACK_SINK_H
#define PW_TEST_TRACK_SINK_H

#include <criterion/criterion.h>

#include "track.h"

typedef struct {
    pw_track_event ev[32];
    int n;
} sink;

static inline void collect(const pw_track_event *ev, void *user)
{
    sink *s = user;
    cr_assert_lt(s->n, 32);
    s->ev[s->n] = *ev;
    s->ev[s->n].jpeg = NULL; /* borrowed: not kept past the call */
    s->n++;
}

#endif
