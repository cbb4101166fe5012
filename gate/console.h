/*
 * console.h - the officer's web console of platewatch-gate (docs/console.md):
 * accounts (accounts.c), officer reviews of MANUAL vehicles and the crops
 * they are shown (review.c), and the HTTP server (web.c, web_api.c) with
 * its metrics (metrics.c).
 *
 * Storage: accounts, reviews and crops are tables in the gate's SQLite
 * store, beside the decisions audit, so that a review, the declaration it
 * uses and its publication flag commit together.
 *
 * Ownership: pw_web is opaque; pw_web_destroy() accepts NULL and nulls the
 * caller's pointer. pw_web_config strings are borrowed and copied. Strings
 * returned through char ** are g_malloc'd and owned by the caller.
 *
 * Threads: the functions taking a sqlite3 * run in the thread that owns
 * that connection. pw_web runs its server in a thread of its own with its
 * own store connection; pw_web_notify() may be called from any thread (the
 * controller's on_decision callback calls it from the deciding thread).
 */
#ifndef PW_CONSOLE_H
#define PW_CONSOLE_H

#include "gate_internal.h"

#include <stdbool.h>

/* ---- accounts.c ---- */

typedef enum {
    PW_ROLE_OFFICER = 1,   /* sees the lanes, resolves MANUAL vehicles */
    PW_ROLE_ADMIN = 2,     /* an officer who may also list the accounts */
} pw_role;

/* Longest account name, without the terminating NUL. */
#define PW_ACCOUNT_NAME_MAX 64
/* Password length limits: short ones are guessable, long ones a hashing cost. */
#define PW_PASSWORD_MIN 10
#define PW_PASSWORD_MAX 1024

/* "officer" or "admin"; NULL for another value. */
const char *pw_role_name(pw_role r);
/* 0 and *out for "officer" or "admin", -EINVAL otherwise. */
int pw_role_parse(const char *name, pw_role *out);

int pw_accounts_init(sqlite3 *db, pw_err *err);
/* -EEXIST when the name is taken; -EINVAL for a bad name or password. */
int pw_accounts_add(sqlite3 *db, const char *name, const char *password, pw_role role,
                    pw_err *err);
/* -ENOENT when there is no such account. */
int pw_accounts_passwd(sqlite3 *db, const char *name, const char *password, pw_err *err);
int pw_accounts_set_disabled(sqlite3 *db, const char *name, bool disabled, pw_err *err);
/*
 * 0 and *role when name exists, is enabled and password is its password;
 * PW_EAUTH otherwise (the message does not say which part was wrong). An
 * unknown name costs the same hashing time as a known one.
 */
int pw_accounts_verify(sqlite3 *db, const char *name, const char *password, pw_role *role,
                       pw_err *err);
typedef int (*pw_account_cb)(const char *name, pw_role role, bool disabled,
                             int64_t created_us, void *user);
int pw_accounts_list(sqlite3 *db, pw_account_cb cb, void *user, pw_err *err);

/* ---- review.c: officers' resolutions and crops ---- */

/* Longest reason an officer may give. */
#define PW_REVIEW_REASON_MAX 500

int pw_review_init(sqlite3 *db, pw_err *err);

/* Stores the event's JPEG crop (inside the caller's transaction). */
int pw_crop_put(sqlite3 *db, const char *event_id, const void *jpeg, size_t len,
                pw_err *err);
/* 1 and *out (g_bytes_unref) when the event has a crop, 0 when not. */
int pw_crop_get(sqlite3 *db, const char *event_id, GBytes **out, pw_err *err);

typedef struct {
    const char *event_id;     /* the decision reviewed (MANUAL or HOLD) */
    const char *officer;      /* account name */
    pw_gate_verdict action;   /* PW_GATE_RELEASE or PW_GATE_HOLD */
    const char *reason;       /* required, up to PW_REVIEW_REASON_MAX bytes */
    const char *plate;        /* "plate is actually ...": NULL or "" = the read stands */
    const char *reference;    /* RELEASE: the declaration; NULL = the one that matches */
} pw_review_request;

typedef struct {
    char *json;               /* the officer's decision JSON (docs/console.md) */
    bool duplicate;           /* the same resolution was already recorded */
    char site[PW_ID_MAX + 1], lane[PW_ID_MAX + 1];
    char vehicle[PW_DECL_VEHICLE_MAX + 1];
} pw_review_result;

void pw_review_result_clear(pw_review_result *r);

/*
 * Resolves one vehicle in one transaction: re-matches its read (or the
 * officer's corrected plate) against the declarations, records the review
 * with the officer and time, and marks a released declaration used. One
 * resolution per vehicle: repeating it returns the stored one flagged
 * duplicate; a different one is refused with -EEXIST. -ENOENT for an
 * unknown event, -EINVAL (message in err) for a request that cannot apply.
 */
int pw_review_resolve(pw_declstore *st, const pw_gate_thresholds *th,
                      const pw_review_request *rq, pw_review_result *out, pw_err *err);
/* Marks the vehicle's review as published. */
int pw_review_mark_published(sqlite3 *db, const char *vehicle, pw_err *err);
/* Reviews committed but never published, oldest first. */
int pw_review_unpublished(sqlite3 *db, pw_audit_row_cb cb, void *user, pw_err *err);

/*
 * Calls cb for every officer-checked read that has a crop: the corrected
 * plate, or the read plate the officer let stand. Oldest first.
 */
typedef int (*pw_correction_cb)(const char *event_id, const char *plate, bool corrected,
                                const void *jpeg, size_t len, void *user);
int pw_review_corrections(sqlite3 *db, pw_correction_cb cb, void *user, pw_err *err);

/* ---- web.c: the HTTP server ---- */


typedef struct pw_web pw_web;

/*
 * Opens its own connection to cfg's store, binds and starts serving in a
 * thread of its own. gate (may be NULL in tests) receives officer
 * decisions for publication (pw_gate_post) and provides the metrics.
 */
int pw_web_new(const pw_web_config *wc, const pw_gate_config *gc, pw_gate *gate,
               pw_web **out, pw_err *err);
void pw_web_destroy(pw_web **w);
/* The bound port of the console (or of the metrics listener). */
int pw_web_port(const pw_web *w);
int pw_web_metrics_port(const pw_web *w);
/* Tells the live views about a decision (thread-safe; json is copied). */
void pw_web_notify(pw_web *w, const char *json);

/* Checks a console configuration (listen address, TLS files, plain HTTP on loopback). */
int pw_web_config_check(const pw_web_config *wc, pw_err *err);

#endif
