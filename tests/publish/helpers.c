/* helpers.c - see helpers.h. */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

char *tmp_dir(void)
{
    GError *gerr = NULL;
    char *d = g_dir_make_tmp("pwpub-XXXXXX", &gerr);
    cr_assert(d, "cannot make a temporary directory: %s", gerr ? gerr->message : "?");
    return d;
}

void rm_tree(const char *dir)
{
    if (!dir)
        return;
    char *argv[] = {"rm", "-rf", (char *)dir, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

pw_publisher_config plain_pub_config(const char *journal)
{
    pw_publisher_config cfg = {
        .site = "dover",
        .lane = "l03",
        .pub_endpoint = "tcp://127.0.0.1:*",
        .replay_endpoint = "tcp://127.0.0.1:*",
        .journal_path = journal,
        .journal_sync_normal = true,   /* the crash tests use FULL (proc_pub) */
        .heartbeat_ms = 200,
        .allow_plain = true,
    };
    return cfg;
}

pw_subscriber_config plain_sub_config(const char *pub_ep, const char *replay_ep)
{
    pw_subscriber_config cfg = {
        .pub_endpoint = pub_ep,
        .replay_endpoint = replay_ep,
        .replay_timeout_ms = 1000,
        .allow_plain = true,
    };
    return cfg;
}

pw_event make_event(pw_event_kind kind, const char *plate)
{
    pw_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    g_strlcpy(ev.camera, "cam1", sizeof ev.camera);
    g_strlcpy(ev.plate, plate, sizeof ev.plate);
    g_strlcpy(ev.country, "GB", sizeof ev.country);
    ev.confidence = 0.93;
    /* The optional members a lane publishes: per-character confidences and alternatives. */
    ev.n_char_conf = strlen(plate);
    for (size_t i = 0; i < ev.n_char_conf; i++)
        ev.char_conf[i] = 0.95f - 0.01f * (float)i;
    ev.n_alts = 2;
    ev.alts[0] = (pw_reading){"AB12CDF", 0.41f};
    ev.alts[1] = (pw_reading){"A812CDE", 0.2f};
    int64_t now = g_get_real_time();
    ev.first_seen_us = now - 900000;
    ev.last_seen_us = now - 20000;
    ev.best_capture_us = now - 400000;
    ev.trigger_capture_us = now - 20000;
    ev.frames = 12;
    float corners[4][2] = {{100, 200}, {300, 202}, {299, 260}, {101, 258}};
    memcpy(ev.corners, corners, sizeof corners);
    return ev;
}

void collector_init(collector *c)
{
    memset(c, 0, sizeof *c);
    c->seqs = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    c->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    c->jsons = g_ptr_array_new_with_free_func(g_free);
}

void collector_clear(collector *c)
{
    g_array_unref(c->seqs);
    g_hash_table_unref(c->ids);
    g_ptr_array_unref(c->jsons);
    memset(c, 0, sizeof *c);
}

void collector_cb(const pw_event *ev, const char *json, const uint8_t *jpeg, size_t jpeg_len,
                  void *user)
{
    collector *c = user;
    (void)jpeg;
    if (ev->kind == PW_EVENT_HEARTBEAT) {
        c->heartbeats++;
        g_strlcpy(c->stream_id, ev->stream_id, sizeof c->stream_id);
        return;
    }
    if (ev->kind == PW_EVENT_STATS) {
        c->stats++;
        g_strlcpy(c->last_stats, json, sizeof c->last_stats);
        return;
    }
    g_array_append_val(c->seqs, ev->seq);
    g_hash_table_add(c->ids, g_strdup(ev->event_id));
    g_ptr_array_add(c->jsons, g_strdup(json));
    c->jpeg_total += jpeg_len;
}

bool collector_is_sequence(const collector *c, uint64_t n)
{
    if (c->seqs->len != n || g_hash_table_size(c->ids) != n)
        return false;
    for (guint i = 0; i < c->seqs->len; i++) {
        if (g_array_index(c->seqs, uint64_t, i) != i + 1)
            return false;
    }
    return true;
}

void run_until_count(pw_subscriber *sub, collector *c, guint n, int timeout_ms)
{
    int64_t end = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
    while (c->seqs->len < n && g_get_monotonic_time() < end)
        cr_assert_geq(pw_subscriber_run(sub, 50), 0);
}

void run_until_heartbeat(pw_subscriber *sub, collector *c, int timeout_ms)
{
    int64_t end = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
    while (c->heartbeats == 0 && g_get_monotonic_time() < end)
        cr_assert_geq(pw_subscriber_run(sub, 50), 0);
    cr_assert_gt(c->heartbeats, 0, "no heartbeat within %d ms", timeout_ms);
}

int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}
