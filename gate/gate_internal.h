/*
 * gate_internal.h - what the files of gate/ share with each other and with
 * tests/gate/; not part of the public API (declstore.h and gate.h).
 */
#ifndef PW_GATE_INTERNAL_H
#define PW_GATE_INTERNAL_H

#include "declstore.h"
#include "gate.h"
#include "publish.h"

#include <glib.h>
#include <sqlite3.h>

/* ---- plate.c: candidate keys ---- */

/* Three keys per plate: long prefix, long suffix, first and last pieces. */
#define PW_PLATE_KEYS 3
/* A read of length n is looked up under lengths n-1..n+1, three keys each. */
#define PW_QUERY_KEYS 9

/* The index keys of one stored plate; returns how many (0 for ""). */
int pw_plate_store_keys(const char *norm, int64_t keys[PW_PLATE_KEYS]);
/* The keys under which a read may find plates within one folded edit. */
int pw_plate_query_keys(const char *norm, int64_t keys[PW_QUERY_KEYS]);

/* ---- declstore.c ---- */

sqlite3 *pw_declstore_db(pw_declstore *st);
/* Runs sql (no rows) naming what in err on failure. */
int pw_db_exec(sqlite3 *db, const char *sql, const char *what, pw_err *err);
/* PW_ESTORE with SQLite's message. */
int pw_db_fail(sqlite3 *db, const char *what, pw_err *err);

typedef enum { PW_PUT_INSERTED, PW_PUT_UPDATED, PW_PUT_UNCHANGED } pw_put_outcome;
/*
 * Inserts or updates d by reference inside the caller's transaction,
 * re-indexing its plates when they change; used_by and used_at are kept.
 */
int pw_declstore_put(pw_declstore *st, const pw_decl *d, pw_put_outcome *outcome,
                     pw_err *err);
/*
 * Between these two calls (inside the caller's transaction) new index keys
 * are collected and inserted sorted at the end: appending to the key
 * B-tree in order is several times faster than random inserts. With
 * apply false (the import failed) the collected keys are dropped.
 */
void pw_declstore_bulk_begin(pw_declstore *st);
int pw_declstore_bulk_end(pw_declstore *st, bool apply, pw_err *err);
/* Calls cb for each distinct declaration found under the read's keys. */
int pw_declstore_candidates(pw_declstore *st, const char *norm, GHashTable *seen,
                            pw_decl_cb cb, void *user, pw_err *err);
/* Records the vehicle that a release used the declaration for. */
int pw_declstore_mark_used(pw_declstore *st, int64_t id, const char *vehicle,
                           int64_t at_us, pw_err *err);
/* Parses an RFC 3339 time with a zone into us since 1970. */
int pw_parse_time(const char *s, int64_t *out);
/* Formats us since 1970 as RFC 3339 UTC (g_free). */
char *pw_format_time(int64_t us);

/* ---- import.c ---- */

/* Splits one CSV record in place (RFC 4180 quoting, no line breaks in fields).
 * Returns the number of fields (fields[] holds the first max), or -1 for a
 * stray or unterminated quote. */
int pw_csv_split(char *line, char **fields, int max);

/* ---- decide.c: the decision input, derived from the event the subscriber parsed ---- */

typedef struct {
    const pw_event *ev;     /* borrowed: ids, site, lane, camera, confidence, times */
    char plate[PW_PLATE_MAX + 1];   /* ev->plate normalised; "" when not normalisable */
    /* ev's alternatives, normalised, without those equal to plate or unreadable. */
    int n_alts;
    char alt_plate[PW_VEHICLE_MAX_ALTS][PW_PLATE_MAX + 1];
    double alt_confidence[PW_VEHICLE_MAX_ALTS];
    char vehicle[PW_DECL_VEHICLE_MAX + 1];   /* stream/camera/first_seen: one vehicle */
} pw_gate_read;

/* Fills r from a vehicle event; r borrows ev, which must outlive it. */
void pw_gate_read_from_event(const pw_event *ev, pw_gate_read *r);

typedef struct {
    pw_decl decl;
    double distance;        /* best over plates and readings */
    const char *role;       /* "vehicle" or "trailer" */
    const char *via;        /* "read" or "alternative" */
    const char *excluded;   /* NULL when eligible, else why: "cancelled", ... */
} pw_gate_candidate;

typedef struct {
    pw_gate_verdict verdict;
    const char *reason;
    GArray *candidates;     /* pw_gate_candidate, sorted by distance */
    int chosen;             /* index of the matched candidate, -1 when none */
} pw_gate_decision;

/* Collects candidates from the store and applies the rules of docs/gate.md. */
int pw_gate_decide(pw_declstore *st, const pw_gate_thresholds *th, const pw_gate_read *r,
                   pw_gate_decision *out, pw_err *err);
void pw_gate_decision_clear(pw_gate_decision *d);
/* The decision JSON (docs/gate.md), g_malloc'd. */
char *pw_gate_decision_json(const pw_gate_read *r, const pw_gate_decision *d,
                            const pw_gate_thresholds *th, int64_t decided_us);

/* ---- audit.c ---- */

int pw_audit_init(sqlite3 *db, pw_err *err);
/* Stored decision for event_id: 1 and *json (g_malloc) when found, 0 when not. */
int pw_audit_find(sqlite3 *db, const char *event_id, pw_gate_verdict *v, char **json,
                  pw_err *err);
int pw_audit_insert(sqlite3 *db, const pw_gate_read *r, const pw_gate_decision *d,
                    const char *json, int64_t decided_us, pw_err *err);
int pw_audit_mark_published(sqlite3 *db, const char *event_id, pw_err *err);
/* Records the last sequence decided for a stream (within the caller's transaction). */
int pw_audit_set_position(sqlite3 *db, const char *stream_id, uint64_t seq, pw_err *err);
typedef int (*pw_audit_position_cb)(const char *stream_id, uint64_t seq, void *user);
int pw_audit_positions(sqlite3 *db, pw_audit_position_cb cb, void *user, pw_err *err);
typedef int (*pw_audit_row_cb)(const char *event_id, int verdict, const char *site,
                               const char *lane, const char *json, void *user);
/* Decisions committed but never marked published, oldest first. */
int pw_audit_unpublished(sqlite3 *db, pw_audit_row_cb cb, void *user, pw_err *err);

/* ---- checkpoint.c: WAL checkpoints in their own thread ---- */

typedef struct pw_checkpointer pw_checkpointer;
/* Turns writer's automatic checkpoints off and checkpoints path from a thread. */
int pw_checkpointer_start(const char *path, sqlite3 *writer, pw_checkpointer **out,
                          pw_err *err);
/* Stops the thread; writer (may be NULL) gets its WAL hook removed. */
void pw_checkpointer_stop(pw_checkpointer **c, sqlite3 *writer);

/* ---- source.c: where pw_gate_run() gets events ---- */

typedef struct pw_gate_source pw_gate_source;
/*
 * One event, parsed by pw_event_from_json() (in the subscriber library, or
 * by the plain socket's reader), with its optional crop (jpeg NULL and
 * jpeg_len 0 when absent): ev is NULL and refused says why when a message
 * was malformed. All are borrowed for the call.
 */
typedef void (*pw_gate_source_cb)(const pw_event *ev, const void *jpeg, size_t jpeg_len,
                                  const pw_err *refused, void *user);
int pw_gate_source_new(void *zctx, const pw_gate_config *cfg, pw_gate_source_cb cb,
                       void *user, pw_gate_source **out, pw_err *err);
/* Tells the source what was already decided (resume after a restart). */
int pw_gate_source_resume(pw_gate_source *s, const char *stream_id, uint64_t seq);
/* Receives for up to timeout_ms; returns events delivered or a negative code. */
int pw_gate_source_poll(pw_gate_source *s, int timeout_ms, pw_err *err);
void pw_gate_source_stop(pw_gate_source *s);
void pw_gate_source_destroy(pw_gate_source **s);

#endif
