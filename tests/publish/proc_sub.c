/*
 * proc_sub.c - a subscriber process for the crash tests:
 *   proc_sub PUB_EP REPLAY_EP OUT_FILE
 * appends "<stream> <seq> <event_id>" per vehicle event to OUT_FILE. On
 * start it reads OUT_FILE, drops a torn last line, and resumes after the
 * last sequence it holds, as a lane controller resumes from its own store.
 */
#define _POSIX_C_SOURCE 200809L
#include "subscriber.h"

#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_event(const pw_event *ev, const char *json, const uint8_t *jpeg, size_t n,
                     void *user)
{
    (void)json;
    (void)jpeg;
    (void)n;
    int fd = *(int *)user;
    char line[160];
    int len = snprintf(line, sizeof line, "%s %" G_GUINT64_FORMAT " %s\n", ev->stream_id,
                       ev->seq, ev->event_id);
    /* One write per line: a kill leaves whole lines or one torn tail. */
    if (write(fd, line, (size_t)len) != len)
        _exit(3);
}

/* Keeps the whole lines of path and returns the last (stream, seq). */
static void load_state(const char *path, char *stream, uint64_t *seq)
{
    char *text = NULL;
    gsize len = 0;
    stream[0] = '\0';
    *seq = 0;
    if (!g_file_get_contents(path, &text, &len, NULL))
        return;
    char *end = g_strrstr_len(text, (gssize)len, "\n");
    gsize keep = end ? (gsize)(end - text) + 1 : 0;
    if (truncate(path, (off_t)keep) != 0)
        _exit(3);
    text[keep] = '\0';
    gchar **lines = g_strsplit(text, "\n", -1);
    for (gchar **l = lines; *l; l++) {
        char s[64];
        unsigned long long q;
        if (sscanf(*l, "%63s %llu", s, &q) == 2) {
            g_strlcpy(stream, s, PW_UUID_LEN + 1);
            *seq = q;
        }
    }
    g_strfreev(lines);
    g_free(text);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: proc_sub PUB REPLAY OUT\n");
        return 2;
    }
    char stream[PW_UUID_LEN + 1];
    uint64_t seq = 0;
    load_state(argv[3], stream, &seq);
    int fd = open(argv[3], O_WRONLY | O_CREAT | O_APPEND, 0644);
    pw_subscriber_config cfg = {
        .pub_endpoint = argv[1], .replay_endpoint = argv[2], .allow_plain = true,
        .backfill_new_streams = true, .replay_timeout_ms = 1000,
        .kinds = PW_KIND_BIT(PW_EVENT_VEHICLE_NEW) | PW_KIND_BIT(PW_EVENT_VEHICLE_UPDATE) |
                 PW_KIND_BIT(PW_EVENT_VEHICLE_FINAL),
    };
    pw_subscriber *sub = NULL;
    pw_err err;
    pw_err_clear(&err);
    if (fd < 0 || pw_subscriber_new(&cfg, on_event, &fd, &sub, &err) != 0) {
        fprintf(stderr, "proc_sub: %s\n", err.msg);
        return 1;
    }
    if (stream[0])
        pw_subscriber_resume(sub, stream, seq);
    for (;;) {
        if (pw_subscriber_run(sub, 1000) < 0)
            return 1;
    }
}
