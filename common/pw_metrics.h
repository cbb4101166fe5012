/*
 * pw_metrics.h - Prometheus text exposition (version 0.0.4) for the
 * programs' /metrics pages: a fixed-bucket latency histogram, writers for
 * the HELP/TYPE lines and samples, and the listen address both HTTP
 * servers take. docs/metrics.md lists the names.
 *
 * Ownership: a pw_histogram is a plain struct owned by whoever embeds it;
 * writers append to the caller's GString; pw_listen_parse()'s address is the
 * caller's (g_object_unref).
 *
 * Threads: none of these lock; the owner of a histogram serialises its
 * updates and copies.
 */
#ifndef PW_METRICS_H
#define PW_METRICS_H

#include <gio/gio.h>
#include <glib.h>
#include <stdint.h>

#include "pw_common.h"

/* Latency bucket upper bounds in seconds, 0.5 ms to 10 s (and +Inf). */
#define PW_HIST_BUCKETS 14

typedef struct {
    uint64_t bucket[PW_HIST_BUCKETS + 1];   /* non-cumulative; the last is +Inf */
    uint64_t count;
    double sum;                             /* seconds */
} pw_histogram;

void pw_histogram_observe(pw_histogram *h, double seconds);

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void pw_prom_family(GString *out, const char *name, const char *type, const char *help);
/* One sample; labels is "" or e.g. "lane=\"l03\"" (values already escaped). */
void pw_prom_sample(GString *out, const char *name, const char *labels, double value);
/* A histogram's _bucket (cumulative, le="..."), _sum and _count samples. */
void pw_prom_histogram(GString *out, const char *name, const char *labels,
                       const pw_histogram *h);
/*
 * The socket address of a listen setting "ADDRESS:PORT" ("[v6]:PORT" for
 * IPv6; port 0 = any), with a literal IP address: a name is refused so that
 * what is bound is what the file says. *loopback (may be NULL) tells whether
 * the address is a loopback one. PW_ECONFIG with err naming the value.
 */
int pw_listen_parse(const char *listen, GSocketAddress **out, int *loopback, pw_err *err);

/* A label value escaped for the exposition format (backslash, quote, newline); g_free. */
char *pw_prom_escape(const char *value);

#endif
