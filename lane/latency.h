/*
 * latency.h - recent latency samples of one pipeline stage, for p50/p95/p99
 * in stats, and a histogram of all of them for /metrics. Internal to lane/. A fixed window of the latest samples keeps
 * memory constant over months of running.
 *
 * Ownership: embedded by value in its owner; pw_latency_init() and
 * pw_latency_clear() bracket its life. Thread-safe.
 */
#ifndef PW_LANE_LATENCY_H
#define PW_LANE_LATENCY_H

#include <glib.h>
#include <stdint.h>

#include "pw_metrics.h"

#define PW_LATENCY_WINDOW 1024

typedef struct {
    GMutex lock;
    double samples[PW_LATENCY_WINDOW];
    size_t next;
    uint64_t total;
    pw_histogram hist;          /* every sample since start, for /metrics */
} pw_latency;

void pw_latency_init(pw_latency *l);
void pw_latency_clear(pw_latency *l);
void pw_latency_add(pw_latency *l, double ms);
/* Percentiles of the window; zeros when there is no sample yet. */
void pw_latency_summary(pw_latency *l, double *p50, double *p95, double *p99, uint64_t *total);
/* Every sample since start as a histogram in seconds. */
void pw_latency_histogram(pw_latency *l, pw_histogram *out);

#endif
