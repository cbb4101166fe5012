/*
 * bench_publish - publish throughput and journal-write latency.
 *
 *   bench_publish [--events N] [--dir DIR] [--jpeg BYTES] [--max-bytes BYTES]
 *
 * Measured in one run: the baseline (stamping, serialising and sending the
 * event on a bare PUB socket: the publisher's work without the journal), the publisher with the journal at
 * synchronous=NORMAL and =FULL (per-call latency p50/p99/max and events/s),
 * the journal append alone, and end-to-end delivery to a subscriber.
 * With --max-bytes the publisher runs bound their journal (journal_max_bytes)
 * and report the largest size the database and its WAL reached.
 * Results are printed as a Markdown table for docs/BENCHMARKS.md (section 5).
 */
#define _POSIX_C_SOURCE 200809L
#include "publish_internal.h"
#include "subscriber.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct {
    int events;
    char *dir;
    int jpeg;
    gint64 max_bytes; /* journal_max_bytes of the publisher runs; 0: the default */
} options;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Prints one row from per-call latencies (ms) and the total wall time (s). */
static void row(const char *name, double *lat, int n, double total_s, double baseline_rate)
{
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    double rate = n / total_s;
    printf("| %-38s | %7d | %10.0f | %7.4f | %8.4f | %8.4f | %8.3f |\n", name, n, rate,
           baseline_rate > 0 ? rate / baseline_rate : 1.0, lat[n / 2], lat[(int)(n * 0.99)],
           lat[n - 1]);
}

static pw_event sample_event(void)
{
    pw_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = PW_EVENT_VEHICLE_UPDATE;
    g_strlcpy(ev.camera, "cam1", sizeof ev.camera);
    g_strlcpy(ev.plate, "AB12CDE", sizeof ev.plate);
    g_strlcpy(ev.country, "GB", sizeof ev.country);
    ev.confidence = 0.93;
    ev.first_seen_us = ev.last_seen_us = ev.best_capture_us = g_get_real_time();
    ev.frames = 12;
    return ev;
}

/* The publisher's work without the journal: stamp, serialise, send on PUB. */
static double baseline(const options *o, double *lat)
{
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    zmq_bind(pub, "tcp://127.0.0.1:*");
    uint8_t *jpeg = g_malloc0((gsize)o->jpeg + 1);
    double t0 = pw_now_ms();
    for (int i = 0; i < o->events; i++) {
        double s = pw_now_ms();
        pw_event ev = sample_event();
        char *uuid = g_uuid_string_random();
        g_strlcpy(ev.event_id, uuid, sizeof ev.event_id);
        g_strlcpy(ev.stream_id, uuid, sizeof ev.stream_id);
        g_strlcpy(ev.instance_id, uuid, sizeof ev.instance_id);
        g_strlcpy(ev.site, "dover", sizeof ev.site);
        g_strlcpy(ev.lane, "l03", sizeof ev.lane);
        ev.seq = (uint64_t)i + 1;
        ev.published_us = g_get_real_time();
        char *json = NULL, topic[128];
        pw_event_to_json(&ev, &json, NULL);
        pw_event_topic(&ev, topic, sizeof topic);
        zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE);
        zmq_send(pub, json, strlen(json), o->jpeg ? ZMQ_SNDMORE : 0);
        if (o->jpeg)
            zmq_send(pub, jpeg, (size_t)o->jpeg, 0);
        g_free(json);
        g_free(uuid);
        lat[i] = pw_now_ms() - s;
    }
    double total = (pw_now_ms() - t0) / 1000.0;
    g_free(jpeg);
    int linger = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(pub);
    zmq_ctx_term(ctx);
    return total;
}

/* Each run starts from an empty journal, even in a reused --dir. */
static void remove_journal(const char *path)
{
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char *p = g_strconcat(path, suffix[i], NULL);
        g_unlink(p);
        g_free(p);
    }
}

static double journal_only(const options *o, bool full, double *lat, int n)
{
    char *path = g_strdup_printf("%s/bench-journal-%s.db", o->dir, full ? "full" : "normal");
    pw_journal *j = NULL;
    pw_err err;
    remove_journal(path);
    if (pw_journal_open(path, false, full, &j, &err) != 0) {
        fprintf(stderr, "bench_publish: %s\n", err.msg);
        exit(1);
    }
    uint64_t first = 0, last = 0;
    pw_journal_bounds(j, &first, &last, NULL);
    const char *json = "{\"schema_version\":1,\"kind\":\"vehicle.update\",\"padding\":\""
                       "................................................................"
                       "................................................................"
                       "................................................................\"}";
    uint8_t *jpeg = g_malloc0((gsize)o->jpeg + 1);
    double t0 = pw_now_ms();
    for (int i = 0; i < n; i++) {
        double s = pw_now_ms();
        pw_journal_append(j, last + 1 + (uint64_t)i, g_get_real_time(), "plate.dover.l03.x",
                          json, o->jpeg ? jpeg : NULL, (size_t)o->jpeg, NULL);
        lat[i] = pw_now_ms() - s;
    }
    double total = (pw_now_ms() - t0) / 1000.0;
    g_free(jpeg);
    pw_journal_close(&j);
    g_free(path);
    return total;
}

typedef struct {
    pw_subscriber *sub;
    int want;
    int got;
    double done_ms;
} sink;

static void sink_cb(const pw_event *ev, const char *json, const uint8_t *jpeg, size_t n,
                    void *user)
{
    (void)json;
    (void)jpeg;
    (void)n;
    sink *s = user;
    if (ev->seq && ++s->got == s->want) {
        s->done_ms = pw_now_ms();
        pw_subscriber_stop(s->sub);
    }
}

static gpointer sink_main(gpointer data)
{
    sink *s = data;
    while (s->got < s->want)
        if (pw_subscriber_run(s->sub, 100) < 0)
            break;
    return NULL;
}

static gint64 file_size(const char *path)
{
    GStatBuf st;
    return g_stat(path, &st) == 0 ? (gint64)st.st_size : 0;
}

/* Publishes n events; with a subscriber, also returns the end-to-end time in *e2e_s. */
static double publisher_run(const options *o, bool full, bool with_sub, double *lat, int n,
                            double *e2e_s)
{
    char *path = g_strdup_printf("%s/bench-pub-%s-%d.db", o->dir, full ? "full" : "normal",
                                 with_sub);
    pw_publisher_config cfg = {
        .site = "dover", .lane = "l03", .pub_endpoint = "tcp://127.0.0.1:*",
        .replay_endpoint = "tcp://127.0.0.1:*", .journal_path = path,
        .journal_sync_normal = !full, .allow_plain = true, .journal_max_bytes = o->max_bytes,
    };
    pw_publisher *pub = NULL;
    pw_err err;
    remove_journal(path);
    if (pw_publisher_new(&cfg, &pub, &err) != 0) {
        fprintf(stderr, "bench_publish: %s\n", err.msg);
        exit(1);
    }
    sink s = {NULL, n, 0, 0};
    GThread *t = NULL;
    if (with_sub) {
        pw_subscriber_config sc = {
            .pub_endpoint = pw_publisher_endpoint(pub, "pub"),
            .replay_endpoint = pw_publisher_endpoint(pub, "replay"), .allow_plain = true,
            .backfill_new_streams = true,
        };
        pw_subscriber_new(&sc, sink_cb, &s, &s.sub, NULL);
        t = g_thread_new("sink", sink_main, &s);
        g_usleep(300000);   /* let the subscription reach the publisher */
    }
    uint8_t *jpeg = g_malloc0((gsize)o->jpeg + 1);
    char *wal = g_strconcat(path, "-wal", NULL);
    gint64 largest = 0;
    double t0 = pw_now_ms();
    for (int i = 0; i < n; i++) {
        pw_event ev = sample_event();
        double st = pw_now_ms();
        pw_publisher_publish(pub, &ev, o->jpeg ? jpeg : NULL, (size_t)o->jpeg, NULL);
        lat[i] = pw_now_ms() - st;
        if (o->max_bytes)
            largest = MAX(largest, file_size(path) + file_size(wal));
    }
    double total = (pw_now_ms() - t0) / 1000.0;
    if (o->max_bytes)
        fprintf(stderr, "%s journal: largest database + WAL %" G_GINT64_FORMAT " bytes = %.3f of --max-bytes\n",
                full ? "FULL" : "NORMAL", largest, (double)largest / (double)o->max_bytes);
    g_free(wal);
    if (t) {
        g_thread_join(t);
        *e2e_s = (s.done_ms - t0) / 1000.0;
        pw_subscriber_destroy(&s.sub);
    }
    g_free(jpeg);
    pw_publisher_destroy(&pub);
    g_free(path);
    return total;
}

int main(int argc, char **argv)
{
    options o = {.events = 20000, .jpeg = 0};
    GOptionEntry entries[] = {
        {"events", 'n', 0, G_OPTION_ARG_INT, &o.events, "events per NORMAL run (FULL: n/10)", "N"},
        {"dir", 'd', 0, G_OPTION_ARG_FILENAME, &o.dir, "journal directory (a real disk)", "DIR"},
        {"jpeg", 'j', 0, G_OPTION_ARG_INT, &o.jpeg, "JPEG crop bytes per event", "BYTES"},
        {"max-bytes", 'm', 0, G_OPTION_ARG_INT64, &o.max_bytes, "journal_max_bytes of the publisher runs", "BYTES"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- publish throughput and journal latency");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr) || o.events < 100 || o.jpeg < 0 || o.max_bytes < 0) {
        fprintf(stderr, "bench_publish: %s\n", gerr ? gerr->message : "need --events >= 100");
        return 2;
    }
    g_option_context_free(ctx);
    bool own_dir = !o.dir;
    if (own_dir)
        o.dir = g_dir_make_tmp("pwbench-XXXXXX", NULL);
    int n = o.events, nf = o.events / 10;
    double *lat = g_new(double, (gsize)n);
    double e2e = 0;
    printf("events %d (FULL runs %d), JPEG %d bytes, journal dir %s\n\n", n, nf, o.jpeg, o.dir);
    printf("| %-38s | %7s | %10s | %7s | %8s | %8s | %8s |\n", "run", "events", "events/s",
           "ratio", "p50 ms", "p99 ms", "max ms");
    printf("|%s|---:|---:|---:|---:|---:|---:|\n", "----------------------------------------");
    double base = baseline(&o, lat);
    double base_rate = n / base;
    row("baseline: serialise + PUB, no journal", lat, n, base, 0);
    row("journal append, synchronous=NORMAL", lat, n, journal_only(&o, false, lat, n), base_rate);
    row("journal append, synchronous=FULL", lat, nf, journal_only(&o, true, lat, nf), base_rate);
    row("publish (journal NORMAL + PUB)", lat, n, publisher_run(&o, false, false, lat, n, &e2e),
        base_rate);
    row("publish (journal FULL + PUB)", lat, nf, publisher_run(&o, true, false, lat, nf, &e2e),
        base_rate);
    publisher_run(&o, false, true, lat, n, &e2e);
    printf("\nend to end (NORMAL, one subscriber, backfill): %d events delivered in order in "
           "%.3f s = %.0f events/s\n", n, e2e, n / e2e);
    g_free(lat);
    if (own_dir) {
        char *rm[] = {"rm", "-rf", o.dir, NULL};
        g_spawn_sync(NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    }
    g_free(o.dir);
    return 0;
}
