/*
 * bench_replay - the publisher's resident memory under hostile replay
 * clients (issue 14, item 7).
 *
 *   bench_replay [--events N] [--jpeg BYTES] [--frames N] [--requests N] [--dir DIR]
 *
 * A child process runs one publisher over a journal of N events (each with a
 * JPEG crop of BYTES); this process is the client and reads the child's
 * VmRSS from /proc between steps, so the client's own buffers never count:
 *   1. baseline: the publisher after one well-formed replay read in full;
 *   2. one request message of --frames frames (default 2,000,000);
 *   3. --requests REPLAY requests asking for 2,000,000 events each, sent
 *      without reading a single reply (what queues in the ROUTER);
 *   4. the same after the client has disconnected.
 * Each row gives VmRSS and its ratio to the baseline. Markdown table for
 * docs/BENCHMARKS.md (section 5, "Replay memory").
 */
#define _POSIX_C_SOURCE 200809L
#include "publish_internal.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

typedef struct {
    int events;
    int jpeg;
    int frames;
    int requests;
    char *dir;
} options;

static long rss_kb(pid_t pid)
{
    char path[64], *text = NULL;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    long kb = -1;
    if (g_file_get_contents(path, &text, NULL, NULL)) {
        const char *line = strstr(text, "VmRSS:");
        if (line)
            kb = strtol(line + 6, NULL, 10);
    }
    g_free(text);
    return kb;
}

/* The child: a publisher with opt->events journalled events, serving until killed. */
static int run_publisher(const options *opt, const char *journal, int ready_fd)
{
    pw_publisher_config cfg = {
        .site = "bench", .lane = "l01", .pub_endpoint = "tcp://127.0.0.1:*",
        .replay_endpoint = "tcp://127.0.0.1:*", .journal_path = journal,
        .heartbeat_ms = 1000, .allow_plain = true, .journal_sync_normal = true,
        .journal_max_bytes = INT64_C(1) << 40,
    };
    pw_publisher *pub = NULL;
    pw_err err;
    pw_err_clear(&err);
    if (pw_publisher_new(&cfg, &pub, &err) != 0) {
        fprintf(stderr, "bench_replay: %s\n", err.msg);
        return 1;
    }
    uint8_t *jpeg = g_malloc0((gsize)opt->jpeg + 1);
    for (int i = 0; i < opt->events; i++) {
        pw_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = PW_EVENT_VEHICLE_FINAL;
        g_strlcpy(ev.camera, "cam1", sizeof ev.camera);
        snprintf(ev.plate, sizeof ev.plate, "BR%05d", i);
        ev.confidence = 0.9;
        ev.last_seen_us = ev.first_seen_us = ev.best_capture_us = g_get_real_time();
        if (pw_publisher_publish(pub, &ev, opt->jpeg ? jpeg : NULL, (size_t)opt->jpeg, &err)) {
            fprintf(stderr, "bench_replay: %s\n", err.msg);
            return 1;
        }
    }
    g_free(jpeg);
    char line[512];
    int n = snprintf(line, sizeof line, "%s %s\n", pw_publisher_endpoint(pub, "replay"),
                     pw_publisher_stream_id(pub));
    if (write(ready_fd, line, (size_t)n) != n)
        return 1;
    close(ready_fd);
    for (;;)
        pause();
}

static void *client(void *ctx, const char *ep)
{
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0, rcvtimeo = 30000, hwm = 0;
    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(d, ZMQ_RCVTIMEO, &rcvtimeo, sizeof rcvtimeo);
    zmq_setsockopt(d, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_connect(d, ep);
    return d;
}

static void send_replay(void *d, const char *stream, const char *since, const char *max)
{
    const void *data[] = {"", PW_REPLAY_CMD_REPLAY, "r", stream, since, max};
    size_t len[] = {0, 6, 1, strlen(stream), strlen(since), strlen(max)};
    pw_send_frames(d, data, len, 6, 0);
}

/* Reads replies until END or ERROR; returns the number of EVENT replies. */
static long read_until_end(void *d)
{
    long events = 0;
    for (;;) {
        GPtrArray *f = NULL;
        if (pw_recv_frames(d, &f, 0) != 0)
            return -1;
        char *kind = pw_frame_strdup(f, 1);
        bool end = !kind || strcmp(kind, PW_REPLAY_REP_EVENT) != 0;
        events += !end;
        g_free(kind);
        g_ptr_array_unref(f);
        if (end)
            return events;
    }
}

/* Waits until the child's RSS stops moving (the service thread has caught up). */
static long settled_rss(pid_t pid)
{
    long last = rss_kb(pid), now = last;
    for (int i = 0; i < 100; i++) {
        g_usleep(200 * 1000);
        now = rss_kb(pid);
        if (labs(now - last) < 256)
            break;
        last = now;
    }
    return now;
}

static void row(const char *what, long kb, long base)
{
    printf("| %-58s | %9.1f | %5.2f |\n", what, kb / 1024.0, base > 0 ? (double)kb / base : 0);
}

int main(int argc, char **argv)
{
    options opt = {.events = 6000, .jpeg = 64 * 1024, .frames = 2000000, .requests = 20};
    GOptionEntry entries[] = {
        {"events", 0, 0, G_OPTION_ARG_INT, &opt.events, "events in the journal", "N"},
        {"jpeg", 0, 0, G_OPTION_ARG_INT, &opt.jpeg, "crop bytes per event", "BYTES"},
        {"frames", 0, 0, G_OPTION_ARG_INT, &opt.frames, "frames in the one huge request", "N"},
        {"requests", 0, 0, G_OPTION_ARG_INT, &opt.requests, "unread replay requests", "N"},
        {"dir", 0, 0, G_OPTION_ARG_FILENAME, &opt.dir, "journal directory", "DIR"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *oc = g_option_context_new("- publisher memory under hostile replay clients");
    g_option_context_add_main_entries(oc, entries, NULL);
    GError *gerr = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
        fprintf(stderr, "bench_replay: %s\n", gerr->message);
        return 2;
    }
    g_option_context_free(oc);
    char *dir = opt.dir ? g_strdup(opt.dir) : g_dir_make_tmp("pw-bench-replay-XXXXXX", NULL);
    char *journal = g_build_filename(dir, "journal.db", NULL);
    g_unlink(journal);
    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        _exit(run_publisher(&opt, journal, fds[1]));
    }
    close(fds[1]);
    char ready[512] = "";
    FILE *rf = fdopen(fds[0], "r");
    if (!rf || !fgets(ready, sizeof ready, rf)) {
        fprintf(stderr, "bench_replay: the publisher did not start\n");
        return 1;
    }
    fclose(rf);
    char ep[256], stream[64];
    if (sscanf(ready, "%255s %63s", ep, stream) != 2)
        return 1;

    void *ctx = zmq_ctx_new();
    void *d = client(ctx, ep);
    char maxs[32];
    snprintf(maxs, sizeof maxs, "%d", PW_REPLAY_MAX_BATCH);
    send_replay(d, stream, "0", maxs);
    long got = read_until_end(d);
    long base = settled_rss(pid);
    printf("Journal: %d events with %d-byte crops; one well-formed replay returned %ld events.\n\n",
           opt.events, opt.jpeg, got);
    printf("| %-58s | %9s | %5s |\n", "publisher state", "VmRSS MB", "ratio");
    printf("|%s|%s|%s|\n", "------------------------------------------------------------",
           "-----------", "-------");
    row("baseline (after one replay read in full)", base, base);

    /* 2. Messages of many empty frames after a well-formed head, three times over. */
    char label[128];
    int rcvtimeo = 3000;
    zmq_setsockopt(d, ZMQ_RCVTIMEO, &rcvtimeo, sizeof rcvtimeo);
    for (int round = 1; round <= 3; round++) {
        zmq_send(d, "", 0, ZMQ_SNDMORE);
        zmq_send(d, "INFO", 4, ZMQ_SNDMORE);
        for (int i = 0; i < opt.frames; i++)
            zmq_send(d, "", 0, i + 1 < opt.frames ? ZMQ_SNDMORE : 0);
        GPtrArray *f = NULL;
        int rc = pw_recv_frames(d, &f, 0);
        char *kind = rc == 0 ? pw_frame_strdup(f, 1) : NULL;
        snprintf(label, sizeof label, "after request %d of %d frames (reply: %s)", round,
                 opt.frames, kind ? kind : "none, dropped");
        g_free(kind);
        if (f)
            g_ptr_array_unref(f);
        row(label, settled_rss(pid), base);
    }

    /* 3. Many large replay requests that are never read. */
    for (int i = 0; i < opt.requests; i++)
        send_replay(d, stream, "0", "2000000");
    snprintf(label, sizeof label, "%d unread requests for 2,000,000 events each",
             opt.requests);
    row(label, settled_rss(pid), base);
    zmq_close(d);
    row("after that client disconnected", settled_rss(pid), base);

    zmq_ctx_term(ctx);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    g_unlink(journal);
    char *wal = g_strconcat(journal, "-wal", NULL), *shm = g_strconcat(journal, "-shm", NULL);
    g_unlink(wal);
    g_unlink(shm);
    if (!opt.dir)
        g_rmdir(dir);
    g_free(wal);
    g_free(shm);
    g_free(journal);
    g_free(dir);
    g_free(opt.dir);
    return 0;
}
