/*
 * daemon.h - the lane daemon's runtime: for each [lane] of the
 * configuration, a publisher (journal, PUB, replay) and a lane pipeline
 * whose vehicle events it publishes; periodic stats; reload and drain.
 *
 * Ownership: pw_daemon_new() keeps the loaded configuration; each running
 * lane holds a reference to the configuration it was built from, so a
 * reload that keeps a lane keeps its old settings alive. pw_daemon_destroy()
 * drains every lane, closes every publisher (syncing its journal) and frees
 * everything, nulling the pointer. All calls belong to the main thread.
 */
#ifndef PW_DAEMON_H
#define PW_DAEMON_H

#include "daemon_config.h"
#include "publish.h"
#include "pw_common.h"

#include <glib.h>
#include <stdbool.h>

typedef struct pw_daemon pw_daemon;

/* Loads the configuration; creates nothing yet. */
int pw_daemon_new(const char *config_path, pw_daemon **out, pw_err *err);

/*
 * Opens publishers and makes every lane's pipeline; fails (err names the
 * lane) if a publisher or a pipeline cannot be made. Each lane's source is
 * started on a thread of its own: one that cannot start (a camera down, a
 * missing file) is logged, reported as "retrying" in the stats events and
 * retried with the capture's backoff while the other lanes run.
 */
int pw_daemon_start(pw_daemon *d, pw_err *err);

/* Remakes lanes whose source failed for good; called periodically by the main loop. */
void pw_daemon_tick(pw_daemon *d);

/*
 * Re-reads the configuration file. Lanes whose group changed, appeared or
 * disappeared are stopped (drained) and started anew; the others keep
 * running. A bad file leaves everything as it was and returns its error.
 */
int pw_daemon_reload(pw_daemon *d, pw_err *err);

/* Publishes one stats event per lane. */
void pw_daemon_publish_stats(pw_daemon *d);

/* 1 when every lane has finished (all recordings ended). */
int pw_daemon_all_finished(pw_daemon *d);

/* Interval of stats events from the configuration, in seconds. */
int pw_daemon_stats_interval(const pw_daemon *d);

/*
 * Drains every lane: capture stops, queued crops are read, FINALs are
 * published. A lane still starting gives up after its current attempt
 * (at most its start_timeout_ms).
 */
void pw_daemon_stop(pw_daemon *d);

void pw_daemon_destroy(pw_daemon **d);

/* ---- daemon_metrics.c: /metrics and /healthz (docs/metrics.md) ---- */

/* One running lane as the metrics see it (borrowed for the callback). */
typedef struct {
    const pw_daemon_lane *dl;
    pw_lane *lane;
    pw_publisher *pub;
    uint64_t events[PW_EVENT_VEHICLE_FINAL + 1];   /* vehicle events by pw_event_kind */
    uint64_t publish_failures;                      /* events the journal refused */
} pw_daemon_lane_view;

typedef void (*pw_daemon_lane_cb)(const pw_daemon_lane_view *v, void *user);
void pw_daemon_foreach_lane(pw_daemon *d, pw_daemon_lane_cb cb, void *user);

/* The [metrics] listen address of the configuration, or NULL when off. */
const char *pw_daemon_metrics_listen(const pw_daemon *d);

/* Every running lane's metrics in the Prometheus text format. */
void pw_daemon_metrics(pw_daemon *d, GString *out);
/*
 * true when every lane had a frame within its stall timeout; otherwise
 * false with the lanes that did not named in why.
 */
bool pw_daemon_healthy(pw_daemon *d, GString *why);

/*
 * The HTTP server of /metrics and /healthz on the thread-default main
 * context (the daemon's main loop). Opaque; destroy accepts NULL and
 * nulls the pointer.
 */
typedef struct pw_daemon_http pw_daemon_http;
int pw_daemon_http_new(pw_daemon *d, const char *listen, pw_daemon_http **out, pw_err *err);
int pw_daemon_http_port(const pw_daemon_http *h);
void pw_daemon_http_destroy(pw_daemon_http **h);

#endif
