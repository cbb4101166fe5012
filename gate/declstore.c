/*
 * declstore.c - the declarations table and its plate-key index in SQLite:
 * schema, single-declaration commands, candidate lookup.
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_internal.h"

#include <errno.h>
#include <string.h>

struct pw_declstore {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *by_ref;     /* SELECT ... WHERE reference = ? */
    sqlite3_stmt *insert;
    sqlite3_stmt *update;
    sqlite3_stmt *key_ins;
    sqlite3_stmt *key_del;
    sqlite3_stmt *by_key;     /* declarations under one plate key */
    sqlite3_stmt *mark_used;
    GArray *bulk;             /* pending (key, decl_id) pairs during an import, or NULL */
};

typedef struct {
    int64_t key, id;
} key_pair;

#define DECL_COLS "id, reference, vehicle_plate, trailer_plate, country, site, lane, " \
                  "window_start, window_end, status, used_by, used_at"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS declarations ("
    " id INTEGER PRIMARY KEY,"
    " reference TEXT NOT NULL UNIQUE,"
    " vehicle_plate TEXT NOT NULL,"
    " trailer_plate TEXT NOT NULL DEFAULT '',"
    " country TEXT NOT NULL DEFAULT '',"
    " site TEXT NOT NULL DEFAULT '',"
    " lane TEXT NOT NULL DEFAULT '',"
    " window_start INTEGER NOT NULL,"
    " window_end INTEGER NOT NULL,"
    " status INTEGER NOT NULL DEFAULT 0,"
    " used_by TEXT NOT NULL DEFAULT '',"
    " used_at INTEGER NOT NULL DEFAULT 0);"
    /* The index on normalised plates: folded prefix/suffix keys (plate.c). */
    "CREATE TABLE IF NOT EXISTS plate_keys ("
    " key INTEGER NOT NULL, decl_id INTEGER NOT NULL,"
    " PRIMARY KEY (key, decl_id)) WITHOUT ROWID;";

sqlite3 *pw_declstore_db(pw_declstore *st)
{
    return st->db;
}

int pw_db_fail(sqlite3 *db, const char *what, pw_err *err)
{
    return pw_err_set(err, PW_ESTORE, "%s: %s", what, sqlite3_errmsg(db));
}

int pw_db_exec(sqlite3 *db, const char *sql, const char *what, pw_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    int rc = pw_err_set(err, PW_ESTORE, "%s: %s", what, msg ? msg : "SQLite error");
    sqlite3_free(msg);
    return rc;
}

static int prepare(pw_declstore *st, const char *sql, sqlite3_stmt **out, pw_err *err)
{
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK)
        return pw_err_set(err, PW_ESTORE, "%s: cannot prepare \"%s\": %s", st->path, sql,
                          sqlite3_errmsg(st->db));
    return 0;
}

static int prepare_all(pw_declstore *st, pw_err *err)
{
    int rc;
    if ((rc = prepare(st, "SELECT " DECL_COLS " FROM declarations WHERE reference = ?",
                      &st->by_ref, err)) ||
        (rc = prepare(st, "INSERT INTO declarations (reference, vehicle_plate, "
                      "trailer_plate, country, site, lane, window_start, window_end, status)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &st->insert, err)) ||
        (rc = prepare(st, "UPDATE declarations SET vehicle_plate = ?2, trailer_plate = ?3,"
                      " country = ?4, site = ?5, lane = ?6, window_start = ?7,"
                      " window_end = ?8, status = ?9 WHERE id = ?1", &st->update, err)) ||
        (rc = prepare(st, "INSERT OR IGNORE INTO plate_keys (key, decl_id) VALUES (?, ?)",
                      &st->key_ins, err)) ||
        (rc = prepare(st, "DELETE FROM plate_keys WHERE key = ? AND decl_id = ?",
                      &st->key_del, err)) ||
        (rc = prepare(st, "SELECT d.id, d.reference, d.vehicle_plate, d.trailer_plate,"
                      " d.country, d.site, d.lane, d.window_start, d.window_end, d.status,"
                      " d.used_by, d.used_at FROM plate_keys k JOIN declarations d"
                      " ON d.id = k.decl_id WHERE k.key = ?", &st->by_key, err)) ||
        (rc = prepare(st, "UPDATE declarations SET used_by = ?2, used_at = ?3 WHERE id = ?1",
                      &st->mark_used, err)))
        return rc;
    return 0;
}

int pw_declstore_new(const char *path, pw_declstore **out, pw_err *err)
{
    *out = NULL;
    if (!path || !*path)
        return pw_err_set(err, PW_ECONFIG, "no declarations store path configured");
    pw_declstore *st = g_new0(pw_declstore, 1);
    st->path = g_strdup(path);
    int rc = 0;
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = pw_err_set(err, PW_ESTORE, "cannot open the declarations store %s: %s", path,
                        st->db ? sqlite3_errmsg(st->db) : "out of memory");
    } else {
        /* Another process (the command line, an import) may hold the lock briefly. */
        sqlite3_busy_timeout(st->db, 5000);
        /* WAL lets the controller read while an import writes; NORMAL is durable
         * at each checkpoint and never corrupts, which suits a re-playable stream. */
        rc = pw_db_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                        " PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;",
                        path, err);
        if (rc == 0)
            rc = pw_db_exec(st->db, schema_sql, path, err);
        if (rc == 0)
            rc = prepare_all(st, err);
    }
    if (rc) {
        pw_declstore_destroy(&st);
        return rc;
    }
    *out = st;
    return 0;
}

void pw_declstore_destroy(pw_declstore **stp)
{
    if (!stp || !*stp)
        return;
    pw_declstore *st = *stp;
    sqlite3_stmt *stmts[] = {st->by_ref, st->insert, st->update, st->key_ins,
                             st->key_del, st->by_key, st->mark_used};
    for (size_t i = 0; i < G_N_ELEMENTS(stmts); i++)
        sqlite3_finalize(stmts[i]);
    sqlite3_close(st->db);
    if (st->bulk)
        g_array_unref(st->bulk);
    g_free(st->path);
    g_free(st);
    *stp = NULL;
}

static bool id_ok(const char *s)
{
    for (; *s; s++)
        if (!g_ascii_isalnum(*s) && *s != '_' && *s != '-')
            return false;
    return true;
}

static bool plate_ok(const char *p)
{
    char tmp[PW_PLATE_MAX + 1];
    return pw_plate_normalise(p, tmp, sizeof tmp) > 0 && strcmp(tmp, p) == 0;
}

int pw_decl_check(const pw_decl *d, pw_err *err)
{
    if (!d->reference[0])
        return pw_err_set(err, -EINVAL, "reference is empty");
    if (!plate_ok(d->vehicle_plate))
        return pw_err_set(err, -EINVAL, "vehicle_plate \"%s\" is not a plate of letters and "
                          "digits", d->vehicle_plate);
    if (d->trailer_plate[0] && !plate_ok(d->trailer_plate))
        return pw_err_set(err, -EINVAL, "trailer_plate \"%s\" is not a plate of letters and "
                          "digits", d->trailer_plate);
    if (d->country[0] && (strlen(d->country) != 2 || !g_ascii_isupper(d->country[0]) ||
                          !g_ascii_isupper(d->country[1])))
        return pw_err_set(err, -EINVAL, "country \"%s\" is not an ISO 3166 alpha-2 code",
                          d->country);
    if (!id_ok(d->site) || !id_ok(d->lane))
        return pw_err_set(err, -EINVAL, "site \"%s\" or lane \"%s\" is not an id of letters, "
                          "digits, '_' or '-'", d->site, d->lane);
    if (d->window_end_us < d->window_start_us)
        return pw_err_set(err, -EINVAL, "window_end is before window_start");
    if (d->status != PW_DECL_ACTIVE && d->status != PW_DECL_CANCELLED)
        return pw_err_set(err, -EINVAL, "status %d is unknown", (int)d->status);
    return 0;
}

static void copy_text(sqlite3_stmt *s, int col, char *dst, size_t size)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    g_strlcpy(dst, t ? t : "", size);
}

static void row_to_decl(sqlite3_stmt *s, pw_decl *d)
{
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(s, 0);
    copy_text(s, 1, d->reference, sizeof d->reference);
    copy_text(s, 2, d->vehicle_plate, sizeof d->vehicle_plate);
    copy_text(s, 3, d->trailer_plate, sizeof d->trailer_plate);
    copy_text(s, 4, d->country, sizeof d->country);
    copy_text(s, 5, d->site, sizeof d->site);
    copy_text(s, 6, d->lane, sizeof d->lane);
    d->window_start_us = sqlite3_column_int64(s, 7);
    d->window_end_us = sqlite3_column_int64(s, 8);
    d->status = (pw_decl_status)sqlite3_column_int(s, 9);
    copy_text(s, 10, d->used_by, sizeof d->used_by);
    d->used_at_us = sqlite3_column_int64(s, 11);
}

/* 1 and *out when the reference is stored, 0 when not, or a negative code. */
static int find_ref(pw_declstore *st, const char *ref, pw_decl *out, pw_err *err)
{
    sqlite3_stmt *s = st->by_ref;
    sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    int rc = 0;
    if (step == SQLITE_ROW) {
        row_to_decl(s, out);
        rc = 1;
    } else if (step != SQLITE_DONE) {
        rc = pw_db_fail(st->db, st->path, err);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

static int step_done(pw_declstore *st, sqlite3_stmt *s, pw_err *err)
{
    int step = sqlite3_step(s);
    int rc = step == SQLITE_DONE ? 0 : pw_db_fail(st->db, st->path, err);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

static void bind_fields(sqlite3_stmt *s, const pw_decl *d)
{
    sqlite3_bind_text(s, 2, d->vehicle_plate, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, d->trailer_plate, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, d->country, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, d->site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, d->lane, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, d->window_start_us);
    sqlite3_bind_int64(s, 8, d->window_end_us);
    sqlite3_bind_int(s, 9, (int)d->status);
}

/* Adds (or, with stmt = key_del, removes) the index keys of d's plates. */
static int index_plates(pw_declstore *st, sqlite3_stmt *stmt, int64_t id, const pw_decl *d,
                        pw_err *err)
{
    const char *plates[2] = {d->vehicle_plate, d->trailer_plate};
    for (int p = 0; p < 2; p++) {
        int64_t keys[PW_PLATE_KEYS];
        int n = pw_plate_store_keys(plates[p], keys);
        for (int i = 0; i < n; i++) {
            if (st->bulk && stmt == st->key_ins) {
                key_pair kp = {keys[i], id};
                g_array_append_val(st->bulk, kp);
                continue;
            }
            sqlite3_bind_int64(stmt, 1, keys[i]);
            sqlite3_bind_int64(stmt, 2, id);
            int rc = step_done(st, stmt, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static bool same_fields(const pw_decl *a, const pw_decl *b)
{
    return strcmp(a->vehicle_plate, b->vehicle_plate) == 0 &&
           strcmp(a->trailer_plate, b->trailer_plate) == 0 &&
           strcmp(a->country, b->country) == 0 && strcmp(a->site, b->site) == 0 &&
           strcmp(a->lane, b->lane) == 0 && a->window_start_us == b->window_start_us &&
           a->window_end_us == b->window_end_us && a->status == b->status;
}

static int update_existing(pw_declstore *st, const pw_decl *old, const pw_decl *d,
                           pw_err *err)
{
    sqlite3_bind_int64(st->update, 1, old->id);
    bind_fields(st->update, d);
    int rc = step_done(st, st->update, err);
    bool replated = strcmp(old->vehicle_plate, d->vehicle_plate) != 0 ||
                    strcmp(old->trailer_plate, d->trailer_plate) != 0;
    if (rc == 0 && replated) {
        rc = index_plates(st, st->key_del, old->id, old, err);
        if (rc == 0)
            rc = index_plates(st, st->key_ins, old->id, d, err);
    }
    return rc;
}

int pw_declstore_put(pw_declstore *st, const pw_decl *d, pw_put_outcome *outcome,
                     pw_err *err)
{
    pw_decl old;
    int found = find_ref(st, d->reference, &old, err);
    if (found < 0)
        return found;
    if (found) {
        *outcome = same_fields(&old, d) ? PW_PUT_UNCHANGED : PW_PUT_UPDATED;
        return *outcome == PW_PUT_UNCHANGED ? 0 : update_existing(st, &old, d, err);
    }
    *outcome = PW_PUT_INSERTED;
    sqlite3_bind_text(st->insert, 1, d->reference, -1, SQLITE_STATIC);
    bind_fields(st->insert, d);
    int rc = step_done(st, st->insert, err);
    return rc ? rc : index_plates(st, st->key_ins, sqlite3_last_insert_rowid(st->db), d, err);
}

/* Runs one change in its own transaction; want_existing: -1 must be new, 1 must exist. */
static int put_one(pw_declstore *st, const pw_decl *d, int want_existing, pw_err *err)
{
    int rc = pw_decl_check(d, err);
    if (rc)
        return rc;
    if ((rc = pw_db_exec(st->db, "BEGIN IMMEDIATE", st->path, err)))
        return rc;
    pw_decl old;
    int found = find_ref(st, d->reference, &old, err);
    pw_put_outcome outcome;
    if (found < 0)
        rc = found;
    else if (want_existing < 0 && found)
        rc = pw_err_set(err, -EEXIST, "reference %s is already declared (use amend)",
                        d->reference);
    else if (want_existing > 0 && !found)
        rc = pw_err_set(err, -ENOENT, "reference %s is not declared", d->reference);
    else
        rc = pw_declstore_put(st, d, &outcome, err);
    pw_db_exec(st->db, rc ? "ROLLBACK" : "COMMIT", st->path, rc ? NULL : err);
    return rc;
}

void pw_declstore_bulk_begin(pw_declstore *st)
{
    if (!st->bulk)
        st->bulk = g_array_new(FALSE, FALSE, sizeof(key_pair));
}

static gint key_pair_cmp(gconstpointer a, gconstpointer b)
{
    const key_pair *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

int pw_declstore_bulk_end(pw_declstore *st, bool apply, pw_err *err)
{
    GArray *bulk = st->bulk;
    int rc = 0;
    st->bulk = NULL;
    if (!bulk)
        return 0;
    if (!apply)
        g_array_set_size(bulk, 0);
    g_array_sort(bulk, key_pair_cmp);
    for (guint i = 0; rc == 0 && i < bulk->len; i++) {
        const key_pair *kp = &g_array_index(bulk, key_pair, i);
        sqlite3_bind_int64(st->key_ins, 1, kp->key);
        sqlite3_bind_int64(st->key_ins, 2, kp->id);
        rc = step_done(st, st->key_ins, err);
    }
    g_array_unref(bulk);
    return rc;
}

int pw_declstore_add(pw_declstore *st, const pw_decl *d, pw_err *err)
{
    return put_one(st, d, -1, err);
}

int pw_declstore_amend(pw_declstore *st, const pw_decl *d, pw_err *err)
{
    return put_one(st, d, 1, err);
}

int pw_declstore_get(pw_declstore *st, const char *reference, pw_decl *out, pw_err *err)
{
    int found = find_ref(st, reference, out, err);
    if (found < 0)
        return found;
    return found ? 0 : pw_err_set(err, -ENOENT, "reference %s is not declared", reference);
}

int pw_declstore_cancel(pw_declstore *st, const char *reference, pw_err *err)
{
    pw_decl d;
    int rc = pw_declstore_get(st, reference, &d, err);
    if (rc)
        return rc;
    d.status = PW_DECL_CANCELLED;
    return put_one(st, &d, 1, err);
}

int pw_declstore_mark_used(pw_declstore *st, int64_t id, const char *vehicle,
                           int64_t at_us, pw_err *err)
{
    sqlite3_bind_int64(st->mark_used, 1, id);
    sqlite3_bind_text(st->mark_used, 2, vehicle, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st->mark_used, 3, at_us);
    return step_done(st, st->mark_used, err);
}

int pw_declstore_candidates(pw_declstore *st, const char *norm, GHashTable *seen,
                            pw_decl_cb cb, void *user, pw_err *err)
{
    int64_t keys[PW_QUERY_KEYS];
    int n = pw_plate_query_keys(norm, keys);
    for (int i = 0; i < n; i++) {
        sqlite3_stmt *s = st->by_key;
        sqlite3_bind_int64(s, 1, keys[i]);
        int step, stop = 0;
        while (!stop && (step = sqlite3_step(s)) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(s, 0);
            if (g_hash_table_contains(seen, &id))
                continue;
            int64_t *k = g_new(int64_t, 1);
            *k = id;
            g_hash_table_add(seen, k);
            pw_decl d;
            row_to_decl(s, &d);
            stop = cb(&d, user);
        }
        int bad = !stop && step != SQLITE_DONE;
        sqlite3_reset(s);
        if (bad)
            return pw_db_fail(st->db, st->path, err);
        if (stop)
            break;
    }
    return 0;
}

typedef struct {
    const char *plate;
    pw_decl_cb cb;
    void *user;
} list_filter;

/* Keeps only true neighbours: a key can be shared by unrelated plates. */
static int list_near(const pw_decl *d, void *user)
{
    list_filter *f = user;
    if (pw_plate_distance(f->plate, d->vehicle_plate, 0.0) <= 1.0 ||
        (d->trailer_plate[0] && pw_plate_distance(f->plate, d->trailer_plate, 0.0) <= 1.0))
        return f->cb(d, f->user);
    return 0;
}

int pw_declstore_list(pw_declstore *st, const char *plate, pw_decl_cb cb, void *user,
                      pw_err *err)
{
    if (plate) {
        char norm[PW_PLATE_MAX + 1];
        if (pw_plate_normalise(plate, norm, sizeof norm) < 0)
            return pw_err_set(err, -EINVAL, "\"%s\" is not a plate", plate);
        GHashTable *seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
        list_filter f = {norm, cb, user};
        int rc = pw_declstore_candidates(st, norm, seen, list_near, &f, err);
        g_hash_table_unref(seen);
        return rc;
    }
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT " DECL_COLS " FROM declarations ORDER BY reference",
                           -1, &s, NULL) != SQLITE_OK)
        return pw_db_fail(st->db, st->path, err);
    int step, stop = 0;
    while (!stop && (step = sqlite3_step(s)) == SQLITE_ROW) {
        pw_decl d;
        row_to_decl(s, &d);
        stop = cb(&d, user);
    }
    int rc = (!stop && step != SQLITE_DONE) ? pw_db_fail(st->db, st->path, err) : 0;
    sqlite3_finalize(s);
    return rc;
}

int64_t pw_declstore_count(pw_declstore *st)
{
    sqlite3_stmt *s = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM declarations", -1, &s, NULL) ==
            SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

int pw_parse_time(const char *s, int64_t *out)
{
    GDateTime *dt = s && *s ? g_date_time_new_from_iso8601(s, NULL) : NULL;
    if (!dt)
        return -EINVAL;
    *out = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
    g_date_time_unref(dt);
    return 0;
}

char *pw_format_time(int64_t us)
{
    int64_t secs = us / G_USEC_PER_SEC, frac = us % G_USEC_PER_SEC;
    if (frac < 0) {
        frac += G_USEC_PER_SEC;
        secs -= 1;
    }
    GDateTime *base = g_date_time_new_from_unix_utc(secs);
    if (!base)
        return g_strdup("1970-01-01T00:00:00Z");
    GDateTime *dt = g_date_time_add(base, frac);
    g_date_time_unref(base);
    char *s = frac ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S.%fZ")
                   : g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
    g_date_time_unref(dt);
    return s;
}
