/*
 * test_forwarder.c - one controller subscribes to two lanes through a site
 * forwarder, and a central office through a second forwarder stacked on
 * the first; replay requests are routed to the lane that owns the stream.
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>

typedef struct {
    GHashTable *per_stream;   /* stream id -> GArray of seq */
    guint total;
} multi;

static void multi_cb(const pw_event *ev, const char *json, const uint8_t *jpeg, size_t n,
                     void *user)
{
    (void)json;
    (void)jpeg;
    (void)n;
    multi *m = user;
    if (ev->seq == 0)
        return;
    GArray *a = g_hash_table_lookup(m->per_stream, ev->stream_id);
    if (!a) {
        a = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        g_hash_table_insert(m->per_stream, g_strdup(ev->stream_id), a);
    }
    g_array_append_val(a, ev->seq);
    m->total++;
}

static pw_publisher *lane(const char *dir, const char *name)
{
    char *journal = g_build_filename(dir, name, NULL);
    pw_publisher_config cfg = plain_pub_config(journal);
    cfg.lane = name;
    pw_publisher *p = NULL;
    pw_err err;
    cr_assert_eq(pw_publisher_new(&cfg, &p, &err), 0, "%s", err.msg);
    g_free(journal);
    return p;
}

static void publish(pw_publisher *p, int n)
{
    for (int i = 0; i < n; i++) {
        pw_event ev = make_event(PW_EVENT_VEHICLE_FINAL, "FW0RD");
        cr_assert_eq(pw_publisher_publish(p, &ev, NULL, 0, NULL), 0);
    }
}

static pw_forwarder *forwarder(pw_upstream *ups, size_t n)
{
    pw_forwarder_config cfg = {
        .upstreams = ups, .n_upstreams = n, .pub_endpoint = "tcp://127.0.0.1:*",
        .replay_endpoint = "tcp://127.0.0.1:*", .allow_plain = true, .info_interval_ms = 300,
    };
    pw_forwarder *fw = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_forwarder_new(&cfg, &fw, &err), 0, "%s", err.msg);
    return fw;
}

static void check_streams(multi *m, pw_publisher **lanes, int n, const guint *count)
{
    for (int i = 0; i < n; i++) {
        GArray *a = g_hash_table_lookup(m->per_stream, pw_publisher_stream_id(lanes[i]));
        cr_assert_not_null(a, "nothing from lane %d", i);
        cr_expect_eq(a->len, count[i], "lane %d: %u events", i, a->len);
        for (guint k = 0; k < a->len; k++)
            cr_expect_eq(g_array_index(a, uint64_t, k), k + 1);
    }
}

static void run_until_total(pw_subscriber *sub, multi *m, guint n, int timeout_ms)
{
    int64_t end = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
    while (m->total < n && g_get_monotonic_time() < end)
        pw_subscriber_run(sub, 50);
}

Test(forwarder, lanes_through_one_and_two_forwarders, .timeout = 90)
{
    char *dir = tmp_dir();
    pw_publisher *lanes[2] = {lane(dir, "l01"), lane(dir, "l02")};
    publish(lanes[0], 40);   /* before anyone subscribes: only replay can deliver these */
    publish(lanes[1], 25);
    pw_upstream ups[2];
    for (int i = 0; i < 2; i++)
        ups[i] = (pw_upstream){pw_publisher_endpoint(lanes[i], "pub"),
                               pw_publisher_endpoint(lanes[i], "replay"), NULL};
    pw_forwarder *site = forwarder(ups, 2);
    pw_upstream up2 = {pw_forwarder_endpoint(site, "pub"), pw_forwarder_endpoint(site, "replay"),
                       NULL};
    pw_forwarder *office = forwarder(&up2, 1);

    multi m1 = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)g_array_unref), 0};
    multi m2 = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)g_array_unref), 0};
    pw_subscriber_config c1 = plain_sub_config(pw_forwarder_endpoint(site, "pub"),
                                               pw_forwarder_endpoint(site, "replay"));
    c1.backfill_new_streams = true;
    pw_subscriber_config c2 = plain_sub_config(pw_forwarder_endpoint(office, "pub"),
                                               pw_forwarder_endpoint(office, "replay"));
    c2.backfill_new_streams = true;
    c2.prefix = "plate.dover.l02.";
    pw_subscriber *s1 = NULL, *s2 = NULL;
    cr_assert_eq(pw_subscriber_new(&c1, multi_cb, &m1, &s1, NULL), 0);
    cr_assert_eq(pw_subscriber_new(&c2, multi_cb, &m2, &s2, NULL), 0);
    run_until_total(s1, &m1, 65, 20000);
    run_until_total(s2, &m2, 25, 20000);
    publish(lanes[0], 10);
    publish(lanes[1], 10);
    run_until_total(s1, &m1, 85, 20000);
    run_until_total(s2, &m2, 35, 20000);
    const guint counts[] = {50, 35};
    check_streams(&m1, lanes, 2, counts);
    check_streams(&m2, &lanes[1], 1, &counts[1]);
    cr_expect_eq(m2.total, 35, "office got %u", m2.total);
    cr_expect_eq(g_hash_table_size(m2.per_stream), 1);
    pw_subscriber_destroy(&s1);
    pw_subscriber_destroy(&s2);
    pw_forwarder_destroy(&office);
    pw_forwarder_destroy(&site);
    cr_expect_null(site);
    pw_forwarder_destroy(NULL);
    for (int i = 0; i < 2; i++)
        pw_publisher_destroy(&lanes[i]);
    g_hash_table_unref(m1.per_stream);
    g_hash_table_unref(m2.per_stream);
    rm_tree(dir);
    g_free(dir);
}

/* CURVE end to end: lane -> forwarder (client of the lane, server to the controller). */
Test(forwarder, curve_on_both_sides, .timeout = 60)
{
    char *dir = tmp_dir();
    const char *names[] = {"lane", "site", "fwclient", "controller"};
    char *base[4];
    for (int i = 0; i < 4; i++) {
        base[i] = g_build_filename(dir, names[i], NULL);
        cr_assert_eq(pw_keygen(base[i], NULL), 0);
    }
    char *lane_key = g_strconcat(base[0], ".key", NULL), *lane_pub = g_strconcat(base[0], ".pub", NULL);
    char *site_key = g_strconcat(base[1], ".key", NULL), *site_pub = g_strconcat(base[1], ".pub", NULL);
    char *fwc_key = g_strconcat(base[2], ".key", NULL), *fwc_pub = g_strconcat(base[2], ".pub", NULL);
    char *ctl_key = g_strconcat(base[3], ".key", NULL), *ctl_pub = g_strconcat(base[3], ".pub", NULL);
    char *journal = g_build_filename(dir, "j.db", NULL);
    pw_publisher_config pcfg = plain_pub_config(journal);
    pcfg.allow_plain = false;
    pcfg.secret_key_file = lane_key;
    pcfg.allow_list = fwc_pub;          /* only the forwarder may connect to the lane */
    pw_publisher *pub = NULL;
    pw_err err;
    cr_assert_eq(pw_publisher_new(&pcfg, &pub, &err), 0, "%s", err.msg);
    for (int i = 0; i < 10; i++) {
        pw_event ev = make_event(PW_EVENT_VEHICLE_NEW, "SECURE");
        cr_assert_eq(pw_publisher_publish(pub, &ev, NULL, 0, NULL), 0);
    }
    pw_upstream up = {pw_publisher_endpoint(pub, "pub"), pw_publisher_endpoint(pub, "replay"),
                      lane_pub};
    pw_forwarder_config fcfg = {
        .upstreams = &up, .n_upstreams = 1, .pub_endpoint = "tcp://127.0.0.1:*",
        .replay_endpoint = "tcp://127.0.0.1:*", .secret_key_file = site_key,
        .allow_list = ctl_pub, .client_secret_key_file = fwc_key, .info_interval_ms = 300,
    };
    pw_forwarder *fw = NULL;
    cr_assert_eq(pw_forwarder_new(&fcfg, &fw, &err), 0, "%s", err.msg);
    collector c;
    collector_init(&c);
    pw_subscriber_config scfg = plain_sub_config(pw_forwarder_endpoint(fw, "pub"),
                                                 pw_forwarder_endpoint(fw, "replay"));
    scfg.allow_plain = false;
    scfg.server_public_key_file = site_pub;
    scfg.client_secret_key_file = ctl_key;
    scfg.backfill_new_streams = true;
    pw_subscriber *sub = NULL;
    cr_assert_eq(pw_subscriber_new(&scfg, collector_cb, &c, &sub, &err), 0, "%s", err.msg);
    run_until_count(sub, &c, 10, 20000);
    cr_expect(collector_is_sequence(&c, 10), "controller got %u", c.seqs->len);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    pw_forwarder_destroy(&fw);
    pw_publisher_destroy(&pub);
    g_free(lane_key); g_free(lane_pub); g_free(site_key); g_free(site_pub);
    g_free(fwc_key); g_free(fwc_pub); g_free(ctl_key); g_free(ctl_pub);
    for (int i = 0; i < 4; i++)
        g_free(base[i]);
    g_free(journal);
    rm_tree(dir);
    g_free(dir);
}
