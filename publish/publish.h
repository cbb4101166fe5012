/*
 * publish.h - the publishing side of a lane: the event model and its JSON,
 * the ZeroMQ publisher (PUB for events, ROUTER for replay, heartbeats),
 * the on-disk journal that makes sequence numbers survive a crash, CURVE
 * key files, and the site forwarder.
 *
 * One pw_publisher serves one lane: it owns one sequence space, one journal
 * and one PUB/ROUTER endpoint pair. A daemon with several lanes creates one
 * publisher per lane. The wire protocol is documented in docs/events.md.
 *
 * Ownership:
 *  - pw_event is a plain struct owned by whoever declared it. Its text
 *    fields are inline arrays. counters_json is owned by the event only when
 *    pw_event_from_json() filled it (free it with pw_event_clear()); when
 *    the pipeline hands an event to the publisher it is not read at all.
 *  - The jpeg bytes passed to pw_publisher_publish() are borrowed for the
 *    duration of the call.
 *  - pw_publisher and pw_forwarder are opaque; _destroy() accepts NULL and
 *    nulls the caller's pointer. Configuration strings are copied by _new().
 *
 * Thread safety: pw_publisher_publish() and pw_publisher_publish_stats()
 * may be called from any thread (they serialise on an internal lock).
 */
#ifndef PW_PUBLISH_H
#define PW_PUBLISH_H

#include "pw_common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a field changes meaning or a required field is added. */
#define PW_EVENT_SCHEMA_VERSION 1

/* Identifiers are at most PW_ID_MAX and plates PW_PLATE_MAX long (pw_common.h; the settings check ids too). */
/* Length of a UUID string, without the terminating NUL. */
#define PW_UUID_LEN 36
/* Largest latency_ms an event may carry (about 11.6 days); beyond it the clock is wrong. */
#define PW_EVENT_MAX_LATENCY_MS 1e9
/* Largest JPEG crop accepted, so a bad crop cannot flood the lane. */
#define PW_JPEG_MAX (4u * 1024u * 1024u)
/* Largest frame any platewatch socket accepts (a crop and room for JSON), so a peer cannot exhaust memory. */
#define PW_MAX_MSG_BYTES ((int64_t)PW_JPEG_MAX + 1024 * 1024)

typedef enum {
    PW_EVENT_VEHICLE_NEW = 1,    /* first confident read of a vehicle */
    PW_EVENT_VEHICLE_UPDATE = 2, /* the consensus text changed */
    PW_EVENT_VEHICLE_FINAL = 3,  /* the vehicle has left the lane */
    PW_EVENT_HEARTBEAT = 4,      /* every second: the last sequence number */
    PW_EVENT_STATS = 5,          /* periodic lane counters */
} pw_event_kind;

/* Bit for a kind in pw_subscriber_config.kinds. */
#define PW_KIND_BIT(k) (1u << (unsigned)(k))

/* One event. Fields marked (publisher) are filled by pw_publisher_publish(). */
typedef struct {
    pw_event_kind kind;
    int schema_version;                 /* (publisher) */
    uint64_t seq;                       /* (publisher) 0 for heartbeat and stats */
    char event_id[PW_UUID_LEN + 1];     /* (publisher) random UUID */
    char stream_id[PW_UUID_LEN + 1];    /* (publisher) the journal's UUID */
    char instance_id[PW_UUID_LEN + 1];  /* (publisher) changes at each start */
    char site[PW_ID_MAX + 1];           /* (publisher) from the configuration */
    char lane[PW_ID_MAX + 1];           /* (publisher) from the configuration */
    char camera[PW_ID_MAX + 1];
    int64_t published_us;               /* (publisher) wall clock, us since 1970 */

    /* vehicle.* events; times are wall clock, microseconds since 1970. */
    char plate[PW_PLATE_MAX + 1];       /* consensus text */
    double confidence;                  /* 0..1 */
    /*
     * Optional on the wire (events of older publishers lack them; both
     * counts are 0 then): the confidence 0..1 of each character of plate,
     * and readings other than plate voted over the passage, best first,
     * confidences 0..1.
     */
    size_t n_char_conf;
    float char_conf[PW_PLATE_MAX];
    size_t n_alts;
    pw_reading alts[PW_VEHICLE_MAX_ALTS];
    char country[PW_COUNTRY_MAX];       /* registration code ("GB", "F") or "" when unknown */
    int64_t first_seen_us;
    int64_t last_seen_us;
    int64_t best_capture_us;            /* capture time of the best frame */
    uint32_t frames;                    /* frames that contributed a read */
    float corners[4][2];                /* best frame, pixels: TL, TR, BR, BL */
    int64_t trigger_capture_us;         /* capture of the frame that caused the event */
    double latency_ms;                  /* (publisher) trigger capture to publish */
    uint32_t jpeg_bytes;                /* (publisher) size of the crop frame, 0 if none */

    /* heartbeat */
    uint64_t last_seq;                  /* last sequence number journalled */
    uint64_t first_seq;                 /* oldest sequence number still in the journal */

    /* stats: the "counters" object as JSON text (see pw_event_clear). */
    char *counters_json;
} pw_event;

/* Wire name of a kind ("vehicle.new", ...), or NULL for an invalid kind. */
const char *pw_event_kind_name(pw_event_kind kind);
/* Kind from its wire name; returns 0 or PW_EMSG for an unknown name. */
int pw_event_kind_parse(const char *name, pw_event_kind *out);

/*
 * Serialises ev to JSON (one object, see docs/event.schema.json). *json is
 * allocated with g_malloc; free it with g_free.
 */
int pw_event_to_json(const pw_event *ev, char **json, pw_err *err);
/*
 * Parses and checks one event. On success out is filled (counters_json is
 * allocated for stats events; release with pw_event_clear()). Returns
 * PW_EMSG with a sentence in err for anything malformed.
 */
int pw_event_from_json(const char *json, size_t len, pw_event *out, pw_err *err);
/* Frees what pw_event_from_json() allocated and zeroes the event. */
void pw_event_clear(pw_event *ev);
/* Writes the topic plate.<site>.<lane>.<kind> into buf; -ENOSPC when too small. */
int pw_event_topic(const pw_event *ev, char *buf, size_t size);

/* ---- CURVE keys ---- */

/*
 * Key files are GKeyFile text with a [curve] group: public-key= holds the
 * Z85 public key; a secret key file also holds secret-key=. Secret key
 * files must not be accessible to group or others (PW_EKEYPERM otherwise).
 * An allow-list is either a directory whose *.pub files are read, or one
 * key file in which every group's public-key= is allowed.
 */

/*
 * Loads a publisher's secret key file and client allow-list as
 * pw_publisher_new() would, and forgets them (for `platewatchd --check`).
 */
int pw_keys_check_server(const char *secret_key_file, const char *allow_list, pw_err *err);

/* Writes <base>.pub (0644) and <base>.key (0600). Refuses to overwrite (-EEXIST). */
int pw_keygen(const char *base, pw_err *err);

/* ---- Publisher ---- */

/* The journal's bounds when a configuration gives none (0). */
#define PW_JOURNAL_MAX_BYTES_DEFAULT (256LL << 20)
#define PW_JOURNAL_MAX_AGE_S_DEFAULT (7LL * 24 * 3600)

typedef struct {
    const char *site;              /* [A-Za-z0-9_-]+, used in topics */
    const char *lane;              /* [A-Za-z0-9_-]+, used in topics */
    const char *pub_endpoint;      /* e.g. tcp://0.0.0.0:7700 */
    const char *replay_endpoint;   /* e.g. tcp://0.0.0.0:7701 */
    const char *journal_path;      /* SQLite file; created when missing */
    int64_t journal_max_bytes;     /* the journal file (and WAL) is kept under this; 0 = 256 MiB */
    int64_t journal_max_age_s;     /* prune events older than this; 0 = 7 days */
    bool journal_sync_normal;      /* false (default): synchronous=FULL, an fsync per event,
                                      power-cut safe; true: NORMAL, crash safe only */
    int heartbeat_ms;              /* 0 = 1000 */
    int sndhwm;                    /* PUB high-water mark; 0 = 10000 */
    /* Security: both key settings, or allow_plain must be true. */
    const char *secret_key_file;   /* server key pair (.key) */
    const char *allow_list;        /* directory of .pub files or one key file */
    bool allow_plain;              /* explicit: no encryption, warned at start */
} pw_publisher_config;

typedef struct pw_publisher pw_publisher;

/* Counters a publisher keeps about itself (also in each stats event). */
typedef struct {
    uint64_t published;        /* vehicle events journalled and sent */
    uint64_t send_failures;    /* zmq_send refused (the event stays journalled) */
    uint64_t replay_requests;  /* well-formed replay requests answered */
    uint64_t replayed_events;  /* events sent through the replay endpoint */
    uint64_t bad_requests;     /* malformed replay requests */
    uint64_t auth_denied;      /* CURVE clients refused by the allow-list */
    uint64_t handshake_failed; /* security handshakes that failed on PUB or replay (any cause) */
    uint64_t last_seq;
    uint64_t subscribers;      /* TCP connections to the PUB open now (a refused one briefly) */
} pw_publisher_counters;

/*
 * Opens the journal (continuing its sequence), binds both endpoints and
 * starts the heartbeat/replay and ZAP threads. Bound endpoints can be read
 * back with pw_publisher_endpoint() (useful with tcp://127.0.0.1:*).
 */
int pw_publisher_new(const pw_publisher_config *cfg, pw_publisher **out, pw_err *err);
void pw_publisher_destroy(pw_publisher **pub);

/*
 * Assigns the next sequence number and an event id, journals the event
 * (with its crop) and only then publishes it. ev must be a vehicle.* kind;
 * the (publisher) fields of *ev are filled in on return. jpeg may be NULL.
 * A failure to send after journalling is not an error (replay recovers it).
 */
int pw_publisher_publish(pw_publisher *pub, pw_event *ev,
                         const uint8_t *jpeg, size_t jpeg_len, pw_err *err);

/* Per-lane pipeline counters for pw_publisher_publish_stats(). */
typedef struct {
    const char *name;   /* stage name, e.g. "detect" */
    double p50_ms;
    double p99_ms;
} pw_stage_latency;

typedef struct {
    const char *name;   /* queue name, e.g. "ocr_in" */
    int depth;
    int capacity;
} pw_queue_depth;

/* Whether a lane's camera delivers, and why not: the "health" of a stats event. */
typedef struct {
    const char *state;         /* "running", "starting", "retrying" or "stopped" */
    int64_t last_frame_us;     /* wall clock of the newest frame, us since 1970; 0 before any */
    uint64_t restarts;         /* source restarts: reconnects plus retried starts */
    const char *last_error;    /* the latest source error, "" or NULL when none */
} pw_lane_health;

typedef struct {
    uint64_t frames_in;
    uint64_t frames_dropped;
    uint64_t reads;
    uint64_t events;
    uint64_t reconnects;
    const pw_stage_latency *stages;
    size_t n_stages;
    const pw_queue_depth *queues;
    size_t n_queues;
    const pw_lane_health *health; /* NULL: the event has no "health" member */
} pw_lane_stats;

/*
 * Publishes one stats event (not sequenced, not journalled: a lost one is
 * superseded by the next). The publisher adds its own counters.
 */
int pw_publisher_publish_stats(pw_publisher *pub, const char *camera,
                               const pw_lane_stats *st, pw_err *err);

/* The bound endpoint ("pub" or "replay"), resolved; NULL for another name. */
const char *pw_publisher_endpoint(const pw_publisher *pub, const char *which);
/* The journal's stream UUID. */
const char *pw_publisher_stream_id(const pw_publisher *pub);
void pw_publisher_get_counters(pw_publisher *pub, pw_publisher_counters *out);

/* ---- Site forwarder ---- */

/*
 * One upstream: a lane daemon's (or another forwarder's) PUB and replay
 * endpoints. Events are proxied XSUB->XPUB with zmq_proxy; replay requests
 * arriving at the forwarder's ROUTER are routed to the upstream that owns
 * the requested stream (learnt with an INFO request to each upstream).
 */
typedef struct {
    const char *pub_endpoint;
    const char *replay_endpoint;
    const char *public_key_file;  /* its server key; NULL = upstream_public_key_file */
} pw_upstream;

typedef struct {
    const pw_upstream *upstreams;
    size_t n_upstreams;
    const char *pub_endpoint;     /* forwarder's XPUB bind */
    const char *replay_endpoint;  /* forwarder's ROUTER bind */
    /* Security, as for the publisher (server side towards subscribers). */
    const char *secret_key_file;
    const char *allow_list;
    bool allow_plain;
    /* Client side towards upstreams: their server public key and our key pair. */
    const char *upstream_public_key_file;
    const char *client_secret_key_file;
    int info_interval_ms;         /* re-learn stream owners; 0 = 2000 */
} pw_forwarder_config;

typedef struct pw_forwarder pw_forwarder;

/* Binds, connects and starts the proxy threads. */
int pw_forwarder_new(const pw_forwarder_config *cfg, pw_forwarder **out, pw_err *err);
const char *pw_forwarder_endpoint(const pw_forwarder *fw, const char *which);
void pw_forwarder_destroy(pw_forwarder **fw);

#ifdef __cplusplus
}
#endif

#endif
