/*
 * test_replay_protocol.c - the replay ROUTER's framing (docs/events.md,
 * "Replay protocol"): exact commands, request ids as bytes with lengths, an
 * ERROR reply for every malformed request that has an envelope, and bounds
 * on what one client can make the publisher hold (frames per message, bytes
 * per reply batch).
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"
#include "publish_internal.h"

#include <criterion/criterion.h>
#include <string.h>
#include <zmq.h>

typedef struct {
    char *dir;
    char *journal;
    pw_publisher *pub;
    void *ctx;
    void *dealer;
} fixture;

static void open_fixture(fixture *f)
{
    f->dir = tmp_dir();
    f->journal = g_build_filename(f->dir, "journal.db", NULL);
    pw_publisher_config cfg = plain_pub_config(f->journal);
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_publisher_new(&cfg, &f->pub, &err), 0, "%s", err.msg);
    f->ctx = zmq_ctx_new();
    f->dealer = zmq_socket(f->ctx, ZMQ_DEALER);
    int linger = 0, rcvtimeo = 5000;
    zmq_setsockopt(f->dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(f->dealer, ZMQ_RCVTIMEO, &rcvtimeo, sizeof rcvtimeo);
    cr_assert_eq(zmq_connect(f->dealer, pw_publisher_endpoint(f->pub, "replay")), 0);
}

static void close_fixture(fixture *f)
{
    zmq_close(f->dealer);
    zmq_ctx_term(f->ctx);
    pw_publisher_destroy(&f->pub);
    rm_tree(f->dir);
    g_free(f->dir);
    g_free(f->journal);
}

typedef struct {
    const void *data;
    size_t len;
} frame;

#define TEXT(s) ((frame){s, sizeof s - 1})

static void send_request(fixture *f, const frame *frames, int n)
{
    zmq_send(f->dealer, "", 0, ZMQ_SNDMORE);
    for (int i = 0; i < n; i++)
        zmq_send(f->dealer, frames[i].data, frames[i].len, i + 1 < n ? ZMQ_SNDMORE : 0);
}

/* The next reply, which must come within the receive timeout. */
static GPtrArray *reply(fixture *f)
{
    GPtrArray *frames = NULL;
    int rc = pw_recv_frames(f->dealer, &frames, 0);
    cr_assert_eq(rc, 0, "no reply from the publisher (%s)", pw_strerror(rc));
    return frames;
}

static void assert_error(GPtrArray *r, const void *reqid, size_t reqid_len, const char *needle)
{
    cr_assert_eq(r->len, 4, "an ERROR reply is 4 frames, got %u", r->len);
    cr_assert(pw_frame_is(r, 1, PW_REPLAY_REP_ERROR), "reply is not ERROR");
    cr_assert(pw_frame_equals(r, 2, reqid, reqid_len), "the request id is not echoed as sent");
    char *text = pw_frame_strdup(r, 3);
    cr_assert(text && strstr(text, needle), "ERROR text \"%s\" lacks \"%s\"", text, needle);
    g_free(text);
}

static void publish_n(pw_publisher *pub, int n, const uint8_t *jpeg, size_t jpeg_len)
{
    for (int i = 0; i < n; i++) {
        pw_event ev = make_event(PW_EVENT_VEHICLE_FINAL, "AB12CDE");
        pw_err err;
        pw_err_clear(&err);
        cr_assert_eq(pw_publisher_publish(pub, &ev, jpeg, jpeg_len, &err), 0, "%s", err.msg);
    }
}

Test(replay_protocol, a_request_id_over_64_bytes_gets_an_error_reply, .timeout = 30)
{
    fixture f;
    open_fixture(&f);
    char id[PW_REPLAY_MAX_REQID + 1];
    memset(id, 'x', sizeof id);
    frame req[] = {TEXT("INFO"), {id, sizeof id}};
    send_request(&f, req, 2);
    GPtrArray *r = reply(&f);
    assert_error(r, "", 0, "request id of 65 bytes is longer than 64");
    g_ptr_array_unref(r);
    /* 64 bytes is still an id. */
    req[1].len = PW_REPLAY_MAX_REQID;
    send_request(&f, req, 2);
    r = reply(&f);
    cr_expect(pw_frame_is(r, 1, PW_REPLAY_REP_INFO));
    cr_expect(pw_frame_equals(r, 2, id, PW_REPLAY_MAX_REQID));
    g_ptr_array_unref(r);
    close_fixture(&f);
}

Test(replay_protocol, a_command_with_trailing_bytes_is_unknown, .timeout = 30)
{
    fixture f;
    open_fixture(&f);
    publish_n(f.pub, 2, NULL, 0);
    const char *stream = pw_publisher_stream_id(f.pub);
    frame req[] = {{"REPLAY\0junk", 11}, TEXT("r1"), {stream, strlen(stream)}, TEXT("0"),
                   TEXT("10")};
    send_request(&f, req, 5);
    GPtrArray *r = reply(&f);
    assert_error(r, "r1", 2, "unknown command");
    g_ptr_array_unref(r);
    frame info[] = {{"INFO\0", 5}, TEXT("r2")};
    send_request(&f, info, 2);
    r = reply(&f);
    assert_error(r, "r2", 2, "unknown command");
    g_ptr_array_unref(r);
    close_fixture(&f);
}

Test(replay_protocol, a_binary_request_id_is_echoed_whole, .timeout = 30)
{
    fixture f;
    open_fixture(&f);
    publish_n(f.pub, 1, NULL, 0);
    const char id[] = {'a', '\0', 'b', '\xff', '\0'};
    const char *stream = pw_publisher_stream_id(f.pub);
    frame req[] = {TEXT("REPLAY"), {id, sizeof id}, {stream, strlen(stream)}, TEXT("0"),
                   TEXT("10")};
    send_request(&f, req, 5);
    GPtrArray *r = reply(&f);
    cr_assert(pw_frame_is(r, 1, PW_REPLAY_REP_EVENT));
    cr_expect(pw_frame_equals(r, 2, id, sizeof id), "EVENT carries the 5-byte id");
    g_ptr_array_unref(r);
    r = reply(&f);
    cr_assert(pw_frame_is(r, 1, PW_REPLAY_REP_END));
    cr_expect(pw_frame_equals(r, 2, id, sizeof id), "END carries the 5-byte id");
    g_ptr_array_unref(r);
    close_fixture(&f);
}

Test(replay_protocol, fields_are_checked_as_bytes, .timeout = 30)
{
    fixture f;
    open_fixture(&f);
    publish_n(f.pub, 1, NULL, 0);
    char stream[PW_UUID_LEN + 2];
    memcpy(stream, pw_publisher_stream_id(f.pub), PW_UUID_LEN);
    stream[PW_UUID_LEN] = '\0';
    stream[PW_UUID_LEN + 1] = 'x';
    struct {
        frame since, max, stream;
        const char *why;
    } cases[] = {
        {TEXT("0"), TEXT("10"), {stream, sizeof stream}, "stream id is 38 bytes"},
        {{"1\0", 2}, TEXT("10"), {stream, PW_UUID_LEN}, "since is not a decimal"},
        {TEXT("0"), TEXT("+5"), {stream, PW_UUID_LEN}, "max is not a decimal"},
        {TEXT("0"), TEXT("0"), {stream, PW_UUID_LEN}, "max is not a decimal"},
        {TEXT("99999999999999999999"), TEXT("1"), {stream, PW_UUID_LEN}, "since"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        frame req[] = {TEXT("REPLAY"), TEXT("q"), cases[i].stream, cases[i].since,
                       cases[i].max};
        send_request(&f, req, 5);
        GPtrArray *r = reply(&f);
        assert_error(r, "q", 1, cases[i].why);
        g_ptr_array_unref(r);
    }
    /* A frame too many is malformed, not ignored. */
    frame extra[] = {TEXT("REPLAY"), TEXT("q"), {stream, PW_UUID_LEN}, TEXT("0"), TEXT("1"),
                     TEXT("more")};
    send_request(&f, extra, 6);
    GPtrArray *r = reply(&f);
    assert_error(r, "q", 1, "6 frames after the delimiter");
    g_ptr_array_unref(r);
    pw_publisher_counters pc;
    pw_publisher_get_counters(f.pub, &pc);
    cr_expect_eq(pc.bad_requests, G_N_ELEMENTS(cases) + 1);
    close_fixture(&f);
}

/* A message of 200,000 frames is read and dropped; our copy never holds more than 32. */
Test(replay_protocol, a_message_of_too_many_frames_is_dropped_and_counted, .timeout = 60)
{
    fixture f;
    open_fixture(&f);
    zmq_send(f.dealer, "", 0, ZMQ_SNDMORE);
    zmq_send(f.dealer, "INFO", 4, ZMQ_SNDMORE);
    for (int i = 0; i < 200000; i++)
        zmq_send(f.dealer, "", 0, i + 1 < 200000 ? ZMQ_SNDMORE : 0);
    frame info[] = {TEXT("INFO"), TEXT("after")};
    send_request(&f, info, 2);
    GPtrArray *r = reply(&f);
    cr_expect(pw_frame_is(r, 1, PW_REPLAY_REP_INFO), "the only reply is to the second request");
    cr_expect(pw_frame_is(r, 2, "after"));
    g_ptr_array_unref(r);
    pw_publisher_counters pc;
    pw_publisher_get_counters(f.pub, &pc);
    cr_expect_eq(pc.bad_requests, 1);
    close_fixture(&f);
}

/* One request sends at most PW_REPLAY_MAX_BYTES of events; END says how many. */
Test(replay_protocol, one_batch_is_bounded_in_bytes, .timeout = 120)
{
    fixture f;
    open_fixture(&f);
    size_t jpeg_len = 256 * 1024;
    uint8_t *jpeg = g_malloc0(jpeg_len);
    int events = (int)(PW_REPLAY_MAX_BYTES / jpeg_len) + 20;
    publish_n(f.pub, events, jpeg, jpeg_len);
    g_free(jpeg);
    const char *stream = pw_publisher_stream_id(f.pub);
    frame req[] = {TEXT("REPLAY"), TEXT("b"), {stream, strlen(stream)}, TEXT("0"),
                   TEXT("5000")};
    send_request(&f, req, 5);
    uint64_t got = 0, bytes = 0;
    for (;;) {
        GPtrArray *r = reply(&f);
        bool end = pw_frame_is(r, 1, PW_REPLAY_REP_END);
        if (!end) {
            cr_assert(pw_frame_is(r, 1, PW_REPLAY_REP_EVENT));
            got++;
            bytes += g_bytes_get_size(g_ptr_array_index(r, 4)) +
                     g_bytes_get_size(g_ptr_array_index(r, 5));
        } else {
            char *json = pw_frame_strdup(r, 3);
            char want[64];
            snprintf(want, sizeof want, "\"sent\":%" G_GUINT64_FORMAT, got);
            cr_expect(strstr(json, want), "END %s does not say %s", json, want);
            g_free(json);
        }
        g_ptr_array_unref(r);
        if (end)
            break;
    }
    cr_expect_gt(got, 0);
    cr_expect_lt(got, (uint64_t)events, "the batch stopped at the byte bound");
    cr_expect_leq(bytes, PW_REPLAY_MAX_BYTES);
    close_fixture(&f);
}

/* A subscriber still gets every event: it asks again from where the last batch ended. */
Test(replay_protocol, a_backfilling_subscriber_gets_every_large_event, .timeout = 120)
{
    fixture f;
    open_fixture(&f);
    size_t jpeg_len = 512 * 1024;
    uint8_t *jpeg = g_malloc0(jpeg_len);
    int events = (int)(2 * PW_REPLAY_MAX_BYTES / jpeg_len) + 5;
    publish_n(f.pub, events, jpeg, jpeg_len);
    g_free(jpeg);
    collector c;
    collector_init(&c);
    pw_subscriber_config cfg = plain_sub_config(pw_publisher_endpoint(f.pub, "pub"),
                                                pw_publisher_endpoint(f.pub, "replay"));
    cfg.backfill_new_streams = true;
    pw_subscriber *sub = NULL;
    cr_assert_eq(pw_subscriber_new(&cfg, collector_cb, &c, &sub, NULL), 0);
    run_until_count(sub, &c, (guint)events, 60000);
    cr_expect(collector_is_sequence(&c, (uint64_t)events), "%u of %d delivered in order",
              c.seqs->len, events);
    pw_subscriber_counters sc;
    pw_subscriber_get_counters(sub, &sc);
    cr_expect_geq(sc.replay_requests, 3, "three batches at least");
    cr_expect_eq(sc.lost, 0);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    close_fixture(&f);
}
