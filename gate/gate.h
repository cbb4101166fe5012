/*
 * gate.h - the lane controller: cross-checks vehicle.new and vehicle.final
 * plate events against the declarations store and decides the gate:
 * RELEASE, HOLD or MANUAL (rules and thresholds in docs/gate.md).
 *
 * Every decision, with its evidence, is written to an audit table in the
 * store's SQLite file in the same transaction that marks a released
 * declaration as used and records the stream position; only then is it
 * published (PUB socket, topic gate.<site>.<lane>.decision) and handed to
 * the on_decision callback. Decisions are idempotent by event id: an event
 * seen again returns the stored decision, flagged duplicate, and is neither
 * re-audited nor re-published.
 *
 * Ownership: pw_gate and pw_gate_settings are opaque; their _destroy()
 * accept NULL and null the caller's pointer. pw_gate_config strings are
 * borrowed and copied by pw_gate_new(). A pw_gate_result's json is owned by
 * the result: release it with pw_gate_result_clear(). The json handed to
 * on_decision, and the event given to pw_gate_handle_event(), are borrowed
 * for the duration of the call.
 *
 * Threads: pw_gate_run() and pw_gate_handle_event/_json() are called from one
 * thread; pw_gate_stop() may be called from any thread.
 */
#ifndef PW_GATE_H
#define PW_GATE_H

#include "publish.h"
#include "pw_common.h"
#include "pw_metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PW_GATE_RELEASE = 1,   /* one declaration matches well: open the gate */
    PW_GATE_HOLD = 2,      /* no usable declaration, or several conflicting ones */
    PW_GATE_MANUAL = 3,    /* a match too uncertain to decide: an officer looks */
} pw_gate_verdict;

/* "RELEASE", "HOLD" or "MANUAL"; NULL for another value. */
const char *pw_gate_verdict_name(pw_gate_verdict v);

typedef struct {
    double confusion_cost;       /* cost of an OCR-confusion substitution */
    double release_distance;     /* best distance <= this may release */
    double manual_distance;      /* candidates up to this distance are shown (< 2) */
    double ambiguity_margin;     /* a runner-up closer than this to the best -> MANUAL */
    double alternative_penalty;  /* added to the distance of an alternative read */
    double min_confidence;       /* below this a read never releases */
    int64_t window_grace_s;      /* arrival window widened by this on both sides */
} pw_gate_thresholds;

/* [console] and [metrics]: the officer's web console (docs/console.md). */
typedef struct {
    const char *listen;           /* "ADDRESS:PORT" (port 0 = any); NULL = no console */
    const char *certificate;      /* PEM certificate file; NULL = plain HTTP (loopback only) */
    const char *key;              /* PEM private key of the certificate */
    int session_timeout_s;        /* idle sessions end after this; 0 = the default */
    int login_attempts;           /* failures per address or name per window; 0 = the default */
    int login_window_s;           /* 0 = the default */
    const char *metrics_listen;   /* plain /metrics and /healthz; NULL = none */
    const char *assets_dir;       /* serve the pages from here; NULL = built in */
} pw_web_config;

/* Called after a new decision is committed and published. */
typedef void (*pw_gate_decision_cb)(pw_gate_verdict v, const char *json, void *user);

typedef struct {
    const char *store_path;         /* SQLite file: declarations, audit, positions */
    const char *decision_endpoint;  /* PUB bind for decisions; NULL = do not publish */
    /* Event input for pw_gate_run(); NULL events_endpoint = no input socket. */
    const char *events_endpoint;    /* publisher or forwarder PUB */
    const char *replay_endpoint;    /* its ROUTER (used with the subscriber library) */
    const char *prefix;             /* topic prefix; NULL = "plate." */
    const char *server_public_key_file;   /* CURVE: publisher's public key */
    const char *client_secret_key_file;   /* CURVE: this controller's key pair */
    bool allow_plain;               /* explicit: no CURVE towards the publisher */
    /* A plain ZeroMQ SUB instead of the subscriber library: no gap detection
     * or replay (see docs/gate.md). */
    bool plain_input;
    /* Replay a stream's whole journal when it is first seen and no position
     * is stored for it (first start only; old events are decided too). */
    bool backfill;
    int heartbeat_ms;               /* gate heartbeat on the PUB */
    pw_gate_thresholds th;
    pw_web_config console;          /* used by platewatch-gate run, not by pw_gate_new() */
    pw_gate_decision_cb on_decision;
    void *user;
} pw_gate_config;

/*
 * Fills cfg with the defaults, the one place they are written (the
 * reference docs/settings.md prints them); no endpoints, no store.
 */
void pw_gate_config_defaults(pw_gate_config *cfg);
/* The console's defaults (part of pw_gate_config_defaults()): no console, no metrics. */
void pw_web_config_defaults(pw_web_config *wc);
/* Checks thresholds and required fields, naming the first bad one. */
int pw_gate_config_check(const pw_gate_config *cfg, pw_err *err);

/*
 * A configuration loaded from a GKeyFile (config/gate.conf); it owns the
 * strings its pw_gate_config points at.
 */
typedef struct pw_gate_settings pw_gate_settings;
/* Unknown and repeated keys are refused naming file, line and key. */
int pw_gate_settings_load(const char *path, pw_gate_settings **out, pw_err *err);
pw_gate_config *pw_gate_settings_config(pw_gate_settings *s);
void pw_gate_settings_destroy(pw_gate_settings **s);
/*
 * The table of keys (pw_settings.h): fields of pw_gate_config, groups gate,
 * events, thresholds, console and metrics.
 */
struct pw_setting;
const struct pw_setting *pw_gate_settings_table(size_t *n);

typedef struct pw_gate pw_gate;

/* Opens the store, binds the decision PUB and connects the event input. */
int pw_gate_new(const pw_gate_config *cfg, pw_gate **out, pw_err *err);
void pw_gate_destroy(pw_gate **g);

typedef struct {
    pw_gate_verdict verdict;    /* 0 when the event was not a decidable vehicle event */
    bool duplicate;             /* the event id was already decided: stored decision */
    char *json;                 /* the decision JSON (docs/gate.md), g_malloc'd */
} pw_gate_result;

void pw_gate_result_clear(pw_gate_result *r);

/*
 * Decides one event as the subscriber library parsed it (its alternatives
 * are matched too, docs/gate.md). jpeg (may be NULL) is the event's crop,
 * kept with the decision for the console (docs/console.md). vehicle.update,
 * heartbeat and stats events are accepted and ignored (verdict 0). Returns
 * PW_ESTORE when SQLite fails (nothing is recorded then).
 */
int pw_gate_handle_event(pw_gate *g, const pw_event *ev, const void *jpeg, size_t jpeg_len,
                         pw_gate_result *out, pw_err *err);

/*
 * The same for an event given as its JSON text (docs/events.md), parsed by
 * pw_event_from_json(): PW_EMSG for a malformed event.
 */
int pw_gate_handle_json(pw_gate *g, const char *json, size_t len, pw_gate_result *out,
                        pw_err *err);

/*
 * Hands a decision made and committed elsewhere (an officer's review,
 * docs/console.md) to the deciding thread, which publishes it like its own,
 * gives it to on_decision and marks the vehicle's review published. Any
 * thread; json is copied.
 */
void pw_gate_post(pw_gate *g, const char *site, const char *lane, const char *vehicle,
                  const char *json);

/*
 * Receives and decides events for up to timeout_ms (< 0: until
 * pw_gate_stop()), publishing heartbeats. Returns the number of new
 * decisions, or a negative code for a socket failure.
 */
int pw_gate_run(pw_gate *g, int timeout_ms, pw_err *err);
void pw_gate_stop(pw_gate *g);

/* The bound decision endpoint (resolved), or NULL when not publishing. */
const char *pw_gate_endpoint(const pw_gate *g);

typedef struct {
    uint64_t events;       /* vehicle events received */
    uint64_t decisions;    /* new decisions */
    uint64_t duplicates;   /* events already decided */
    uint64_t malformed;    /* events refused as malformed */
    uint64_t ignored;      /* other kinds */
    uint64_t republished;  /* decisions found unpublished at start and sent */
} pw_gate_counters;

void pw_gate_get_counters(const pw_gate *g, pw_gate_counters *out);

/* What /metrics shows (docs/metrics.md); copied under a lock, so any thread. */
typedef struct {
    uint64_t decisions[4];          /* new decisions by pw_gate_verdict (index 1..3) */
    uint64_t officer[4];            /* officers' decisions published, by verdict */
    uint64_t duplicates, malformed;
    pw_histogram latency;           /* event received to decision committed, seconds */
    int64_t last_decision_us;       /* wall clock of the last new decision, 0 = none */
} pw_gate_metrics;

void pw_gate_get_metrics(pw_gate *g, pw_gate_metrics *out);

#ifdef __cplusplus
}
#endif

#endif
