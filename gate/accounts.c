/*
 * accounts.c - the console's officer accounts in the gate's store: names,
 * roles and libsodium crypto_pwhash_str hashes (Argon2id, the library's
 * interactive limits), managed by `platewatch-gate user` (docs/console.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "console.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

static const char accounts_sql[] =
    "CREATE TABLE IF NOT EXISTS accounts ("
    " name TEXT PRIMARY KEY, hash TEXT NOT NULL, role TEXT NOT NULL,"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL, changed_at INTEGER NOT NULL);";

const char *pw_role_name(pw_role r)
{
    return r == PW_ROLE_OFFICER ? "officer" : r == PW_ROLE_ADMIN ? "admin" : NULL;
}

int pw_role_parse(const char *name, pw_role *out)
{
    if (name && strcmp(name, "officer") == 0)
        *out = PW_ROLE_OFFICER;
    else if (name && strcmp(name, "admin") == 0)
        *out = PW_ROLE_ADMIN;
    else
        return -EINVAL;
    return 0;
}

int pw_accounts_init(sqlite3 *db, pw_err *err)
{
    if (sodium_init() < 0)
        return pw_err_set(err, -ENOSYS, "libsodium cannot start");
    return pw_db_exec(db, accounts_sql, "creating the accounts table", err);
}

/* Names are what an officer types and what the audit shows: keep them plain. */
static int check_name(const char *name, pw_err *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > PW_ACCOUNT_NAME_MAX)
        return pw_err_set(err, -EINVAL, "account name must be 1..%d characters",
                          PW_ACCOUNT_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isalnum(name[i]) && !strchr("._-", name[i]))
            return pw_err_set(err, -EINVAL, "account name \"%s\" has a character other than "
                              "letters, digits, '.', '_' and '-'", name);
    return 0;
}

static int hash_password(const char *password, char hash[crypto_pwhash_STRBYTES],
                         pw_err *err)
{
    size_t n = password ? strlen(password) : 0;
    if (n < PW_PASSWORD_MIN || n > PW_PASSWORD_MAX)
        return pw_err_set(err, -EINVAL, "password must be %d..%d characters",
                          PW_PASSWORD_MIN, PW_PASSWORD_MAX);
    if (crypto_pwhash_str(hash, password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return pw_err_set(err, -ENOMEM, "cannot hash the password (out of memory)");
    return 0;
}

/* Runs one statement with text parameters; returns the rows changed or a code. */
static int run(sqlite3 *db, const char *sql, const char *const *params, int n, pw_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return pw_db_fail(db, "accounts", err);
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(s, i + 1, params[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, n + 1, g_get_real_time());
    int step = sqlite3_step(s);
    sqlite3_finalize(s);
    if (step == SQLITE_CONSTRAINT)
        return -EEXIST;
    if (step != SQLITE_DONE)
        return pw_db_fail(db, "accounts", err);
    return sqlite3_changes(db);
}

int pw_accounts_add(sqlite3 *db, const char *name, const char *password, pw_role role,
                    pw_err *err)
{
    char hash[crypto_pwhash_STRBYTES];
    int rc;
    if ((rc = check_name(name, err)) || (rc = hash_password(password, hash, err)))
        return rc;
    if (!pw_role_name(role))
        return pw_err_set(err, -EINVAL, "role must be officer or admin");
    const char *p[] = {name, hash, pw_role_name(role)};
    rc = run(db, "INSERT INTO accounts (name, hash, role, created_at, changed_at)"
             " VALUES (?1, ?2, ?3, ?4, ?4)", p, 3, err);
    if (rc == -EEXIST)
        return pw_err_set(err, -EEXIST, "account \"%s\" exists already", name);
    return rc < 0 ? rc : 0;
}

static int changed_one(int rc, const char *name, pw_err *err)
{
    if (rc == 0)
        return pw_err_set(err, -ENOENT, "there is no account \"%s\"", name);
    return rc < 0 ? rc : 0;
}

int pw_accounts_passwd(sqlite3 *db, const char *name, const char *password, pw_err *err)
{
    char hash[crypto_pwhash_STRBYTES];
    int rc = hash_password(password, hash, err);
    if (rc)
        return rc;
    const char *p[] = {name, hash};
    rc = run(db, "UPDATE accounts SET hash = ?2, changed_at = ?3 WHERE name = ?1", p, 2, err);
    return changed_one(rc, name, err);
}

int pw_accounts_set_disabled(sqlite3 *db, const char *name, bool disabled, pw_err *err)
{
    const char *p[] = {name, disabled ? "1" : "0"};
    int rc = run(db, "UPDATE accounts SET disabled = CAST(?2 AS INTEGER), changed_at = ?3"
                 " WHERE name = ?1", p, 2, err);
    return changed_one(rc, name, err);
}

int pw_accounts_verify(sqlite3 *db, const char *name, const char *password, pw_role *role,
                       pw_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT hash, role, disabled FROM accounts WHERE name = ?",
                           -1, &s, NULL) != SQLITE_OK)
        return pw_db_fail(db, "accounts", err);
    sqlite3_bind_text(s, 1, name ? name : "", -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        sqlite3_finalize(s);
        return pw_db_fail(db, "accounts", err);
    }
    /* A hash of a fixed password stands in for a missing account, so that the
     * time taken does not tell which names exist. */
    char hash[crypto_pwhash_STRBYTES] = "";
    bool found = step == SQLITE_ROW, disabled = false;
    pw_role r = 0;
    if (found) {
        g_strlcpy(hash, (const char *)sqlite3_column_text(s, 0), sizeof hash);
        pw_role_parse((const char *)sqlite3_column_text(s, 1), &r);
        disabled = sqlite3_column_int(s, 2) != 0;
    } else if (crypto_pwhash_str(hash, "no such account", 15,
                                 crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        hash[0] = '\0';    /* out of memory: the verify below fails, as it should */
    }
    sqlite3_finalize(s);
    size_t n = password ? strlen(password) : 0;
    bool ok = n <= PW_PASSWORD_MAX && crypto_pwhash_str_verify(hash, password ? password : "",
                                                               n) == 0;
    if (!found || !ok || disabled || !r)
        return pw_err_set(err, PW_EAUTH, "login refused for \"%s\"", name ? name : "");
    *role = r;
    return 0;
}

int pw_accounts_list(sqlite3 *db, pw_account_cb cb, void *user, pw_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT name, role, disabled, created_at FROM accounts"
                           " ORDER BY name", -1, &s, NULL) != SQLITE_OK)
        return pw_db_fail(db, "accounts", err);
    int step, rc = 0;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        pw_role r = 0;
        pw_role_parse((const char *)sqlite3_column_text(s, 1), &r);
        rc = cb((const char *)sqlite3_column_text(s, 0), r, sqlite3_column_int(s, 2) != 0,
                sqlite3_column_int64(s, 3), user);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = pw_db_fail(db, "accounts", err);
    sqlite3_finalize(s);
    return rc;
}
