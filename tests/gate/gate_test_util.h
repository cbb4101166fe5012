/*
 * gate_test_util.h - helpers shared by the tests/gate/ suites: temporary
 * stores, declarations and event JSON in the publisher's wire form.
 */
#ifndef PW_GATE_TEST_UTIL_H
#define PW_GATE_TEST_UTIL_H

#include "gate_internal.h"

/* A fresh temporary directory (g_free; removed by gt_rmdir). */
char *gt_tmpdir(void);
void gt_rmdir(char *dir);

/* A fixed "now" for decision tests: 2025-03-01T12:00:00Z. */
#define GT_NOW_US (INT64_C(1740830400) * G_USEC_PER_SEC)
#define GT_HOUR_US (INT64_C(3600) * G_USEC_PER_SEC)

/* Adds a declaration valid now +- 2 hours; lane/country/trailer may be NULL. */
void gt_add(pw_declstore *st, const char *ref, const char *vehicle, const char *trailer,
            const char *country, const char *lane);

typedef struct {
    const char *kind;         /* NULL = "vehicle.new" */
    const char *event_id;     /* NULL = random */
    const char *stream_id;    /* NULL = a fixed test stream */
    uint64_t seq;             /* 0 = 1 */
    const char *site;         /* NULL = "dover" */
    const char *lane;         /* NULL = "l03" */
    const char *camera;       /* NULL = "cam1" */
    const char *plate;
    double confidence;        /* 0 = 0.9 */
    const char *country;      /* NULL = "GB" */
    int64_t first_seen_us;    /* 0 = GT_NOW_US */
    const char *alt;          /* optional one alternative */
} gt_event;

/* The event as JSON (g_free), with every member the publisher writes. */
char *gt_event_json(const gt_event *e);

#define GT_STREAM "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab"

#endif
