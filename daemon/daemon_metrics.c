/*
 * daemon_metrics.c - platewatchd's /metrics (Prometheus text format, one
 * series per lane) and /healthz (every lane had a frame within its stall
 * timeout), served by libsoup on the daemon's main loop when [metrics]
 * listen is set. docs/metrics.md lists every name.
 */
#define _POSIX_C_SOURCE 200809L
#include "daemon.h"

#include <errno.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/stat.h>

#include "pw_metrics.h"

static double file_size(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 ? (double)st.st_size : 0.0;
}

/* The journal's SQLite file with its write-ahead log. */
static double journal_bytes(const char *path)
{
    char *wal = g_strconcat(path, "-wal", NULL);
    double n = file_size(path) + file_size(wal);
    g_free(wal);
    return n;
}

typedef enum { COUNTER, GAUGE, HISTOGRAM } kind;

typedef struct {
    const char *name, *help;
    kind type;
} family;

/* The families in the order they are written; index = enum below. */
enum {
    M_FRAMES, M_DROPPED, M_OCR, M_E2E, M_EVENTS, M_VEHICLES, M_PUBLISHED, M_PUBLISH_FAIL,
    M_JOURNAL, M_REPLAY, M_SUBSCRIBERS, M_STATE, M_RESTARTS, M_FRAME_AGE, M_QUEUE, M_COUNT
};

static const family families[M_COUNT] = {
    [M_FRAMES] = {"platewatch_lane_frames_total", "Frames the lane's capture produced.", COUNTER},
    [M_DROPPED] = {"platewatch_lane_frames_dropped_total",
                   "Frames dropped, by stage (capture: the localiser behind; ocr: the OCR queue full).",
                   COUNTER},
    [M_OCR] = {"platewatch_lane_ocr_latency_seconds", "OCR of one frame's candidate crops.", HISTOGRAM},
    [M_E2E] = {"platewatch_lane_capture_to_event_latency_seconds",
               "From a frame's capture to the vehicle.new or vehicle.update it produced.", HISTOGRAM},
    [M_EVENTS] = {"platewatch_lane_events_total", "Vehicle events emitted, by kind.", COUNTER},
    [M_VEHICLES] = {"platewatch_lane_vehicles_total", "Vehicles seen (vehicle.final events).", COUNTER},
    [M_PUBLISHED] = {"platewatch_lane_events_published_total", "Vehicle events journalled and sent.",
                     COUNTER},
    [M_PUBLISH_FAIL] = {"platewatch_lane_publish_failures_total",
                        "Events the journal refused or ZeroMQ would not send.", COUNTER},
    [M_JOURNAL] = {"platewatch_lane_journal_size_bytes", "The lane's journal file and its write-ahead log.",
                   GAUGE},
    [M_REPLAY] = {"platewatch_lane_replay_requests_total", "Replay requests answered.", COUNTER},
    [M_SUBSCRIBERS] = {"platewatch_lane_subscribers",
                       "Connections to the lane's PUB socket open now.", GAUGE},
    [M_STATE] = {"platewatch_lane_camera_state", "1 for the capture source's current state.", GAUGE},
    [M_RESTARTS] = {"platewatch_lane_camera_restarts_total", "Restarts of the capture source.", COUNTER},
    [M_FRAME_AGE] = {"platewatch_lane_last_frame_age_seconds",
                     "Time since the localiser last got a frame (-1 before the first).", GAUGE},
    [M_QUEUE] = {"platewatch_lane_ocr_queue_depth", "Frames waiting for OCR.", GAUGE},
};

typedef struct {
    GString *out[M_COUNT];    /* one buffer per family, so that each family is contiguous */
} render;

static void lane_metrics(const pw_daemon_lane_view *v, void *user)
{
    render *r = user;
    pw_lane_counters lc;
    pw_lane_get_stats(v->lane, &lc);
    pw_publisher_counters pc;
    pw_publisher_get_counters(v->pub, &pc);
    char *esc = pw_prom_escape(v->dl->lane.name);
    char *l = g_strdup_printf("lane=\"%s\"", esc), lab[256];
    pw_prom_sample(r->out[M_FRAMES], families[M_FRAMES].name, l, (double)lc.frames_in);
    g_snprintf(lab, sizeof lab, "%s,stage=\"capture\"", l);
    pw_prom_sample(r->out[M_DROPPED], families[M_DROPPED].name, lab, (double)lc.capture_dropped);
    g_snprintf(lab, sizeof lab, "%s,stage=\"ocr\"", l);
    pw_prom_sample(r->out[M_DROPPED], families[M_DROPPED].name, lab, (double)lc.ocr_dropped);
    pw_prom_histogram(r->out[M_OCR], families[M_OCR].name, l, &lc.ocr_hist);
    pw_prom_histogram(r->out[M_E2E], families[M_E2E].name, l, &lc.event_hist);
    static const char *const kinds[] = {NULL, "vehicle.new", "vehicle.update", "vehicle.final"};
    for (int k = PW_EVENT_VEHICLE_NEW; k <= PW_EVENT_VEHICLE_FINAL; k++) {
        g_snprintf(lab, sizeof lab, "%s,kind=\"%s\"", l, kinds[k]);
        pw_prom_sample(r->out[M_EVENTS], families[M_EVENTS].name, lab, (double)v->events[k]);
    }
    pw_prom_sample(r->out[M_VEHICLES], families[M_VEHICLES].name, l,
                   (double)v->events[PW_EVENT_VEHICLE_FINAL]);
    pw_prom_sample(r->out[M_PUBLISHED], families[M_PUBLISHED].name, l, (double)pc.published);
    pw_prom_sample(r->out[M_PUBLISH_FAIL], families[M_PUBLISH_FAIL].name, l,
                   (double)(pc.send_failures + v->publish_failures));
    pw_prom_sample(r->out[M_JOURNAL], families[M_JOURNAL].name, l, journal_bytes(v->dl->journal));
    pw_prom_sample(r->out[M_REPLAY], families[M_REPLAY].name, l, (double)pc.replay_requests);
    pw_prom_sample(r->out[M_SUBSCRIBERS], families[M_SUBSCRIBERS].name, l, (double)pc.subscribers);
    char *state = pw_prom_escape(lc.capture_state);
    g_snprintf(lab, sizeof lab, "%s,state=\"%s\"", l, state);
    pw_prom_sample(r->out[M_STATE], families[M_STATE].name, lab, 1);
    g_free(state);
    pw_prom_sample(r->out[M_RESTARTS], families[M_RESTARTS].name, l, (double)lc.reconnects);
    double age = lc.last_frame_us ? (double)(g_get_monotonic_time() - lc.last_frame_us) / G_USEC_PER_SEC
                                  : -1.0;
    pw_prom_sample(r->out[M_FRAME_AGE], families[M_FRAME_AGE].name, l, age);
    pw_prom_sample(r->out[M_QUEUE], families[M_QUEUE].name, l, (double)lc.ocr_queue_depth);
    g_free(l);
    g_free(esc);
}

void pw_daemon_metrics(pw_daemon *d, GString *out)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    render r;
    for (int i = 0; i < M_COUNT; i++)
        r.out[i] = g_string_new(NULL);
    pw_daemon_foreach_lane(d, lane_metrics, &r);
    for (int i = 0; i < M_COUNT; i++) {
        pw_prom_family(out, families[i].name, types[families[i].type], families[i].help);
        g_string_append_len(out, r.out[i]->str, (gssize)r.out[i]->len);
        g_string_free(r.out[i], TRUE);
    }
}

typedef struct {
    GString *why;
    bool ok;
    int lanes;
} health;

static void lane_health(const pw_daemon_lane_view *v, void *user)
{
    health *h = user;
    pw_lane_counters lc;
    pw_lane_get_stats(v->lane, &lc);
    int64_t limit = (int64_t)v->dl->lane.capture.stall_timeout_ms * 1000;
    int64_t age = lc.last_frame_us ? g_get_monotonic_time() - lc.last_frame_us : -1;
    h->lanes++;
    if (age >= 0 && age <= limit)
        return;
    h->ok = false;
    if (age < 0)
        g_string_append_printf(h->why, "lane %s: no frame yet (camera %s)\n", v->dl->lane.name, lc.capture_state);
    else
        g_string_append_printf(h->why, "lane %s: no frame for %.1f s (stall timeout %.1f s, camera %s)\n",
                               v->dl->lane.name, (double)age / G_USEC_PER_SEC, (double)limit / G_USEC_PER_SEC,
                               lc.capture_state);
}

bool pw_daemon_healthy(pw_daemon *d, GString *why)
{
    health h = {why, true, 0};
    pw_daemon_foreach_lane(d, lane_health, &h);
    if (h.lanes == 0) {
        g_string_append(why, "no lane is running\n");
        return false;
    }
    return h.ok;
}

/* ---- the HTTP server ---- */

struct pw_daemon_http {
    pw_daemon *daemon;
    SoupServer *server;
    int port;
};

static void reply(SoupServerMessage *msg, unsigned status, const char *type, const GString *body)
{
    soup_server_message_set_status(msg, status, NULL);
    soup_server_message_set_response(msg, type, SOUP_MEMORY_COPY, body->str, body->len);
}

static void handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                    gpointer user)
{
    (void)server;
    (void)query;
    pw_daemon_http *h = user;
    GString *body = g_string_new(NULL);
    if (strcmp(soup_server_message_get_method(msg), "GET") != 0) {
        g_string_assign(body, "GET only\n");
        reply(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/plain", body);
    } else if (strcmp(path, "/metrics") == 0) {
        pw_daemon_metrics(h->daemon, body);
        reply(msg, SOUP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", body);
    } else if (strcmp(path, "/healthz") == 0) {
        bool ok = pw_daemon_healthy(h->daemon, body);
        if (ok)
            g_string_assign(body, "ok\n");
        reply(msg, ok ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE, "text/plain", body);
    } else {
        g_string_assign(body, "no such page: /metrics and /healthz\n");
        reply(msg, SOUP_STATUS_NOT_FOUND, "text/plain", body);
    }
    g_string_free(body, TRUE);
}

/* Refuses any request body unread: nothing here takes one. */
static void early(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                  gpointer user)
{
    (void)server;
    (void)path;
    (void)query;
    (void)user;
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    if (soup_message_headers_get_encoding(h) == SOUP_ENCODING_CHUNKED ||
        soup_message_headers_get_content_length(h) > 0)
        soup_server_message_set_status(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
}

int pw_daemon_http_new(pw_daemon *d, const char *listen, pw_daemon_http **out, pw_err *err)
{
    *out = NULL;
    GSocketAddress *sa = NULL;
    int rc = pw_listen_parse(listen, &sa, NULL, err);
    if (rc)
        return rc;
    pw_daemon_http *h = g_new0(pw_daemon_http, 1);
    h->daemon = d;
    h->server = soup_server_new("server-header", "platewatchd", NULL);
    soup_server_add_early_handler(h->server, NULL, early, h, NULL);
    soup_server_add_handler(h->server, NULL, handler, h, NULL);
    GError *gerr = NULL;
    if (!soup_server_listen(h->server, sa, 0, &gerr)) {
        rc = pw_err_set(err, -EADDRINUSE, "[metrics] cannot listen on %s: %s", listen, gerr->message);
        g_error_free(gerr);
        g_object_unref(sa);
        pw_daemon_http_destroy(&h);
        return rc;
    }
    g_object_unref(sa);
    GSList *uris = soup_server_get_uris(h->server);
    h->port = uris ? g_uri_get_port(uris->data) : 0;
    g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
    *out = h;
    return 0;
}

int pw_daemon_http_port(const pw_daemon_http *h)
{
    return h->port;
}

void pw_daemon_http_destroy(pw_daemon_http **hp)
{
    if (!hp || !*hp)
        return;
    pw_daemon_http *h = *hp;
    if (h->server)
        soup_server_disconnect(h->server);
    g_clear_object(&h->server);
    g_free(h);
    *hp = NULL;
}
