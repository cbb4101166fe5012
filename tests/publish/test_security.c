/*
 * test_security.c - CURVE key files, their permissions, the ZAP allow-list:
 * an allowed client receives events, a client with an unknown key nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

typedef struct {
    char *dir;
    char *server;    /* base names: <base>.pub and <base>.key */
    char *client;
    char *stranger;
    char *allow;     /* directory holding client.pub */
} keys;

static char *path_of(const char *base, const char *ext)
{
    return g_strconcat(base, ext, NULL);
}

static void keys_make(keys *k)
{
    k->dir = tmp_dir();
    k->server = g_build_filename(k->dir, "server", NULL);
    k->client = g_build_filename(k->dir, "client", NULL);
    k->stranger = g_build_filename(k->dir, "stranger", NULL);
    k->allow = g_build_filename(k->dir, "allow", NULL);
    pw_err err;
    cr_assert_eq(pw_keygen(k->server, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_keygen(k->client, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_keygen(k->stranger, &err), 0, "%s", err.msg);
    cr_assert_eq(mkdir(k->allow, 0700), 0);
    char *src = path_of(k->client, ".pub");
    char *dst = g_build_filename(k->allow, "client.pub", NULL);
    char *text = NULL;
    gsize len = 0;
    cr_assert(g_file_get_contents(src, &text, &len, NULL));
    cr_assert(g_file_set_contents(dst, text, (gssize)len, NULL));
    g_free(text);
    g_free(src);
    g_free(dst);
}

static void keys_free(keys *k)
{
    rm_tree(k->dir);
    g_free(k->dir);
    g_free(k->server);
    g_free(k->client);
    g_free(k->stranger);
    g_free(k->allow);
}

Test(security, keygen_writes_private_secret, .timeout = 30)
{
    keys k;
    keys_make(&k);
    char *sec = path_of(k.server, ".key");
    char *pub = path_of(k.server, ".pub");
    struct stat st;
    cr_assert_eq(stat(sec, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(stat(pub, &st), 0);
    cr_expect_eq(st.st_mode & 0077, 0044 & (st.st_mode & 0077));
    pw_err err;
    cr_expect_eq(pw_keygen(k.server, &err), -EEXIST);
    cr_expect(strstr(err.msg, "refusing to overwrite") != NULL, "%s", err.msg);
    g_free(sec);
    g_free(pub);
    keys_free(&k);
}

static pw_publisher_config curve_pub_config(const keys *k, const char *journal, char *sec)
{
    pw_publisher_config cfg = plain_pub_config(journal);
    cfg.allow_plain = false;
    cfg.secret_key_file = sec;
    cfg.allow_list = k->allow;
    return cfg;
}

Test(security, loose_secret_key_is_refused, .timeout = 30)
{
    keys k;
    keys_make(&k);
    char *sec = path_of(k.server, ".key");
    char *journal = g_build_filename(k.dir, "j.db", NULL);
    cr_assert_eq(chmod(sec, 0640), 0);
    pw_publisher_config cfg = curve_pub_config(&k, journal, sec);
    pw_publisher *p = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_expect_eq(pw_publisher_new(&cfg, &p, &err), PW_EKEYPERM);
    cr_expect(strstr(err.msg, sec) != NULL && strstr(err.msg, "0640") != NULL, "%s", err.msg);
    cr_expect_null(p);
    g_free(sec);
    g_free(journal);
    keys_free(&k);
}

Test(security, missing_and_malformed_key_files, .timeout = 30)
{
    keys k;
    keys_make(&k);
    char *journal = g_build_filename(k.dir, "j.db", NULL);
    char *missing = g_build_filename(k.dir, "nope.key", NULL);
    pw_publisher_config cfg = curve_pub_config(&k, journal, missing);
    pw_publisher *p = NULL;
    pw_err err;
    cr_expect_eq(pw_publisher_new(&cfg, &p, &err), -ENOENT);
    cr_expect(strstr(err.msg, missing) != NULL, "%s", err.msg);
    char *bad = g_build_filename(k.dir, "bad.key", NULL);
    cr_assert(g_file_set_contents_full(bad, "[curve]\nsecret-key=short\n", -1,
                                       G_FILE_SET_CONTENTS_NONE, 0600, NULL));
    cfg.secret_key_file = bad;
    cr_expect_eq(pw_publisher_new(&cfg, &p, &err), PW_EKEYFILE);
    cr_expect(strstr(err.msg, bad) != NULL && strstr(err.msg, "secret-key") != NULL, "%s",
              err.msg);
    char *sec = path_of(k.server, ".key");
    cfg.secret_key_file = sec;
    cfg.allow_list = missing;
    cr_expect_eq(pw_publisher_new(&cfg, &p, &err), -ENOENT);
    cfg.allow_list = NULL;
    cr_expect_eq(pw_publisher_new(&cfg, &p, &err), PW_ECONFIG);
    cr_expect_null(p);
    g_free(sec);
    g_free(bad);
    g_free(missing);
    g_free(journal);
    keys_free(&k);
}

/* A subscriber with server key server_base.pub and client key client_base.key. */
static pw_subscriber *keyed_subscriber(pw_publisher *pub, const char *server_base,
                                       const char *client_base, collector *c, bool backfill)
{
    char *server_pub = path_of(server_base, ".pub");
    char *client_sec = path_of(client_base, ".key");
    pw_subscriber_config cfg = plain_sub_config(pw_publisher_endpoint(pub, "pub"),
                                                pw_publisher_endpoint(pub, "replay"));
    cfg.allow_plain = false;
    cfg.server_public_key_file = server_pub;
    cfg.client_secret_key_file = client_sec;
    cfg.backfill_new_streams = backfill;
    pw_subscriber *sub = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_subscriber_new(&cfg, collector_cb, c, &sub, &err), 0, "%s", err.msg);
    g_free(server_pub);
    g_free(client_sec);
    return sub;
}

static pw_subscriber *curve_subscriber(pw_publisher *pub, const keys *k, const char *client,
                                       collector *c)
{
    return keyed_subscriber(pub, k->server, client, c, true);
}

Test(security, allowed_key_receives_unknown_key_nothing, .timeout = 60)
{
    keys k;
    keys_make(&k);
    char *sec = path_of(k.server, ".key");
    char *journal = g_build_filename(k.dir, "j.db", NULL);
    pw_publisher_config cfg = curve_pub_config(&k, journal, sec);
    pw_publisher *pub = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_publisher_new(&cfg, &pub, &err), 0, "%s", err.msg);
    for (int i = 0; i < 5; i++) {
        pw_event ev = make_event(PW_EVENT_VEHICLE_NEW, "CURVE1");
        cr_assert_eq(pw_publisher_publish(pub, &ev, NULL, 0, NULL), 0);
    }
    collector good, bad;
    collector_init(&good);
    collector_init(&bad);
    pw_subscriber *gsub = curve_subscriber(pub, &k, k.client, &good);
    pw_subscriber *bsub = curve_subscriber(pub, &k, k.stranger, &bad);
    run_until_count(gsub, &good, 5, 20000);
    cr_expect(collector_is_sequence(&good, 5), "allowed client got %u", good.seqs->len);
    cr_expect_gt(good.heartbeats, 0);
    /* The stranger gets several heartbeat periods to show it receives nothing. */
    pw_subscriber_run(bsub, 1500);
    cr_expect_eq(bad.seqs->len, 0);
    cr_expect_eq(bad.heartbeats, 0);
    pw_publisher_counters pc;
    pw_publisher_get_counters(pub, &pc);
    cr_expect_gt(pc.auth_denied, 0);
    pw_subscriber_destroy(&gsub);
    pw_subscriber_destroy(&bsub);
    collector_clear(&good);
    collector_clear(&bad);
    pw_publisher_destroy(&pub);
    g_free(sec);
    g_free(journal);
    keys_free(&k);
}

Test(security, allow_list_as_one_file, .timeout = 60)
{
    keys k;
    keys_make(&k);
    char *sec = path_of(k.server, ".key");
    char *journal = g_build_filename(k.dir, "j.db", NULL);
    char *client_pub = path_of(k.client, ".pub");
    pw_publisher_config cfg = curve_pub_config(&k, journal, sec);
    cfg.allow_list = client_pub;
    pw_publisher *pub = NULL;
    pw_err err;
    cr_assert_eq(pw_publisher_new(&cfg, &pub, &err), 0, "%s", err.msg);
    pw_event ev = make_event(PW_EVENT_VEHICLE_FINAL, "ONEFILE");
    cr_assert_eq(pw_publisher_publish(pub, &ev, NULL, 0, NULL), 0);
    collector c;
    collector_init(&c);
    pw_subscriber *sub = curve_subscriber(pub, &k, k.client, &c);
    run_until_count(sub, &c, 1, 20000);
    cr_expect(collector_is_sequence(&c, 1));
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    pw_publisher_destroy(&pub);
    g_free(client_pub);
    g_free(sec);
    g_free(journal);
    keys_free(&k);
}

Test(security, subscriber_refuses_loose_client_key, .timeout = 30)
{
    keys k;
    keys_make(&k);
    char *server_pub = path_of(k.server, ".pub");
    char *client_sec = path_of(k.client, ".key");
    cr_assert_eq(chmod(client_sec, 0604), 0);
    pw_subscriber_config cfg = plain_sub_config("tcp://127.0.0.1:1", NULL);
    cfg.allow_plain = false;
    cfg.server_public_key_file = server_pub;
    cfg.client_secret_key_file = client_sec;
    pw_subscriber *sub = NULL;
    collector c;
    collector_init(&c);
    pw_err err;
    cr_expect_eq(pw_subscriber_new(&cfg, collector_cb, &c, &sub, &err), PW_EKEYPERM);
    cr_expect(strstr(err.msg, "chmod 600") != NULL, "%s", err.msg);
    cr_expect_null(sub);
    collector_clear(&c);
    g_free(server_pub);
    g_free(client_sec);
    keys_free(&k);
}

/* ---- Failed handshakes are errors, not silence (issue 14, item 6) ---- */

/* Runs sub until it returns an error or 10 s pass; returns that error (0 for none). */
static int run_until_error(pw_subscriber *sub)
{
    int64_t end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < end) {
        int rc = pw_subscriber_run(sub, 200);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static pw_publisher *curve_publisher(const keys *k, const char *journal, char *sec)
{
    pw_publisher_config cfg = curve_pub_config(k, journal, sec);
    pw_publisher *pub = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_publisher_new(&cfg, &pub, &err), 0, "%s", err.msg);
    return pub;
}

/* The publisher's count of failed handshakes, after its service thread has looked. */
static uint64_t handshakes_failed(pw_publisher *pub)
{
    pw_publisher_counters pc = {0};
    for (int i = 0; i < 50 && pc.handshake_failed == 0; i++) {
        g_usleep(100 * 1000);
        pw_publisher_get_counters(pub, &pc);
    }
    return pc.handshake_failed;
}

/*
 * Runs a subscriber with the server's public key (or, wrong_server, the
 * stranger's taken for it) and the client's secret key (or the stranger's,
 * which the publisher does not allow): it must fail with PW_EHANDSHAKE and a
 * sentence containing says, and the publisher must have counted the failure.
 */
static void expect_refused(bool wrong_server, bool wrong_client, const char *says)
{
    keys k;
    keys_make(&k);
    char *sec = path_of(k.server, ".key");
    char *journal = g_build_filename(k.dir, "j.db", NULL);
    pw_publisher *pub = curve_publisher(&k, journal, sec);
    collector c;
    collector_init(&c);
    pw_subscriber *sub = keyed_subscriber(pub, wrong_server ? k.stranger : k.server,
                                          wrong_client ? k.stranger : k.client, &c, false);
    int rc = run_until_error(sub);
    cr_expect_eq(rc, PW_EHANDSHAKE, "run returned %d (%s)", rc, pw_strerror(rc));
    cr_expect(strstr(pw_subscriber_error(sub), "security handshake failed"), "%s",
              pw_subscriber_error(sub));
    cr_expect(strstr(pw_subscriber_error(sub), says), "%s", pw_subscriber_error(sub));
    cr_expect_eq(c.seqs->len, 0);
    cr_expect_gt(handshakes_failed(pub), 0, "the publisher saw the failed handshake");
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    pw_publisher_destroy(&pub);
    g_free(sec);
    g_free(journal);
    keys_free(&k);
}

/* An allowed client key, but the stranger's public key taken for the server's. */
Test(security, a_wrong_server_key_is_an_error_on_both_ends, .timeout = 60)
{
    expect_refused(true, false, "server public key");
}

Test(security, a_client_key_not_allowed_is_an_error_on_both_ends, .timeout = 60)
{
    expect_refused(false, true, "refused this client's key");
}

/* `platewatch tail` exits non-zero naming the problem instead of printing nothing. */
Test(security, tail_with_a_wrong_key_fails_with_a_message, .timeout = 60)
{
    keys k;
    keys_make(&k);
    char *sec = path_of(k.server, ".key");
    char *journal = g_build_filename(k.dir, "j.db", NULL);
    pw_publisher *pub = curve_publisher(&k, journal, sec);
    char *wrong_server = path_of(k.stranger, ".pub");
    char *right_server = path_of(k.server, ".pub");
    char *client = path_of(k.client, ".key");
    char *stranger = path_of(k.stranger, ".key");
    struct {
        char *server, *key;
        const char *says;
    } cases[] = {{wrong_server, client, "server public key"},
                 {right_server, stranger, "refused this client's key"}};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *argv[] = {PW_PLATEWATCH_EXE, "tail", "-c", (char *)pw_publisher_endpoint(pub, "pub"),
                        "--server-key", cases[i].server, "-k", cases[i].key, "-t", "15", NULL};
        char *out = NULL, *errout = NULL;
        int status = 0;
        cr_assert(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errout,
                               &status, NULL));
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) != 0, "case %zu: tail exited 0", i);
        cr_expect(strstr(errout, cases[i].says), "case %zu: stderr lacks \"%s\": %s", i,
                  cases[i].says, errout);
        g_free(out);
        g_free(errout);
    }
    pw_publisher_destroy(&pub);
    g_free(wrong_server);
    g_free(right_server);
    g_free(client);
    g_free(stranger);
    g_free(sec);
    g_free(journal);
    keys_free(&k);
}
