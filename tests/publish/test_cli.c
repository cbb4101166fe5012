/*
 * test_cli.c - the keygen, tail and stats commands (apps/platewatch/cmd_publish.c),
 * run as processes through the platewatch command.
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs argv to completion; returns the exit status and the outputs (g_free). */
static int run(char **argv, char **out, char **err)
{
    int status = 0;
    GError *gerr = NULL;
    cr_assert(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status,
                           &gerr), "cannot run %s: %s", argv[0], gerr ? gerr->message : "?");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(cli, keygen_writes_a_pair_and_refuses_to_overwrite, .timeout = 30)
{
    char *dir = tmp_dir();
    char *base = g_build_filename(dir, "lane", NULL);
    char *argv[] = {PW_PLATEWATCH_EXE, "keygen", base, NULL};
    char *out = NULL, *err = NULL;
    cr_expect_eq(run(argv, &out, &err), 0, "%s", err);
    char *key = g_strconcat(base, ".key", NULL);
    struct stat st;
    cr_assert_eq(stat(key, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600);
    g_free(out);
    g_free(err);
    cr_expect_eq(run(argv, &out, &err), 1);
    cr_expect(strstr(err, "already exists") != NULL, "%s", err);
    g_free(out);
    g_free(err);
    char *none[] = {PW_PLATEWATCH_EXE, "keygen", NULL};
    cr_expect_eq(run(none, &out, &err), 2);
    g_free(out);
    g_free(err);
    g_free(key);
    g_free(base);
    rm_tree(dir);
    g_free(dir);
}

Test(cli, tail_prints_events_in_order_and_stats_prints_counters, .timeout = 60)
{
    char *dir = tmp_dir();
    char *journal = g_build_filename(dir, "j.db", NULL);
    pw_publisher_config cfg = plain_pub_config(journal);
    pw_publisher *pub = NULL;
    cr_assert_eq(pw_publisher_new(&cfg, &pub, NULL), 0);
    for (int i = 0; i < 4; i++) {
        pw_event ev = make_event(PW_EVENT_VEHICLE_FINAL, "TA1L");
        cr_assert_eq(pw_publisher_publish(pub, &ev, NULL, 0, NULL), 0);
    }
    char *state = g_build_filename(dir, "tail.state", NULL);
    char *argv[] = {PW_PLATEWATCH_EXE, "tail", "--plain", "-c", (char *)pw_publisher_endpoint(pub, "pub"),
                    "-r", (char *)pw_publisher_endpoint(pub, "replay"), "--from-start",
                    "--kind", "vehicle.final", "-n", "4", "-t", "20", "-s", state, NULL};
    char *out = NULL, *err = NULL;
    cr_expect_eq(run(argv, &out, &err), 0, "%s", err);
    gchar **lines = g_strsplit(out, "\n", -1);
    cr_assert_geq(g_strv_length(lines), 4);
    for (int i = 0; i < 4; i++) {
        char want[32];
        snprintf(want, sizeof want, "\"seq\":%d,", i + 1);
        cr_expect(strstr(lines[i], want) != NULL, "line %d: %s", i, lines[i]);
    }
    g_strfreev(lines);
    g_free(out);
    g_free(err);
    char *saved = NULL;
    cr_assert(g_file_get_contents(state, &saved, NULL, NULL));
    cr_expect(strstr(saved, "=4") != NULL, "%s", saved);
    g_free(saved);

    /* Resuming from the state file prints only what is new. */
    pw_event ev = make_event(PW_EVENT_VEHICLE_FINAL, "TA1L5");
    cr_assert_eq(pw_publisher_publish(pub, &ev, NULL, 0, NULL), 0);
    argv[11] = "1";
    cr_expect_eq(run(argv, &out, &err), 0, "%s", err);
    cr_expect(strstr(out, "\"seq\":5,") != NULL && !strstr(out, "\"seq\":4,"), "%s", out);
    g_free(out);
    g_free(err);

    /* --text prints one readable line per vehicle event. */
    char *targv[] = {PW_PLATEWATCH_EXE, "tail", "--plain", "-c", (char *)pw_publisher_endpoint(pub, "pub"),
                     "-r", (char *)pw_publisher_endpoint(pub, "replay"), "--from-start", "--text",
                     "--kind", "vehicle.final", "-n", "5", "-t", "20", NULL};
    cr_expect_eq(run(targv, &out, &err), 0, "%s", err);
    cr_expect(strstr(out, "#5") && strstr(out, "vehicle.final") && strstr(out, "TA1L5") && !strchr(out, '{'),
              "%s", out);
    g_free(out);
    g_free(err);

    char *sargv[] = {PW_PLATEWATCH_EXE, "stats", "--plain", "-c", (char *)pw_publisher_endpoint(pub, "pub"),
                     "-n", "1", "-t", "20", NULL};
    GPid pid = 0;
    int out_fd = -1;
    cr_assert(g_spawn_async_with_pipes(NULL, sargv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                       &pid, NULL, &out_fd, NULL, NULL));
    pw_stage_latency stages[] = {{"ocr", 30, 61}};
    pw_lane_health health = {.state = "retrying", .restarts = 4,
                             .last_error = "source 'file:///gone.avi' cannot start: no such file"};
    pw_lane_stats st = {.frames_in = 777, .stages = stages, .n_stages = 1, .health = &health};
    GString *text = g_string_new(NULL);
    int64_t end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    GIOChannel *ch = g_io_channel_unix_new(out_fd);
    g_io_channel_set_flags(ch, G_IO_FLAG_NONBLOCK, NULL);
    while (!strstr(text->str, "frames_in 777") && g_get_monotonic_time() < end) {
        pw_publisher_publish_stats(pub, "cam1", &st, NULL);
        g_usleep(100000);
        char buf[4096];
        gsize n = 0;
        while (g_io_channel_read_chars(ch, buf, sizeof buf, &n, NULL) == G_IO_STATUS_NORMAL && n)
            g_string_append_len(text, buf, (gssize)n);
    }
    cr_expect(strstr(text->str, "dover/l03/cam1") && strstr(text->str, "frames_in 777") &&
              strstr(text->str, "ocr"), "%s", text->str);
    cr_expect(strstr(text->str, "camera retrying") && strstr(text->str, "last frame never") &&
              strstr(text->str, "restarts 4") && strstr(text->str, "cannot start: no such file"),
              "the lane's health is printed: %s", text->str);
    int status = 0;
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
    g_io_channel_unref(ch);
    close(out_fd);
    g_string_free(text, TRUE);
    pw_publisher_destroy(&pub);
    g_free(state);
    g_free(journal);
    rm_tree(dir);
    g_free(dir);
}

/* The platewatch-forwarder process forwards a lane and stops cleanly on SIGTERM. */
Test(cli, forwarder_process, .timeout = 60)
{
    char *dir = tmp_dir();
    char *journal = g_build_filename(dir, "j.db", NULL);
    pw_publisher_config cfg = plain_pub_config(journal);
    pw_publisher *pub = NULL;
    cr_assert_eq(pw_publisher_new(&cfg, &pub, NULL), 0);
    for (int i = 0; i < 5; i++) {
        pw_event ev = make_event(PW_EVENT_VEHICLE_NEW, "FWDPROC");
        cr_assert_eq(pw_publisher_publish(pub, &ev, NULL, 0, NULL), 0);
    }
    char *up = g_strdup_printf("%s,%s", pw_publisher_endpoint(pub, "pub"),
                               pw_publisher_endpoint(pub, "replay"));
    char *fpub = g_strdup_printf("tcp://127.0.0.1:%d", free_port());
    char *frep = g_strdup_printf("tcp://127.0.0.1:%d", free_port());
    char *argv[] = {PW_FORWARDER, "--plain", "--pub", fpub, "--replay", frep, "-u", up, NULL};
    GPid pid = 0;
    cr_assert(g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL));
    collector c;
    collector_init(&c);
    pw_subscriber_config scfg = plain_sub_config(fpub, frep);
    scfg.backfill_new_streams = true;
    pw_subscriber *sub = NULL;
    cr_assert_eq(pw_subscriber_new(&scfg, collector_cb, &c, &sub, NULL), 0);
    run_until_count(sub, &c, 5, 20000);
    cr_expect(collector_is_sequence(&c, 5), "got %u", c.seqs->len);
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);

    char *bad[] = {PW_FORWARDER, "--plain", "--pub", fpub, "--replay", frep, "-u", "nocomma", NULL};
    char *out = NULL, *err = NULL;
    cr_expect_eq(run(bad, &out, &err), 2);
    cr_expect(strstr(err, "PUB,REPLAY") != NULL, "%s", err);
    g_free(out);
    g_free(err);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    pw_publisher_destroy(&pub);
    g_free(up);
    g_free(fpub);
    g_free(frep);
    g_free(journal);
    rm_tree(dir);
    g_free(dir);
}
