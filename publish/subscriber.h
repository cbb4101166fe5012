/*
 * subscriber.h - the C subscriber library for platewatch events.
 *
 * A subscriber connects a SUB socket to a publisher or forwarder and a
 * DEALER to the matching replay endpoint. It tracks each stream (one per
 * lane publisher, named by the journal's UUID) and delivers every vehicle
 * event exactly once and in sequence order to the callback: a sequence jump,
 * or a heartbeat announcing a higher last sequence than seen, triggers a
 * replay of the missing range; duplicates are dropped. Heartbeat and stats
 * events are delivered as they come (they are not sequenced).
 *
 * The subscription prefix selects sites and lanes ("plate.", "plate.dover.",
 * "plate.dover.l03."); kinds are filtered by the library after ordering,
 * because one sequence spans all vehicle kinds of a lane.
 *
 * To resume after a restart without gaps or duplicates, the application
 * records (stream_id, seq) of what it has processed and passes them to
 * pw_subscriber_resume() before the first pw_subscriber_run().
 *
 * Ownership: the subscriber is opaque; destroy accepts NULL and nulls the
 * pointer. Configuration strings are copied. The event, JSON and JPEG
 * handed to the callback are borrowed for the duration of the call.
 *
 * Threads: pw_subscriber_run() and the callback run in the caller's thread;
 * pw_subscriber_stop() may be called from any thread or from the callback.
 */
#ifndef PW_SUBSCRIBER_H
#define PW_SUBSCRIBER_H

#include "publish.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *pub_endpoint;      /* publisher or forwarder PUB/XPUB */
    const char *replay_endpoint;   /* publisher or forwarder ROUTER; NULL = no replay */
    const char *prefix;            /* topic prefix; NULL = "plate." */
    unsigned kinds;                /* PW_KIND_BIT mask delivered; 0 = all kinds */
    bool backfill_new_streams;     /* replay a stream's whole journal when first seen */
    int replay_timeout_ms;         /* re-ask after this long without an answer; 0 = 2000 */
    int replay_batch;              /* events per replay request; 0 = 500 */
    /* Security: both files, or allow_plain must be true. */
    const char *server_public_key_file;
    const char *client_secret_key_file;
    bool allow_plain;
} pw_subscriber_config;

/*
 * Called once per delivered event. json is the event's JSON text (NUL
 * terminated); jpeg/jpeg_len the optional crop (NULL/0 when absent).
 */
typedef void (*pw_subscriber_cb)(const pw_event *ev, const char *json,
                                 const uint8_t *jpeg, size_t jpeg_len, void *user);

typedef struct {
    uint64_t delivered;        /* events handed to the callback */
    uint64_t live;             /* vehicle events delivered straight from the PUB */
    uint64_t replayed;         /* vehicle events delivered from replay */
    uint64_t duplicates;       /* events dropped as already delivered */
    uint64_t gaps;             /* gaps detected (sequence jump or heartbeat) */
    uint64_t replay_requests;  /* replay requests sent (including retries) */
    uint64_t lost;             /* events the journal no longer held when asked */
    uint64_t malformed;        /* messages dropped as malformed */
    uint64_t restarts;         /* publisher restarts seen (new instance id) */
    uint64_t streams;          /* streams known */
} pw_subscriber_counters;

typedef struct pw_subscriber pw_subscriber;

int pw_subscriber_new(const pw_subscriber_config *cfg, pw_subscriber_cb cb,
                      void *user, pw_subscriber **out, pw_err *err);
void pw_subscriber_destroy(pw_subscriber **sub);

/* Declares that events of stream_id up to and including last_seq were processed. */
int pw_subscriber_resume(pw_subscriber *sub, const char *stream_id, uint64_t last_seq);

/*
 * Receives, orders, replays and delivers for up to timeout_ms (< 0: until
 * pw_subscriber_stop()). Returns the number of events delivered, or a
 * negative code for a socket failure, or PW_EHANDSHAKE when a security
 * handshake with the publisher failed (a wrong server public key, or a
 * client key the publisher does not allow): libzmq would otherwise retry
 * silently for ever. pw_subscriber_error() says which.
 */
int pw_subscriber_run(pw_subscriber *sub, int timeout_ms);
/* The sentence explaining the last negative return of pw_subscriber_run(), or "". */
const char *pw_subscriber_error(const pw_subscriber *sub);
/* Makes a running pw_subscriber_run() return soon. Thread-safe. */
void pw_subscriber_stop(pw_subscriber *sub);

/* Last sequence delivered for stream_id, 0 when unknown. */
uint64_t pw_subscriber_position(const pw_subscriber *sub, const char *stream_id);
void pw_subscriber_get_counters(const pw_subscriber *sub, pw_subscriber_counters *out);

/*
 * Makes a ZeroMQ socket the caller owns a CURVE client of the publisher
 * whose public key file is given, authenticated by the client's secret key
 * file (refused with PW_EKEYPERM when others may read it). For consumers
 * that keep their own socket, such as a lane controller's plain input.
 */
int pw_sock_curve_client(void *sock, const char *server_public_file,
                         const char *client_secret_file, pw_err *err);

/*
 * Handshake watch (handshake.c): a ZeroMQ socket's security handshakes seen
 * through libzmq's socket monitor, for the subscriber, the publisher, and
 * consumers that keep their own socket. A CURVE client with a wrong server
 * key, or a key the server refuses, otherwise hears nothing.
 */
typedef struct pw_handshake_watch pw_handshake_watch;
/*
 * Watches sock's security handshakes (call before it connects or binds); what
 * names the socket in sentences ("subscriber", "PUB"). The watch is read by
 * one thread at a time and must be destroyed before its context ends.
 */
int pw_handshake_watch_new(void *ctx, void *sock, const char *what, pw_handshake_watch **out,
                           pw_err *err);
void pw_handshake_watch_destroy(pw_handshake_watch **w);
/* The monitor socket, to add to a zmq_poll set (NULL for a NULL watch). */
void *pw_handshake_watch_socket(pw_handshake_watch *w);
/*
 * Reads what the monitor has reported without waiting. Returns the number of
 * failed handshakes, the last one described in err (code PW_EHANDSHAKE).
 */
int pw_handshake_watch_poll(pw_handshake_watch *w, pw_err *err);

/* Connections the watched (server) socket accepted and still has, as of the last poll. */
int pw_handshake_watch_connections(const pw_handshake_watch *w);

#ifdef __cplusplus
}
#endif

#endif
