/*
 * helpers.h - shared set-up for the publish suites: temporary directories,
 * loopback publishers, an event factory and a collecting subscriber.
 */
#ifndef PW_TEST_PUBLISH_HELPERS_H
#define PW_TEST_PUBLISH_HELPERS_H

#include "publish.h"
#include "subscriber.h"

#include <glib.h>

/* A fresh directory under the system temporary directory (g_free; removed by rm_tree). */
char *tmp_dir(void);
void rm_tree(const char *dir);

/* A plain-TCP loopback publisher configuration with ephemeral ports. */
pw_publisher_config plain_pub_config(const char *journal);
/* A plain subscriber configuration for a publisher's endpoints. */
pw_subscriber_config plain_sub_config(const char *pub_ep, const char *replay_ep);

/* A filled vehicle.* event as the pipeline would hand it over. */
pw_event make_event(pw_event_kind kind, const char *plate);

/* What a collecting subscriber saw. */
typedef struct {
    GArray *seqs;          /* uint64_t, vehicle events in delivery order */
    GHashTable *ids;       /* event ids delivered (to spot duplicates) */
    GPtrArray *jsons;      /* vehicle event JSON texts */
    uint64_t heartbeats;
    uint64_t stats;
    char last_stats[4096];
    char stream_id[PW_UUID_LEN + 1];
    size_t jpeg_total;
} collector;

void collector_init(collector *c);
void collector_clear(collector *c);
void collector_cb(const pw_event *ev, const char *json, const uint8_t *jpeg, size_t jpeg_len,
                  void *user);
/* True when c holds exactly 1..n in order with distinct event ids. */
bool collector_is_sequence(const collector *c, uint64_t n);

/* Runs sub until c has n vehicle events (or timeout_ms passes, a liveness limit). */
void run_until_count(pw_subscriber *sub, collector *c, guint n, int timeout_ms);
/* Runs sub until it has seen at least one heartbeat. */
void run_until_heartbeat(pw_subscriber *sub, collector *c, int timeout_ms);

/* A free loopback TCP port (bound then released). */
int free_port(void);

#endif
