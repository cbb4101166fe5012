/*
 * proc_pub.c - a publisher process for the crash tests:
 *   proc_pub JOURNAL PUB_EP REPLAY_EP COUNT INTERVAL_MS [DONE_FILE]
 * publishes COUNT vehicle events (forever when COUNT < 0), one every
 * INTERVAL_MS, writes the last sequence number to DONE_FILE, then keeps
 * serving heartbeats and replay until killed.
 */
#define _POSIX_C_SOURCE 200809L
#include "publish.h"

#include <glib.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: proc_pub JOURNAL PUB REPLAY COUNT INTERVAL_MS [DONE]\n");
        return 2;
    }
    pw_publisher_config cfg = {
        .site = "dover", .lane = "l03", .pub_endpoint = argv[2], .replay_endpoint = argv[3],
        .journal_path = argv[1], .heartbeat_ms = 200,
        .allow_plain = true,
    };
    long count = strtol(argv[4], NULL, 10);
    long interval = strtol(argv[5], NULL, 10);
    pw_publisher *pub = NULL;
    pw_err err;
    pw_err_clear(&err);
    if (pw_publisher_new(&cfg, &pub, &err) != 0) {
        fprintf(stderr, "proc_pub: %s\n", err.msg);
        return 1;
    }
    uint64_t last = 0;
    for (long i = 0; count < 0 || i < count; i++) {
        pw_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = PW_EVENT_VEHICLE_UPDATE;
        snprintf(ev.camera, sizeof ev.camera, "cam1");
        snprintf(ev.plate, sizeof ev.plate, "KL%05ld", i % 100000);
        ev.confidence = 0.9;
        ev.last_seen_us = ev.first_seen_us = ev.best_capture_us = g_get_real_time();
        if (pw_publisher_publish(pub, &ev, NULL, 0, &err) != 0) {
            fprintf(stderr, "proc_pub: %s\n", err.msg);
            return 1;
        }
        last = ev.seq;
        g_usleep((gulong)interval * 1000);
    }
    if (argc > 6) {
        char text[32];
        snprintf(text, sizeof text, "%" G_GUINT64_FORMAT "\n", last);
        g_file_set_contents(argv[6], text, -1, NULL);
    }
    for (;;)
        g_usleep(G_USEC_PER_SEC);
}
