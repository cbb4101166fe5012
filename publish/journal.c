/*
 * journal.c - the event journal: an SQLite database in WAL mode holding
 * every vehicle event (topic, JSON, crop) by sequence number. The writer
 * appends before publishing; the replay thread reads through a second
 * connection, which WAL lets run beside the writer. The journal also names
 * the stream (a UUID created with the file) so that subscribers can tell a
 * continued sequence from a new one.
 */
#define _POSIX_C_SOURCE 200809L
#include "publish_internal.h"

#include <errno.h>
#include <sqlite3.h>
#include <string.h>

struct pw_journal {
    sqlite3 *db;
    sqlite3_stmt *insert;
    sqlite3_stmt *read;
    sqlite3_stmt *bounds;
    char path[4096];
    char stream_id[PW_UUID_LEN + 1];
};

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS events("
    "  seq INTEGER PRIMARY KEY,"
    "  ts_us INTEGER NOT NULL,"
    "  topic TEXT NOT NULL,"
    "  json TEXT NOT NULL,"
    "  jpeg BLOB,"
    "  bytes INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_ts ON events(ts_us);";

static int db_fail(pw_journal *j, pw_err *err, const char *what)
{
    return pw_err_set(err, PW_EJOURNAL, "journal %s: %s failed: %s", j->path, what,
                      sqlite3_errmsg(j->db));
}

static int exec(pw_journal *j, const char *sql, pw_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(j->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        pw_err_set(err, PW_EJOURNAL, "journal %s: \"%.60s\" failed: %s", j->path, sql,
                   msg ? msg : "unknown error");
        sqlite3_free(msg);
        return PW_EJOURNAL;
    }
    return 0;
}

/* Reads the stream UUID, creating it the first time the journal is opened. */
static int load_stream_id(pw_journal *j, bool create, pw_err *err)
{
    if (create) {
        char *uuid = g_uuid_string_random();
        char *sql = sqlite3_mprintf(
            "INSERT OR IGNORE INTO meta(key, value) VALUES('stream_id', %Q);", uuid);
        g_free(uuid);
        int rc = exec(j, sql, err);
        sqlite3_free(sql);
        if (rc)
            return rc;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(j->db, "SELECT value FROM meta WHERE key = 'stream_id'", -1, &st,
                           NULL) != SQLITE_OK)
        return db_fail(j, err, "reading the stream id");
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
        g_uuid_string_is_valid((const char *)sqlite3_column_text(st, 0)))
        g_strlcpy(j->stream_id, (const char *)sqlite3_column_text(st, 0), sizeof j->stream_id);
    else
        rc = pw_err_set(err, PW_EJOURNAL, "journal %s has no valid stream id", j->path);
    sqlite3_finalize(st);
    return rc;
}

static int prepare_all(pw_journal *j, pw_err *err)
{
    if (sqlite3_prepare_v2(j->db,
                           "INSERT INTO events(seq, ts_us, topic, json, jpeg, bytes) "
                           "VALUES(?1, ?2, ?3, ?4, ?5, ?6)", -1, &j->insert, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(j->db,
                           "SELECT seq, topic, json, jpeg FROM events WHERE seq > ?1 "
                           "ORDER BY seq LIMIT ?2", -1, &j->read, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(j->db, "SELECT IFNULL(MIN(seq), 0), IFNULL(MAX(seq), 0) FROM events",
                           -1, &j->bounds, NULL) != SQLITE_OK)
        return db_fail(j, err, "preparing statements");
    return 0;
}

int pw_journal_open(const char *path, bool read_only, bool sync_full,
                    pw_journal **out, pw_err *err)
{
    if (!out)
        return pw_err_set(err, -EINVAL, "pw_journal_open: NULL out");
    *out = NULL;
    if (!path || !*path)
        return pw_err_set(err, PW_ECONFIG, "no journal path configured");
    pw_journal *j = g_new0(pw_journal, 1);
    g_strlcpy(j->path, path, sizeof j->path);
    int flags = SQLITE_OPEN_READWRITE | (read_only ? 0 : SQLITE_OPEN_CREATE);
    int rc = 0;
    if (sqlite3_open_v2(path, &j->db, flags, NULL) != SQLITE_OK) {
        rc = pw_err_set(err, PW_EJOURNAL, "cannot open journal %s: %s", path,
                        j->db ? sqlite3_errmsg(j->db) : "out of memory");
    } else {
        sqlite3_busy_timeout(j->db, 5000);
        /* FULL makes every committed (and so every published) event survive a
         * power cut, which is what lets the sequence continue without reuse. */
        const char *pragmas = sync_full ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                        : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
        /* auto_vacuum only takes on a new file, before its first table: it lets pruning shrink the file. */
        if (!(rc = exec(j, read_only ? "SELECT 1;" : "PRAGMA auto_vacuum = INCREMENTAL;", err)) &&
            !(rc = exec(j, pragmas, err)) && (read_only || !(rc = exec(j, schema_sql, err))) &&
            !(rc = load_stream_id(j, !read_only, err)))
            rc = prepare_all(j, err);
    }
    if (rc) {
        pw_journal_close(&j);
        return rc;
    }
    *out = j;
    return 0;
}

void pw_journal_close(pw_journal **jp)
{
    if (!jp || !*jp)
        return;
    pw_journal *j = *jp;
    sqlite3_finalize(j->insert);
    sqlite3_finalize(j->read);
    sqlite3_finalize(j->bounds);
    sqlite3_close(j->db);
    g_free(j);
    *jp = NULL;
}

const char *pw_journal_stream_id(const pw_journal *j)
{
    return j->stream_id;
}

int pw_journal_bounds(pw_journal *j, uint64_t *first, uint64_t *last, pw_err *err)
{
    int rc = 0;
    sqlite3_reset(j->bounds);
    if (sqlite3_step(j->bounds) == SQLITE_ROW) {
        *first = (uint64_t)sqlite3_column_int64(j->bounds, 0);
        *last = (uint64_t)sqlite3_column_int64(j->bounds, 1);
    } else {
        rc = db_fail(j, err, "reading the sequence bounds");
    }
    sqlite3_reset(j->bounds);
    return rc;
}

int pw_journal_append(pw_journal *j, uint64_t seq, int64_t ts_us, const char *topic,
                      const char *json, const uint8_t *jpeg, size_t jpeg_len, pw_err *err)
{
    sqlite3_stmt *st = j->insert;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_int64(st, 2, ts_us);
    sqlite3_bind_text(st, 3, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
    if (jpeg && jpeg_len)
        sqlite3_bind_blob(st, 5, jpeg, (int)jpeg_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)(strlen(json) + jpeg_len));
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(j, err, "appending an event");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int pw_journal_read(pw_journal *j, uint64_t since, int max, pw_journal_row_cb cb,
                    void *user, pw_err *err)
{
    sqlite3_stmt *st = j->read;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
    sqlite3_bind_int(st, 2, max);
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(st, 3);
        size_t blob_len = (size_t)sqlite3_column_bytes(st, 3);
        rc = cb((uint64_t)sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                (const char *)sqlite3_column_text(st, 2), blob, blob_len, user);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(j, err, "reading events");
    sqlite3_reset(st);
    return rc;
}

/* One integer PRAGMA or aggregate; -1 when it fails. */
static int64_t query_int(pw_journal *j, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/*
 * Keeps the file under max_bytes. The WAL gets a sixteenth of the bound
 * (checkpointed and truncated at that size), the events written until the
 * next prune a 32nd, the database the rest. Rows
 * cost more than their payload (row headers, the index, partly filled
 * pages), so the payload kept is scaled by the database's measured bytes
 * per payload byte, and pruning goes 10% below the budget so that it does
 * not run again at the next event.
 */
static int prune_size(pw_journal *j, int64_t max_bytes, pw_err *err)
{
    int64_t page = query_int(j, "PRAGMA page_size");
    int64_t wal_pages = MAX(2, max_bytes / 16 / MAX(page, 512));
    /* Checkpointing at half its share leaves the other half for the transaction that crosses it. */
    char *sql = sqlite3_mprintf("PRAGMA wal_autocheckpoint = %lld; PRAGMA journal_size_limit = %lld;",
                                (long long)(wal_pages / 2), (long long)(wal_pages * page));
    int rc = exec(j, sql, err);
    sqlite3_free(sql);
    int64_t pages = query_int(j, "PRAGMA page_count"), free_pages = query_int(j, "PRAGMA freelist_count");
    int64_t payload = query_int(j, "SELECT IFNULL(SUM(bytes), 0) FROM events");
    if (rc || page <= 0 || pages < 0 || free_pages < 0 || payload < 0)
        return rc ? rc : db_fail(j, err, "measuring the journal");
    /* The publisher writes up to a 32nd of the bound between two prunes: that is kept free too. */
    int64_t budget = max_bytes - wal_pages * page - max_bytes / 32, used = (pages - free_pages) * page;
    if (used > budget && payload > 0) {
        int64_t keep = (int64_t)((double)budget * 0.9 * (double)payload / (double)used);
        sql = sqlite3_mprintf(
            "DELETE FROM events WHERE seq < (SELECT MAX(seq) FROM events) AND seq <= "
            "  (SELECT seq FROM (SELECT seq, SUM(bytes) OVER (ORDER BY seq DESC) AS run "
            "   FROM events) WHERE run > %lld ORDER BY seq DESC LIMIT 1);",
            (long long)keep);
        rc = exec(j, sql, err);
        sqlite3_free(sql);
    }
    /*
     * Only the pages beyond the budget are given back: free pages within it
     * are reused by the next events without growing the file. Journals
     * created before auto_vacuum was set keep their size instead.
     */
    int64_t excess = pages - budget / page;
    if (rc == 0 && excess > 0) {
        sql = sqlite3_mprintf("PRAGMA incremental_vacuum(%lld);", (long long)excess);
        rc = exec(j, sql, err);
        sqlite3_free(sql);
    }
    return rc;
}

int pw_journal_prune(pw_journal *j, int64_t max_bytes, int64_t max_age_s, pw_err *err)
{
    /* The newest event is always kept: it carries the sequence across restarts. */
    char *sql = sqlite3_mprintf("DELETE FROM events WHERE ts_us < %lld AND seq < (SELECT MAX(seq) FROM events);",
                                (long long)(pw_wall_us() - max_age_s * G_USEC_PER_SEC));
    int rc = exec(j, sql, err);
    sqlite3_free(sql);
    return rc ? rc : prune_size(j, max_bytes, err);
}
