/*
 * test_pubsub.c - publisher and subscriber over real loopback sockets:
 * delivery in order, replay of what a subscriber missed (late join, HWM
 * drops), sequence continuity across reopen, malformed input, port in use.
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"
#include "publish_internal.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <string.h>
#include <sqlite3.h>
#include <zmq.h>

typedef struct {
    char *dir;
    char *journal;
    pw_publisher *pub;
} fixture;

static void fixture_open(fixture *f, int sndhwm)
{
    f->dir = tmp_dir();
    f->journal = g_build_filename(f->dir, "journal.db", NULL);
    pw_publisher_config cfg = plain_pub_config(f->journal);
    cfg.sndhwm = sndhwm;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_publisher_new(&cfg, &f->pub, &err), 0, "%s", err.msg);
}

static void fixture_close(fixture *f)
{
    pw_publisher_destroy(&f->pub);
    cr_assert_null(f->pub);
    rm_tree(f->dir);
    g_free(f->dir);
    g_free(f->journal);
}

static void publish_n(pw_publisher *pub, int n)
{
    for (int i = 0; i < n; i++) {
        pw_event ev = make_event(i % 3 + 1, "AB12CDE");
        pw_err err;
        pw_err_clear(&err);
        cr_assert_eq(pw_publisher_publish(pub, &ev, NULL, 0, &err), 0, "%s", err.msg);
    }
}

static pw_subscriber *subscribe(fixture *f, collector *c, bool backfill)
{
    pw_subscriber_config cfg = plain_sub_config(pw_publisher_endpoint(f->pub, "pub"),
                                                pw_publisher_endpoint(f->pub, "replay"));
    cfg.backfill_new_streams = backfill;
    pw_subscriber *sub = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_subscriber_new(&cfg, collector_cb, c, &sub, &err), 0, "%s", err.msg);
    return sub;
}

Test(pubsub, live_in_order, .timeout = 60)
{
    fixture f;
    collector c;
    fixture_open(&f, 0);
    collector_init(&c);
    pw_subscriber *sub = subscribe(&f, &c, false);
    run_until_heartbeat(sub, &c, 10000);
    publish_n(f.pub, 300);
    run_until_count(sub, &c, 300, 20000);
    cr_expect(collector_is_sequence(&c, 300), "got %u events", c.seqs->len);
    pw_subscriber_counters sc;
    pw_subscriber_get_counters(sub, &sc);
    cr_expect_eq(sc.duplicates, 0);
    cr_expect_eq(sc.malformed, 0);
    cr_expect_str_eq(c.stream_id, pw_publisher_stream_id(f.pub));
    pw_subscriber_destroy(&sub);
    cr_expect_null(sub);
    pw_subscriber_destroy(NULL);
    collector_clear(&c);
    fixture_close(&f);
}

Test(pubsub, late_joiner_backfills_through_replay, .timeout = 60)
{
    fixture f;
    collector c;
    fixture_open(&f, 0);
    collector_init(&c);
    publish_n(f.pub, 120);
    pw_subscriber *sub = subscribe(&f, &c, true);
    run_until_heartbeat(sub, &c, 10000);
    publish_n(f.pub, 80);
    run_until_count(sub, &c, 200, 20000);
    cr_expect(collector_is_sequence(&c, 200), "got %u events", c.seqs->len);
    pw_subscriber_counters sc;
    pw_subscriber_get_counters(sub, &sc);
    cr_expect_geq(sc.replayed, 120);
    cr_expect_geq(sc.gaps, 1);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    fixture_close(&f);
}

/* A tiny high-water mark makes PUB drop most of a burst: replay must fill in. */
Test(pubsub, hwm_drops_are_replayed, .timeout = 90)
{
    fixture f;
    collector c;
    fixture_open(&f, 5);
    collector_init(&c);
    pw_subscriber *sub = subscribe(&f, &c, false);
    run_until_heartbeat(sub, &c, 10000);
    publish_n(f.pub, 3000);
    run_until_count(sub, &c, 3000, 60000);
    cr_expect(collector_is_sequence(&c, 3000), "got %u events", c.seqs->len);
    pw_subscriber_counters sc;
    pw_subscriber_get_counters(sub, &sc);
    cr_expect_eq(sc.live + sc.replayed, 3000);
    cr_log_info("hwm: live %" G_GUINT64_FORMAT " replayed %" G_GUINT64_FORMAT " gaps %"
                G_GUINT64_FORMAT, sc.live, sc.replayed, sc.gaps);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    fixture_close(&f);
}

Test(pubsub, resume_skips_what_was_processed, .timeout = 60)
{
    fixture f;
    collector c;
    fixture_open(&f, 0);
    collector_init(&c);
    publish_n(f.pub, 50);
    pw_subscriber *sub = subscribe(&f, &c, false);
    cr_assert_eq(pw_subscriber_resume(sub, pw_publisher_stream_id(f.pub), 30), 0);
    cr_assert_eq(pw_subscriber_resume(sub, "not-a-uuid", 3), -EINVAL);
    run_until_count(sub, &c, 20, 20000);
    cr_assert_eq(c.seqs->len, 20);
    for (guint i = 0; i < 20; i++)
        cr_expect_eq(g_array_index(c.seqs, uint64_t, i), 31 + i);
    cr_expect_eq(pw_subscriber_position(sub, pw_publisher_stream_id(f.pub)), 50);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    fixture_close(&f);
}

Test(pubsub, sequence_continues_after_reopen, .timeout = 60)
{
    fixture f;
    fixture_open(&f, 0);
    publish_n(f.pub, 7);
    char *stream = g_strdup(pw_publisher_stream_id(f.pub));
    pw_publisher_destroy(&f.pub);
    pw_publisher_config cfg = plain_pub_config(f.journal);
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_publisher_new(&cfg, &f.pub, &err), 0, "%s", err.msg);
    cr_expect_str_eq(pw_publisher_stream_id(f.pub), stream);
    pw_event ev = make_event(PW_EVENT_VEHICLE_FINAL, "XY99ZZZ");
    cr_assert_eq(pw_publisher_publish(f.pub, &ev, NULL, 0, &err), 0, "%s", err.msg);
    cr_expect_eq(ev.seq, 8);
    cr_expect_str_eq(ev.stream_id, stream);
    g_free(stream);
    fixture_close(&f);
}

Test(pubsub, jpeg_crop_travels_and_replays, .timeout = 60)
{
    fixture f;
    collector c;
    fixture_open(&f, 0);
    collector_init(&c);
    uint8_t jpeg[1000];
    for (size_t i = 0; i < sizeof jpeg; i++)
        jpeg[i] = (uint8_t)i;
    pw_event ev = make_event(PW_EVENT_VEHICLE_NEW, "JP3GCR0P");
    cr_assert_eq(pw_publisher_publish(f.pub, &ev, jpeg, sizeof jpeg, NULL), 0);
    cr_expect_eq(ev.jpeg_bytes, sizeof jpeg);
    pw_subscriber *sub = subscribe(&f, &c, true);
    run_until_count(sub, &c, 1, 20000);
    cr_assert_eq(c.seqs->len, 1);
    cr_expect_eq(c.jpeg_total, sizeof jpeg);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    fixture_close(&f);
}

Test(pubsub, port_in_use_is_a_clear_error, .timeout = 30)
{
    fixture f;
    fixture_open(&f, 0);
    char *journal2 = g_build_filename(f.dir, "other.db", NULL);
    pw_publisher_config cfg = plain_pub_config(journal2);
    cfg.pub_endpoint = pw_publisher_endpoint(f.pub, "pub");
    pw_publisher *second = NULL;
    pw_err err;
    pw_err_clear(&err);
    int rc = pw_publisher_new(&cfg, &second, &err);
    cr_expect_eq(rc, -EADDRINUSE, "rc %d (%s)", rc, pw_strerror(rc));
    cr_expect_null(second);
    cr_expect(strstr(err.msg, cfg.pub_endpoint) != NULL, "message: %s", err.msg);
    cr_expect(strstr(err.msg, "PUB") != NULL, "message: %s", err.msg);
    g_free(journal2);
    fixture_close(&f);
}

Test(pubsub, config_errors_are_named, .timeout = 30)
{
    char *dir = tmp_dir();
    char *journal = g_build_filename(dir, "j.db", NULL);
    pw_publisher_config cfg = plain_pub_config(journal);
    pw_publisher *p = NULL;
    pw_err err;
    cfg.lane = "lane.3";
    cr_expect_eq(pw_publisher_new(&cfg, &p, &err), PW_ECONFIG);
    cr_expect(strstr(err.msg, "lane.3") != NULL, "%s", err.msg);
    cfg.lane = "l03";
    cfg.allow_plain = false;
    cr_expect_eq(pw_publisher_new(&cfg, &p, &err), PW_ECONFIG);
    cr_expect(strstr(err.msg, "plain TCP") != NULL, "%s", err.msg);
    cfg.allow_plain = true;
    cfg.journal_path = "/nonexistent-dir/j.db";
    cr_expect_eq(pw_publisher_new(&cfg, &p, &err), PW_EJOURNAL);
    cr_expect(strstr(err.msg, "/nonexistent-dir/j.db") != NULL, "%s", err.msg);
    cr_expect_null(p);
    rm_tree(dir);
    g_free(dir);
    g_free(journal);
}

/* A plain PUB of the test's own on a loopback port, and a subscriber to it without replay. */
static pw_subscriber *rogue_pub_and_subscriber(void *ctx, collector *c, void **rogue)
{
    *rogue = zmq_socket(ctx, ZMQ_PUB);
    cr_assert_eq(zmq_bind(*rogue, "tcp://127.0.0.1:*"), 0);
    char ep[256];
    size_t n = sizeof ep;
    zmq_getsockopt(*rogue, ZMQ_LAST_ENDPOINT, ep, &n);
    pw_subscriber_config cfg = plain_sub_config(ep, NULL);
    pw_subscriber *sub = NULL;
    cr_assert_eq(pw_subscriber_new(&cfg, collector_cb, c, &sub, NULL), 0);
    return sub;
}

/* A rogue plain PUB sends garbage: every message is counted, none delivered. */
Test(pubsub, malformed_messages_are_counted_not_fatal, .timeout = 60)
{
    void *ctx = zmq_ctx_new();
    void *rogue = NULL;
    collector c;
    collector_init(&c);
    pw_subscriber *sub = rogue_pub_and_subscriber(ctx, &c, &rogue);
    /* Wait for the subscription to reach the PUB before sending. */
    pw_subscriber_counters sc = {0};
    const char *bad[][3] = {
        {"plate.x", NULL, NULL},                                /* one frame */
        {"plate.dover.l03.vehicle.new", "not json", NULL},
        {"plate.dover.l03.vehicle.new", "[1,2]", NULL},
        {"plate.dover.l03.vehicle.new", "{\"schema_version\":1}", NULL},
        {"plate.dover.l03.vehicle.new", "{\"schema_version\":99,\"kind\":\"vehicle.new\"}", NULL},
        {"plate.dover.l03.heartbeat", "{\"schema_version\":1,\"kind\":\"heartbeat\","
         "\"stream_id\":\"x\"}", NULL},
        {"plate.a.b.c", "{}", "x"},
    };
    int nbad = (int)G_N_ELEMENTS(bad);
    int64_t end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (sc.malformed < (uint64_t)nbad && g_get_monotonic_time() < end) {
        for (int i = 0; i < nbad; i++) {
            int frames = bad[i][2] ? 3 : bad[i][1] ? 2 : 1;
            for (int k = 0; k < frames; k++)
                zmq_send(rogue, bad[i][k], strlen(bad[i][k]), k + 1 < frames ? ZMQ_SNDMORE : 0);
        }
        pw_subscriber_run(sub, 200);
        pw_subscriber_get_counters(sub, &sc);
    }
    cr_expect_geq(sc.malformed, (uint64_t)nbad);
    cr_expect_eq(sc.delivered, 0);
    cr_expect_eq(sc.streams, 0);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    zmq_close(rogue);
    zmq_ctx_term(ctx);
}

/*
 * A 120 KB event of nested objects once crashed every subscriber (json-glib
 * recursed off the stack): it is now counted as a malformed message.
 */
Test(pubsub, deeply_nested_event_is_malformed_not_a_crash, .timeout = 60)
{
    void *ctx = zmq_ctx_new();
    void *rogue = NULL;
    collector c;
    collector_init(&c);
    pw_subscriber *sub = rogue_pub_and_subscriber(ctx, &c, &rogue);
    GString *deep = g_string_new("{\"schema_version\":1,\"kind\":\"vehicle.new\",\"x\":");
    while (deep->len < 120 * 1024)
        g_string_append_c(deep, '[');
    const char *topic = "plate.dover.l03.vehicle.new";
    pw_subscriber_counters sc = {0};
    int64_t end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (sc.malformed == 0 && g_get_monotonic_time() < end) {
        zmq_send(rogue, topic, strlen(topic), ZMQ_SNDMORE);
        zmq_send(rogue, deep->str, deep->len, 0);
        pw_subscriber_run(sub, 200);
        pw_subscriber_get_counters(sub, &sc);
    }
    cr_expect_geq(sc.malformed, 1);
    cr_expect_eq(sc.delivered, 0);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    g_string_free(deep, TRUE);
    zmq_close(rogue);
    zmq_ctx_term(ctx);
}

/* Garbage sent to the replay endpoint is counted; the publisher keeps serving. */
Test(pubsub, malformed_replay_requests, .timeout = 60)
{
    fixture f;
    fixture_open(&f, 0);
    publish_n(f.pub, 3);
    void *ctx = zmq_ctx_new();
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0, rcvtimeo = 10000;
    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(d, ZMQ_RCVTIMEO, &rcvtimeo, sizeof rcvtimeo);
    cr_assert_eq(zmq_connect(d, pw_publisher_endpoint(f.pub, "replay")), 0);
    zmq_send(d, "junk", 4, 0);                            /* no delimiter */
    zmq_send(d, "", 0, ZMQ_SNDMORE);
    zmq_send(d, "REPLAY", 6, ZMQ_SNDMORE);
    zmq_send(d, "1", 1, ZMQ_SNDMORE);
    zmq_send(d, pw_publisher_stream_id(f.pub), 36, ZMQ_SNDMORE);
    zmq_send(d, "minus-one", 9, ZMQ_SNDMORE);             /* bad number */
    zmq_send(d, "10", 2, 0);
    GPtrArray *frames = NULL;
    cr_assert_eq(pw_recv_frames(d, &frames, 0), 0);
    char *kind = pw_frame_strdup(frames, 1);
    cr_expect_str_eq(kind, "ERROR");
    g_free(kind);
    g_ptr_array_unref(frames);
    /* Still alive: INFO answers with the stream and its bounds. */
    zmq_send(d, "", 0, ZMQ_SNDMORE);
    zmq_send(d, "INFO", 4, ZMQ_SNDMORE);
    zmq_send(d, "2", 1, 0);
    cr_assert_eq(pw_recv_frames(d, &frames, 0), 0);
    char *json = pw_frame_strdup(frames, 3);
    cr_expect(strstr(json, "\"last_seq\":3") != NULL, "%s", json);
    g_free(json);
    g_ptr_array_unref(frames);
    pw_publisher_counters pc;
    pw_publisher_get_counters(f.pub, &pc);
    cr_expect_eq(pc.bad_requests, 2);
    zmq_close(d);
    zmq_ctx_term(ctx);
    fixture_close(&f);
}

/* A journal bounded by size prunes old events; a backfilling subscriber counts them lost. */
Test(pubsub, journal_bounded_by_size, .timeout = 60)
{
    char *dir = tmp_dir();
    char *journal = g_build_filename(dir, "j.db", NULL);
    pw_publisher_config cfg = plain_pub_config(journal);
    cfg.journal_max_bytes = 20000;
    pw_publisher *pub = NULL;
    cr_assert_eq(pw_publisher_new(&cfg, &pub, NULL), 0);
    publish_n(pub, 1200);   /* pruning runs every 1000 events */
    pw_journal *j = NULL;
    uint64_t first = 0, last = 0;
    cr_assert_eq(pw_journal_open(journal, true, false, &j, NULL), 0);
    cr_assert_eq(pw_journal_bounds(j, &first, &last, NULL), 0);
    cr_expect_eq(last, 1200);
    cr_expect_gt(first, 900, "first %" G_GUINT64_FORMAT, first);
    pw_journal_close(&j);
    collector c;
    collector_init(&c);
    pw_subscriber_config scfg = plain_sub_config(pw_publisher_endpoint(pub, "pub"),
                                                 pw_publisher_endpoint(pub, "replay"));
    scfg.backfill_new_streams = true;
    pw_subscriber *sub = NULL;
    cr_assert_eq(pw_subscriber_new(&scfg, collector_cb, &c, &sub, NULL), 0);
    run_until_count(sub, &c, (guint)(last - first + 1), 20000);
    pw_subscriber_counters sc;
    pw_subscriber_get_counters(sub, &sc);
    cr_expect_eq(sc.lost, first - 1);
    cr_expect_eq(g_array_index(c.seqs, uint64_t, 0), first);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    pw_publisher_destroy(&pub);
    rm_tree(dir);
    g_free(dir);
    g_free(journal);
}

static gint64 file_size(const char *path)
{
    GStatBuf st;
    return g_stat(path, &st) == 0 ? (gint64)st.st_size : 0;
}

/* journal_max_bytes bounds the database on disk, also with large crops. */
Test(pubsub, journal_file_stays_under_its_bound, .timeout = 120)
{
    char *dir = tmp_dir();
    char *journal = g_build_filename(dir, "j.db", NULL), *wal = g_strconcat(journal, "-wal", NULL);
    pw_publisher_config cfg = plain_pub_config(journal);
    const gint64 bound = 2 << 20; /* the smallest the daemon accepts */
    cfg.journal_max_bytes = bound;
    cfg.journal_sync_normal = true;
    pw_publisher *pub = NULL;
    cr_assert_eq(pw_publisher_new(&cfg, &pub, NULL), 0);
    /* Crops do not compress in SQLite: random bytes are as large as a real JPEG. */
    size_t crop_len = 16 << 10;
    uint8_t *crop = g_malloc(crop_len);
    for (size_t i = 0; i < crop_len; i++)
        crop[i] = (uint8_t)g_random_int();
    gint64 largest = 0, largest_wal = 0;
    for (int i = 0; i < 800; i++) {
        pw_event ev = make_event(PW_EVENT_VEHICLE_FINAL, "AB12CDE");
        pw_err err = {0};
        cr_assert_eq(pw_publisher_publish(pub, &ev, crop, crop_len, &err), 0, "%s", err.msg);
        largest = MAX(largest, file_size(journal));
        largest_wal = MAX(largest_wal, file_size(wal));
    }
    /*
     * 800 crops are 12.5 MiB: without pruning by size the file holds them
     * all. The WAL is not asserted: it outgrows its share while the replay
     * thread's read (here the heartbeat's) is open, however briefly, and
     * a loaded machine makes that long.
     */
    cr_expect_leq(largest, bound - bound / 16, "the database reached %" G_GINT64_FORMAT " bytes (WAL %" G_GINT64_FORMAT ")",
                  largest, largest_wal);
    pw_journal *j = NULL;
    uint64_t first = 0, last = 0;
    cr_assert_eq(pw_journal_open(journal, true, false, &j, NULL), 0);
    cr_assert_eq(pw_journal_bounds(j, &first, &last, NULL), 0);
    pw_journal_close(&j);
    cr_expect_eq(last, 800);
    cr_expect_geq(last - first + 1, 20, "the bound is used, not emptied: %" G_GUINT64_FORMAT " events",
                  last - first + 1);
    pw_publisher_destroy(&pub);
    g_free(crop);
    rm_tree(dir);
    g_free(dir), g_free(journal), g_free(wal);
}

Test(pubsub, stats_events_carry_counters, .timeout = 60)
{
    fixture f;
    collector c;
    fixture_open(&f, 0);
    collector_init(&c);
    pw_subscriber *sub = subscribe(&f, &c, false);
    run_until_heartbeat(sub, &c, 10000);
    pw_stage_latency stages[] = {{"detect", 4.5, 9.25}, {"ocr", 30.0, 61.0}};
    pw_queue_depth queues[] = {{"ocr_in", 3, 16}};
    pw_lane_stats st = {.frames_in = 1000, .frames_dropped = 4, .reads = 300, .events = 21,
                        .reconnects = 1, .stages = stages, .n_stages = 2, .queues = queues,
                        .n_queues = 1};
    int64_t end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (c.stats == 0 && g_get_monotonic_time() < end) {
        cr_assert_eq(pw_publisher_publish_stats(f.pub, "cam1", &st, NULL), 0);
        pw_subscriber_run(sub, 100);
    }
    cr_assert_gt(c.stats, 0);
    cr_expect(strstr(c.last_stats, "\"frames_dropped\":4") != NULL, "%s", c.last_stats);
    cr_expect(strstr(c.last_stats, "\"p99_ms\":61") != NULL, "%s", c.last_stats);
    cr_expect_eq(pw_publisher_publish_stats(f.pub, "bad camera", &st, NULL), -EINVAL);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    fixture_close(&f);
}

/* Without a replay endpoint gaps cannot be filled: they are counted as lost, order kept. */
Test(pubsub, without_replay_gaps_are_counted_lost, .timeout = 120)
{
    fixture f;
    collector c;
    fixture_open(&f, 5);
    collector_init(&c);
    pw_subscriber_config cfg = plain_sub_config(pw_publisher_endpoint(f.pub, "pub"), NULL);
    pw_subscriber *sub = NULL;
    cr_assert_eq(pw_subscriber_new(&cfg, collector_cb, &c, &sub, NULL), 0);
    run_until_heartbeat(sub, &c, 10000);
    publish_n(f.pub, 3000);
    pw_subscriber_counters sc = {0};
    /* A liveness bound, not a speed test: under ASan on a loaded machine the drain of 3000
     * events with alternatives and per-character confidences takes about 20 s. */
    int64_t end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (c.seqs->len + sc.lost < 3000 && g_get_monotonic_time() < end) {
        pw_subscriber_run(sub, 100);
        pw_subscriber_get_counters(sub, &sc);
    }
    cr_expect_eq(c.seqs->len + sc.lost, 3000, "delivered %u lost %" G_GUINT64_FORMAT,
                 c.seqs->len, sc.lost);
    for (guint i = 1; i < c.seqs->len; i++)
        cr_expect_gt(g_array_index(c.seqs, uint64_t, i), g_array_index(c.seqs, uint64_t, i - 1));
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    fixture_close(&f);
}

/* Rewrites one journalled event as JSON that no subscriber accepts. */
static void corrupt_journal_event(const char *journal, int seq)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(journal, &db), SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE events SET json = '{\"kind\":\"vehicle.final\"}' WHERE seq = %d", seq);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_changes(db), 1);
    sqlite3_close(db);
}

Test(pubsub, an_undeliverable_journal_event_is_lost_not_looped_on, .timeout = 60)
{
    fixture f;
    collector c;
    fixture_open(&f, 0);
    collector_init(&c);
    publish_n(f.pub, 5);
    corrupt_journal_event(f.journal, 3);
    pw_subscriber *sub = subscribe(&f, &c, true);
    run_until_count(sub, &c, 4, 20000);
    cr_assert_eq(c.seqs->len, 4, "the four good events arrive, got %u", c.seqs->len);
    cr_assert_eq(g_array_index(c.seqs, uint64_t, 2), 4, "event 3 is skipped");
    pw_subscriber_counters sc;
    pw_subscriber_get_counters(sub, &sc);
    cr_assert_eq(sc.lost, 1);
    cr_assert_geq(sc.malformed, 1);
    uint64_t requests = sc.replay_requests;
    pw_subscriber_run(sub, 1500);
    pw_subscriber_get_counters(sub, &sc);
    cr_assert_leq(sc.replay_requests - requests, 2, "no replay storm: %lu more requests",
                  (unsigned long)(sc.replay_requests - requests));
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    fixture_close(&f);
}

Test(pubsub, a_trigger_time_from_a_wrong_clock_gives_a_valid_event, .timeout = 60)
{
    fixture f;
    collector c;
    fixture_open(&f, 0);
    collector_init(&c);
    pw_event ev = make_event(PW_EVENT_VEHICLE_NEW, "AB12CDE");
    ev.trigger_capture_us = 1; /* 1970: the latency would be decades */
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_publisher_publish(f.pub, &ev, NULL, 0, &err), 0, "%s", err.msg);
    cr_assert_eq(ev.latency_ms, 0.0);
    pw_subscriber *sub = subscribe(&f, &c, true);
    run_until_count(sub, &c, 1, 20000);
    cr_assert_eq(c.seqs->len, 1);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    fixture_close(&f);
}

static uint64_t subscribers_of(pw_publisher *pub, uint64_t want)
{
    pw_publisher_counters pc = {0};
    /* The monitor reports connections asynchronously: wait for the count (liveness limit). */
    int64_t end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    do {
        pw_publisher_get_counters(pub, &pc);
        if (pc.subscribers == want)
            break;
        g_usleep(20 * 1000);
    } while (g_get_monotonic_time() < end);
    return pc.subscribers;
}

Test(pubsub, the_publisher_counts_its_connections, .timeout = 60)
{
    fixture f;
    fixture_open(&f, 0);
    cr_assert_eq(subscribers_of(f.pub, 0), 0);
    void *ctx = zmq_ctx_new();
    void *a = zmq_socket(ctx, ZMQ_SUB), *b = zmq_socket(ctx, ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(a, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(b, ZMQ_LINGER, &linger, sizeof linger);
    cr_assert_eq(zmq_connect(a, pw_publisher_endpoint(f.pub, "pub")), 0);
    cr_assert_eq(zmq_connect(b, pw_publisher_endpoint(f.pub, "pub")), 0);
    cr_assert_eq(subscribers_of(f.pub, 2), 2);
    zmq_close(a);
    cr_assert_eq(subscribers_of(f.pub, 1), 1);
    zmq_close(b);
    cr_assert_eq(subscribers_of(f.pub, 0), 0);
    zmq_ctx_term(ctx);
    fixture_close(&f);
}
