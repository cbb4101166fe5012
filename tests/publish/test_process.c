/*
 * test_process.c - real processes killed with SIGKILL: a publisher restarted
 * on the same journal continues the sequence and loses nothing; a subscriber
 * restarted from its own record holds every event once, in order.
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"
#include "publish_internal.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static GPid spawn(char **argv)
{
    GPid pid = 0;
    GError *gerr = NULL;
    cr_assert(g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                            &gerr), "cannot start %s: %s", argv[0], gerr ? gerr->message : "?");
    return pid;
}

static void kill9(GPid pid)
{
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "child %d ended otherwise (status %d)", (int)pid, status);
    g_spawn_close_pid(pid);
}

static uint64_t journal_last(const char *journal)
{
    pw_journal *j = NULL;
    uint64_t first = 0, last = 0;
    pw_err err;
    cr_assert_eq(pw_journal_open(journal, true, false, &j, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_journal_bounds(j, &first, &last, &err), 0, "%s", err.msg);
    pw_journal_close(&j);
    return last;
}

Test(process, publisher_sigkill_continues_sequence, .timeout = 120)
{
    char *dir = tmp_dir();
    char *journal = g_build_filename(dir, "j.db", NULL);
    char *done = g_build_filename(dir, "done", NULL);
    char *pub_ep = g_strdup_printf("tcp://127.0.0.1:%d", free_port());
    char *rep_ep = g_strdup_printf("tcp://127.0.0.1:%d", free_port());
    char *argv1[] = {PW_PROC_PUB, journal, pub_ep, rep_ep, "-1", "2", NULL};
    GPid pid = spawn(argv1);

    collector c;
    collector_init(&c);
    pw_subscriber_config cfg = plain_sub_config(pub_ep, rep_ep);
    cfg.backfill_new_streams = true;
    pw_subscriber *sub = NULL;
    cr_assert_eq(pw_subscriber_new(&cfg, collector_cb, &c, &sub, NULL), 0);
    run_until_count(sub, &c, 150, 30000);
    cr_assert_geq(c.seqs->len, 150, "only %u events before the kill", c.seqs->len);
    kill9(pid);
    uint64_t before = journal_last(journal);
    pw_subscriber_run(sub, 300);

    char *argv2[] = {PW_PROC_PUB, journal, pub_ep, rep_ep, "100", "1", done, NULL};
    pid = spawn(argv2);
    int64_t end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (!g_file_test(done, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < end)
        pw_subscriber_run(sub, 100);
    char *text = NULL;
    cr_assert(g_file_get_contents(done, &text, NULL, NULL), "restarted publisher did not finish");
    uint64_t last = g_ascii_strtoull(text, NULL, 10);
    g_free(text);
    cr_expect_eq(last, before + 100, "sequence restarted at %" G_GUINT64_FORMAT
                 " after %" G_GUINT64_FORMAT, last - 99, before);
    run_until_count(sub, &c, (guint)last, 30000);
    cr_expect(collector_is_sequence(&c, last), "subscriber holds %u of %" G_GUINT64_FORMAT,
              c.seqs->len, last);
    pw_subscriber_counters sc;
    pw_subscriber_get_counters(sub, &sc);
    cr_expect_geq(sc.restarts, 1);
    cr_expect_eq(sc.lost, 0);
    kill9(pid);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    rm_tree(dir);
    g_free(dir);
    g_free(journal);
    g_free(done);
    g_free(pub_ep);
    g_free(rep_ep);
}

static guint count_lines(const char *path)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    guint n = 0;
    for (char *p = text; *p; p++)
        n += *p == '\n';
    g_free(text);
    return n;
}

static void publish_some(pw_publisher *pub, int n)
{
    for (int i = 0; i < n; i++) {
        pw_event ev = make_event(PW_EVENT_VEHICLE_NEW, "SUBK1LL");
        cr_assert_eq(pw_publisher_publish(pub, &ev, NULL, 0, NULL), 0);
        g_usleep(1000);
    }
}

static void wait_lines(const char *path, guint n, int timeout_s)
{
    int64_t end = g_get_monotonic_time() + (int64_t)timeout_s * G_USEC_PER_SEC;
    while (count_lines(path) < n && g_get_monotonic_time() < end)
        g_usleep(20000);
}

Test(process, subscriber_sigkill_resumes_exactly_once, .timeout = 120)
{
    char *dir = tmp_dir();
    char *journal = g_build_filename(dir, "j.db", NULL);
    char *out = g_build_filename(dir, "out.txt", NULL);
    pw_publisher_config pcfg = plain_pub_config(journal);
    pw_publisher *pub = NULL;
    cr_assert_eq(pw_publisher_new(&pcfg, &pub, NULL), 0);
    char *pub_ep = g_strdup(pw_publisher_endpoint(pub, "pub"));
    char *rep_ep = g_strdup(pw_publisher_endpoint(pub, "replay"));
    char *argv[] = {PW_PROC_SUB, pub_ep, rep_ep, out, NULL};

    GPid pid = spawn(argv);
    publish_some(pub, 200);
    wait_lines(out, 100, 30);
    kill9(pid);                          /* mid-stream */
    publish_some(pub, 150);              /* published while nobody listens */
    pid = spawn(argv);
    publish_some(pub, 150);
    wait_lines(out, 500, 60);
    kill9(pid);

    char *text = NULL;
    cr_assert(g_file_get_contents(out, &text, NULL, NULL));
    gchar **lines = g_strsplit(text, "\n", -1);
    GHashTable *ids = g_hash_table_new(g_str_hash, g_str_equal);
    guint n = 0;
    for (gchar **l = lines; *l && **l; l++, n++) {
        gchar **f = g_strsplit(*l, " ", 3);
        cr_assert(f[0] && f[1] && f[2], "torn line %u: %s", n, *l);
        cr_expect_str_eq(f[0], pw_publisher_stream_id(pub));
        cr_expect_eq(g_ascii_strtoull(f[1], NULL, 10), n + 1, "line %u holds seq %s", n, f[1]);
        g_hash_table_add(ids, g_strdup(f[2]));
        g_strfreev(f);
    }
    cr_expect_eq(n, 500);
    cr_expect_eq(g_hash_table_size(ids), 500);
    g_hash_table_foreach(ids, (GHFunc)(void (*)(void))g_free, NULL);
    g_hash_table_unref(ids);
    g_strfreev(lines);
    g_free(text);
    pw_publisher_destroy(&pub);
    rm_tree(dir);
    g_free(dir);
    g_free(journal);
    g_free(out);
    g_free(pub_ep);
    g_free(rep_ep);
}
