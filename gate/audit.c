/*
 * audit.c - the decisions audit table, the per-stream positions and the
 * "published" flag that makes publication survive a crash (docs/gate.md,
 * "Audit and idempotency"). All in the declarations store's SQLite file, so
 * that a decision, the declaration it used and the stream position commit
 * together.
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_internal.h"

#include <string.h>

static const char audit_sql[] =
    "CREATE TABLE IF NOT EXISTS decisions ("
    " event_id TEXT PRIMARY KEY,"
    " stream_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,"
    " site TEXT NOT NULL, lane TEXT NOT NULL, vehicle TEXT NOT NULL,"
    " plate TEXT NOT NULL, confidence REAL NOT NULL,"
    " verdict TEXT NOT NULL, reason TEXT NOT NULL,"
    " decl_id INTEGER, reference TEXT, distance REAL,"
    " decided_at INTEGER NOT NULL, json TEXT NOT NULL,"
    " published INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS decisions_unpublished ON decisions(decided_at)"
    " WHERE published = 0;"
    "CREATE TABLE IF NOT EXISTS stream_positions ("
    " stream_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);";

int pw_audit_init(sqlite3 *db, pw_err *err)
{
    return pw_db_exec(db, audit_sql, "creating the audit tables", err);
}

/* Statements are prepared per call: microseconds, small beside the commit. */
static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **s, pw_err *err)
{
    if (sqlite3_prepare_v2(db, sql, -1, s, NULL) != SQLITE_OK)
        return pw_db_fail(db, "audit", err);
    return 0;
}

static int finish(sqlite3 *db, sqlite3_stmt *s, int step, pw_err *err)
{
    int rc = step == SQLITE_DONE ? 0 : pw_db_fail(db, "audit", err);
    sqlite3_finalize(s);
    return rc;
}

int pw_audit_find(sqlite3 *db, const char *event_id, pw_gate_verdict *v, char **json,
                  pw_err *err)
{
    sqlite3_stmt *s;
    int rc = prep(db, "SELECT verdict, json FROM decisions WHERE event_id = ?", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, event_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        *v = strcmp(name, "RELEASE") == 0 ? PW_GATE_RELEASE
           : strcmp(name, "MANUAL") == 0  ? PW_GATE_MANUAL : PW_GATE_HOLD;
        *json = g_strdup((const char *)sqlite3_column_text(s, 1));
        sqlite3_finalize(s);
        return 1;
    }
    return finish(db, s, step, err);
}

int pw_audit_insert(sqlite3 *db, const pw_gate_read *r, const pw_gate_decision *d,
                    const char *json, int64_t decided_us, pw_err *err)
{
    const pw_event *ev = r->ev;
    sqlite3_stmt *s;
    int rc = prep(db, "INSERT INTO decisions (event_id, stream_id, seq, kind, site, lane,"
                  " vehicle, plate, confidence, verdict, reason, decl_id, reference,"
                  " distance, decided_at, json) VALUES"
                  " (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, ev->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, ev->stream_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (int64_t)ev->seq);
    sqlite3_bind_text(s, 4, pw_event_kind_name(ev->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, ev->site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, ev->lane, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, r->vehicle, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, r->plate, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 9, ev->confidence);
    sqlite3_bind_text(s, 10, pw_gate_verdict_name(d->verdict), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 11, d->reason, -1, SQLITE_STATIC);
    if (d->chosen >= 0) {
        const pw_gate_candidate *c = &g_array_index(d->candidates, pw_gate_candidate, d->chosen);
        sqlite3_bind_int64(s, 12, c->decl.id);
        sqlite3_bind_text(s, 13, c->decl.reference, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(s, 14, c->distance);
    }
    sqlite3_bind_int64(s, 15, decided_us);
    sqlite3_bind_text(s, 16, json, -1, SQLITE_STATIC);
    return finish(db, s, sqlite3_step(s), err);
}

int pw_audit_mark_published(sqlite3 *db, const char *event_id, pw_err *err)
{
    sqlite3_stmt *s;
    int rc = prep(db, "UPDATE decisions SET published = 1 WHERE event_id = ?", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, event_id, -1, SQLITE_STATIC);
    return finish(db, s, sqlite3_step(s), err);
}

int pw_audit_set_position(sqlite3 *db, const char *stream_id, uint64_t seq, pw_err *err)
{
    sqlite3_stmt *s;
    /* max(): a replayed older event must not move the position back. */
    int rc = prep(db, "INSERT INTO stream_positions (stream_id, last_seq) VALUES (?1, ?2)"
                  " ON CONFLICT(stream_id) DO UPDATE SET last_seq ="
                  " max(last_seq, excluded.last_seq)", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, stream_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)seq);
    return finish(db, s, sqlite3_step(s), err);
}

int pw_audit_positions(sqlite3 *db, pw_audit_position_cb cb, void *user, pw_err *err)
{
    sqlite3_stmt *s;
    int rc = prep(db, "SELECT stream_id, last_seq FROM stream_positions", &s, err);
    if (rc)
        return rc;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW)
        cb((const char *)sqlite3_column_text(s, 0), (uint64_t)sqlite3_column_int64(s, 1),
           user);
    return finish(db, s, step, err);
}

int pw_audit_unpublished(sqlite3 *db, pw_audit_row_cb cb, void *user, pw_err *err)
{
    sqlite3_stmt *s;
    int rc = prep(db, "SELECT event_id, verdict, site, lane, json FROM decisions"
                  " WHERE published = 0"
                  " ORDER BY decided_at", &s, err);
    if (rc)
        return rc;
    /* Collected first: the callback marks rows published while we would be reading. */
    GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW)
        for (int c = 0; c < 5; c++)
            g_ptr_array_add(rows, g_strdup((const char *)sqlite3_column_text(s, c)));
    rc = finish(db, s, step, err);
    for (guint i = 0; rc == 0 && i + 4 < rows->len; i += 5) {
        const char *name = rows->pdata[i + 1];
        int v = strcmp(name, "RELEASE") == 0 ? PW_GATE_RELEASE
              : strcmp(name, "MANUAL") == 0  ? PW_GATE_MANUAL : PW_GATE_HOLD;
        cb(rows->pdata[i], v, rows->pdata[i + 2], rows->pdata[i + 3], rows->pdata[i + 4],
           user);
    }
    g_ptr_array_unref(rows);
    return rc;
}
