/*
 * checkpoint.c - moves SQLite WAL checkpoints off the decision path.
 *
 * A checkpoint copies the WAL back into the database file and fsyncs it;
 * done by the committing thread (SQLite's automatic checkpoint), it adds
 * tens to hundreds of milliseconds to an unlucky decision. The controller's
 * connection therefore turns automatic checkpoints off, and this thread,
 * with its own connection, runs PASSIVE checkpoints (which never block the
 * writer) every second or as soon as the WAL exceeds 1000 pages.
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_internal.h"

#define WAL_PAGES_TRIGGER 1000
#define PERIOD_US (1 * G_USEC_PER_SEC)

struct pw_checkpointer {
    sqlite3 *db;            /* this thread's own connection */
    GThread *thread;
    GMutex lock;
    GCond wake;
    bool stop;
    bool due;
};

static int wal_hook(void *user, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    pw_checkpointer *c = user;
    if (pages >= WAL_PAGES_TRIGGER) {
        g_mutex_lock(&c->lock);
        c->due = true;
        g_cond_signal(&c->wake);
        g_mutex_unlock(&c->lock);
    }
    return SQLITE_OK;
}

static gpointer run(gpointer user)
{
    pw_checkpointer *c = user;
    g_mutex_lock(&c->lock);
    while (!c->stop) {
        if (!c->due)
            g_cond_wait_until(&c->wake, &c->lock, g_get_monotonic_time() + PERIOD_US);
        c->due = false;
        if (c->stop)
            break;
        g_mutex_unlock(&c->lock);
        int log = 0, done = 0;
        /* Busy or partial checkpoints are normal; the next round continues. */
        sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        g_mutex_lock(&c->lock);
    }
    g_mutex_unlock(&c->lock);
    return NULL;
}

int pw_checkpointer_start(const char *path, sqlite3 *writer, pw_checkpointer **out,
                          pw_err *err)
{
    *out = NULL;
    pw_checkpointer *c = g_new0(pw_checkpointer, 1);
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        int rc = pw_err_set(err, PW_ESTORE, "%s: checkpoint connection: %s", path,
                            c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        g_free(c);
        return rc;
    }
    sqlite3_busy_timeout(c->db, 1000);
    g_mutex_init(&c->lock);
    g_cond_init(&c->wake);
    sqlite3_wal_autocheckpoint(writer, 0);
    sqlite3_wal_hook(writer, wal_hook, c);
    c->thread = g_thread_new("gate-checkpoint", run, c);
    *out = c;
    return 0;
}

void pw_checkpointer_stop(pw_checkpointer **cp, sqlite3 *writer)
{
    if (!cp || !*cp)
        return;
    pw_checkpointer *c = *cp;
    if (writer)
        sqlite3_wal_hook(writer, NULL, NULL);
    g_mutex_lock(&c->lock);
    c->stop = true;
    g_cond_signal(&c->wake);
    g_mutex_unlock(&c->lock);
    g_thread_join(c->thread);
    sqlite3_close(c->db);
    g_mutex_clear(&c->lock);
    g_cond_clear(&c->wake);
    g_free(c);
    *cp = NULL;
}
