/*
 * publish_internal.h - helpers shared by the files of publish/ and by its
 * tests; not part of the public API (see publish.h and subscriber.h).
 */
#ifndef PW_PUBLISH_INTERNAL_H
#define PW_PUBLISH_INTERNAL_H

#include "publish.h"

#include <glib.h>

/* ---- Replay protocol (docs/events.md, "Replay") ---- */
#define PW_REPLAY_CMD_REPLAY "REPLAY"
#define PW_REPLAY_CMD_INFO "INFO"
#define PW_REPLAY_REP_EVENT "EVENT"
#define PW_REPLAY_REP_END "END"
#define PW_REPLAY_REP_INFO "INFO"
#define PW_REPLAY_REP_ERROR "ERROR"
/* Largest number of events one replay request may ask for. */
#define PW_REPLAY_MAX_BATCH 5000
/* Longest request id, in bytes (any bytes, echoed as they came). */
#define PW_REPLAY_MAX_REQID 64
/*
 * Bytes of events (JSON and crops) one replay request sends at most; the END
 * says how many were sent and the client asks again from there. With
 * PW_REPLAY_QUEUE_MSGS this bounds what a client that does not read can make
 * the publisher hold.
 */
#define PW_REPLAY_MAX_BYTES (16 * 1024 * 1024)
/* Replies queued for one replay client (the ROUTER's send high-water mark). */
#define PW_REPLAY_QUEUE_MSGS 1000
/*
 * Most frames in any message a platewatch socket accepts: 6 for the largest
 * reply plus one envelope frame per forwarder hop. A longer message is read
 * to its end and dropped, so a peer cannot make us hold millions of frames.
 */
#define PW_MAX_FRAMES 32
/* PW_MAX_MSG_BYTES, the largest frame any platewatch socket accepts, is in publish.h. */

/* ---- event.c ---- */
/* True when s is a usable site/lane/camera id: [A-Za-z0-9_-]{1,PW_ID_MAX}. */
bool pw_id_valid(const char *s);
/* Wall clock in microseconds since 1970. */
int64_t pw_wall_us(void);
/* Heartbeat/stats JSON builders; *json is g_malloc'd. */
char *pw_event_heartbeat_json(const pw_event *ev);
char *pw_event_stats_json(const pw_event *ev, const pw_lane_stats *st,
                          const pw_publisher_counters *pc);

/* ---- keys.c ---- */
typedef struct {
    char public_z85[41];
    char secret_z85[41];
} pw_keypair;

/* Loads a secret key file (checks its permissions first). */
int pw_keys_load_secret(const char *path, pw_keypair *out, pw_err *err);
/* Loads the public key of a .pub (or .key) file as Z85. */
int pw_keys_load_public(const char *path, char z85[41], pw_err *err);
/* Loads an allow-list (directory of .pub files or one key file) as a set of Z85 keys. */
int pw_keys_load_allow(const char *path, GHashTable **out, pw_err *err);
/* Makes sock a CURVE server with kp (and the platewatch ZAP domain). */
int pw_sock_curve_server(void *sock, const pw_keypair *kp, pw_err *err);

/* ---- zap.c: the ZAP handler thread ---- */
typedef struct pw_zap pw_zap;
/* Binds inproc://zeromq.zap.01 in ctx and answers from a thread. Takes allow. */
int pw_zap_start(void *ctx, GHashTable *allow, pw_zap **out, pw_err *err);
/* Joins the thread; call after zmq_ctx_shutdown(ctx). */
void pw_zap_stop(pw_zap **zap);
uint64_t pw_zap_denied(pw_zap *zap);

/* ---- journal.c ---- */
typedef struct pw_journal pw_journal;
typedef int (*pw_journal_row_cb)(uint64_t seq, const char *topic, const char *json,
                                 const void *jpeg, size_t jpeg_len, void *user);

/* Opens (creating when missing) the journal; read_only opens an existing one for replay. */
int pw_journal_open(const char *path, bool read_only, bool sync_full,
                    pw_journal **out, pw_err *err);
void pw_journal_close(pw_journal **j);
/* The UUID stored in the journal when it was created. */
const char *pw_journal_stream_id(const pw_journal *j);
/* Oldest and newest sequence numbers held (0, 0 when empty; last survives pruning). */
int pw_journal_bounds(pw_journal *j, uint64_t *first, uint64_t *last, pw_err *err);
int pw_journal_append(pw_journal *j, uint64_t seq, int64_t ts_us, const char *topic,
                      const char *json, const uint8_t *jpeg, size_t jpeg_len, pw_err *err);
/*
 * Calls cb for events with seq > since, in order, at most max of them. A
 * callback that returns non-zero stops the read, and that value is returned.
 */
int pw_journal_read(pw_journal *j, uint64_t since, int max, pw_journal_row_cb cb,
                    void *user, pw_err *err);
/*
 * Deletes events older than max_age_s, and the oldest events until the
 * journal's file (database and WAL) fits in max_bytes. The newest event
 * always stays.
 */
int pw_journal_prune(pw_journal *j, int64_t max_bytes, int64_t max_age_s, pw_err *err);

/* ---- wire.c ---- */
/* Binds sock, naming the endpoint in err on failure; resolved gets ZMQ_LAST_ENDPOINT. */
int pw_sock_bind(void *sock, const char *endpoint, const char *what,
                 char *resolved, size_t resolved_size, pw_err *err);
/* Sends n frames as one multipart message; returns 0 or -errno. */
int pw_send_frames(void *sock, const void *const *data, const size_t *len, int n, int flags);
/*
 * Receives one whole multipart message into a GPtrArray of GBytes. A message
 * of more than PW_MAX_FRAMES frames is read to its end and dropped: PW_EMSG
 * with *out NULL (the socket stays usable).
 */
int pw_recv_frames(void *sock, GPtrArray **out, int flags);
/* Frame i as a NUL-terminated copy (g_free); NULL when out of range or when it holds a NUL. */
char *pw_frame_strdup(GPtrArray *frames, guint i);
/* True when frame i is exactly the bytes of text (no more, no fewer). */
bool pw_frame_is(GPtrArray *frames, guint i, const char *text);
/* True when frame i holds exactly len bytes equal to data. */
bool pw_frame_equals(GPtrArray *frames, guint i, const void *data, size_t len);

/* ---- subscriber.c ---- */
typedef struct pw_subscriber pw_subscriber;
/*
 * Handles one received message as pw_subscriber_run() does: frames from the
 * SUB socket, or (replay) from the DEALER. For the fuzz target of the
 * subscriber's message parsing; applications use pw_subscriber_run().
 */
void pw_subscriber_handle(pw_subscriber *sub, GPtrArray *frames, bool replay);

/* ---- replay_request.c: the one parser of replay requests (docs/events.md) ---- */
typedef enum { PW_REPLAY_REQ_REPLAY = 1, PW_REPLAY_REQ_INFO } pw_replay_cmd;

typedef struct {
    guint body;                 /* index of the command frame; 0 when there is no envelope */
    pw_replay_cmd cmd;
    const void *reqid;          /* borrowed from the frames; "" until it is known to be good */
    size_t reqid_len;
    char stream_id[PW_UUID_LEN + 1];   /* REPLAY only */
    uint64_t since;             /* REPLAY only */
    uint64_t max;               /* REPLAY only, 1..G_MAXINT64 as asked (not yet capped) */
} pw_replay_request;

/*
 * Parses [envelope...][""][command][reqid][...] as the publisher and the
 * forwarder receive it on their ROUTER. Returns 0, or PW_EMSG with err saying
 * what is wrong (the text of the ERROR reply). When req->body is 0 there is
 * no envelope to answer to and the request can only be dropped.
 */
int pw_replay_request_parse(GPtrArray *frames, pw_replay_request *req, pw_err *err);
/* Parses a decimal uint64; PW_EMSG when it is not one. */
int pw_parse_u64(const char *s, uint64_t *out);

#endif
