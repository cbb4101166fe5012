/*
 * import.c - declarations from CSV or JSON files (docs/gate.md, "Import").
 *
 * CSV: SQLite's CSV reader is a shell extension, not part of the C API, and
 * GLib has none, so records are split here by a small RFC 4180 field
 * splitter: comma separated, fields optionally in double quotes, a doubled
 * quote inside quotes is one quote. A record is one line: a quoted field
 * may not contain a line break (such a row is rejected as unterminated).
 *
 * JSON: a top-level array of objects, or one object per line (JSON Lines).
 * Both are parsed with json-glib, after pw_json_check_depth() has bounded
 * the nesting (json-glib recurses and a deep file would crash the import).
 *
 * Every refusal names the file and the line (or array element) and says what
 * was wrong: a file-level fault (empty file, bad header, not JSON) ends the
 * import with that sentence in err, a row-level one is reported through the
 * reject callback and the import goes on.
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_internal.h"
#include "pw_json.h"

#include <errno.h>
#include <stdarg.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

enum {
    COL_REFERENCE, COL_VEHICLE, COL_TRAILER, COL_COUNTRY, COL_SITE, COL_LANE,
    COL_START, COL_END, COL_STATUS, N_COLS
};

static const char *const col_names[N_COLS] = {
    "reference", "vehicle_plate", "trailer_plate", "country", "site", "lane",
    "window_start", "window_end", "status",
};

/* Columns a file must name; the others may be left out. */
static bool col_required(int c)
{
    return c == COL_REFERENCE || c == COL_VEHICLE || c == COL_START || c == COL_END;
}

typedef struct {
    pw_declstore *st;
    const char *file;
    pw_import_reject_cb reject;
    void *user;
    pw_import_report *rep;
    GHashTable *refs;        /* reference -> first line in this file */
    const char *unit;        /* "line" or, for a JSON array, "element" */
    int in_batch;            /* rows stored since the last commit */
} importer;

/*
 * Rows per transaction. A running controller needs the write lock for every
 * decision (its busy timeout is 5 s), so an import of a million rows must not
 * hold it throughout; batches of this size hold it well under a second.
 */
#define IMPORT_BATCH 50000

static void reject_row(importer *im, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reject_row(importer *im, long line, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    im->rep->rejected++;
    if (im->reject)
        im->reject(im->file, line, reason, im->user);
}

/* ---- one row's fields, as text, to a checked declaration ---- */

static int set_text(char *dst, size_t size, const char *v, const char *name, pw_err *err)
{
    if (strlen(v) >= size)
        return pw_err_set(err, -EINVAL, "%s is longer than %zu characters", name, size - 1);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int set_plate(char *dst, const char *v, const char *name, bool required, pw_err *err)
{
    if (!*v && !required) {
        dst[0] = '\0';
        return 0;
    }
    if (pw_plate_normalise(v, dst, PW_PLATE_MAX + 1) < 0)
        return pw_err_set(err, -EINVAL, "%s \"%s\" is not a plate (letters, digits, spaces, "
                          "dashes; at most %d characters)", name, v, PW_PLATE_MAX);
    return 0;
}

static int set_status(pw_decl *d, const char *v, pw_err *err)
{
    if (!*v || g_ascii_strcasecmp(v, "active") == 0)
        d->status = PW_DECL_ACTIVE;
    else if (g_ascii_strcasecmp(v, "cancelled") == 0)
        d->status = PW_DECL_CANCELLED;
    else
        return pw_err_set(err, -EINVAL, "status \"%s\" is neither active nor cancelled", v);
    return 0;
}

static int fields_to_decl(const char *const v[N_COLS], pw_decl *d, pw_err *err)
{
    memset(d, 0, sizeof *d);
    int rc;
    if ((rc = set_text(d->reference, sizeof d->reference, v[COL_REFERENCE], "reference",
                       err)) ||
        (rc = set_plate(d->vehicle_plate, v[COL_VEHICLE], "vehicle_plate", true, err)) ||
        (rc = set_plate(d->trailer_plate, v[COL_TRAILER], "trailer_plate", false, err)) ||
        (rc = set_text(d->country, sizeof d->country, v[COL_COUNTRY], "country", err)) ||
        (rc = set_text(d->site, sizeof d->site, v[COL_SITE], "site", err)) ||
        (rc = set_text(d->lane, sizeof d->lane, v[COL_LANE], "lane", err)) ||
        (rc = set_status(d, v[COL_STATUS], err)))
        return rc;
    if (pw_parse_time(v[COL_START], &d->window_start_us))
        return pw_err_set(err, -EINVAL, "window_start \"%s\" is not an RFC 3339 time with a "
                          "zone", v[COL_START]);
    if (pw_parse_time(v[COL_END], &d->window_end_us))
        return pw_err_set(err, -EINVAL, "window_end \"%s\" is not an RFC 3339 time with a "
                          "zone", v[COL_END]);
    return pw_decl_check(d, err);
}

/* Checks, de-duplicates within the file and stores one row. Store failures are fatal. */
static int import_row(importer *im, long line, const char *const v[N_COLS], pw_err *err)
{
    pw_decl d;
    pw_err why = {0};
    im->rep->rows++;
    if (fields_to_decl(v, &d, &why)) {
        reject_row(im, line, "%s", why.msg);
        return 0;
    }
    gpointer first = NULL;
    /* lookup_extended: element 0 of a JSON array is stored as a NULL pointer. */
    if (g_hash_table_lookup_extended(im->refs, d.reference, NULL, &first)) {
        reject_row(im, line, "reference %s is repeated (first at %s %ld)", d.reference,
                   im->unit, (long)GPOINTER_TO_SIZE(first));
        return 0;
    }
    g_hash_table_insert(im->refs, g_strdup(d.reference), GSIZE_TO_POINTER((gsize)line));
    pw_put_outcome out;
    int rc = pw_declstore_put(im->st, &d, &out, err);
    if (rc)
        return rc;
    if (++im->in_batch >= IMPORT_BATCH) {
        sqlite3 *db = pw_declstore_db(im->st);
        im->in_batch = 0;
        if ((rc = pw_declstore_bulk_end(im->st, true, err)) ||
            (rc = pw_db_exec(db, "COMMIT", im->file, err)) ||
            (rc = pw_db_exec(db, "BEGIN IMMEDIATE", im->file, err)))
            return rc;
        pw_declstore_bulk_begin(im->st);
    }
    if (out == PW_PUT_INSERTED)
        im->rep->inserted++;
    else if (out == PW_PUT_UPDATED)
        im->rep->updated++;
    else
        im->rep->unchanged++;
    return 0;
}

/* ---- CSV ---- */

/*
 * Splits one record (no line terminator) into fields in place. Returns the
 * number of fields, or -1 for a stray or unterminated quote.
 */
int pw_csv_split(char *line, char **fields, int max)
{
    int n = 0;
    char *r = line;
    for (;;) {
        char *w = r, *start = r;
        if (*r == '"') {
            r++;
            for (;;) {
                if (*r == '\0')
                    return -1;
                if (*r == '"' && r[1] == '"') {
                    *w++ = '"';
                    r += 2;
                } else if (*r == '"') {
                    r++;
                    break;
                } else {
                    *w++ = *r++;
                }
            }
            if (*r != ',' && *r != '\0')
                return -1;
        } else {
            while (*r && *r != ',') {
                if (*r == '"')
                    return -1;
                *w++ = *r++;
            }
        }
        char end = *r;
        *w = '\0';
        if (n < max)
            fields[n] = start;
        n++;
        if (end == '\0')
            return n;
        r++;
    }
}

/*
 * What makes a line of n bytes (as getline read it) unusable as text, or
 * NULL: a NUL byte would silently cut the line short, and bytes that are not
 * UTF-8 would be stored as plates and references no one can match.
 */
static const char *line_problem(const char *line, ssize_t n)
{
    if ((size_t)n != strlen(line))
        return "it contains a NUL byte (is this a text file?)";
    if (!g_utf8_validate(line, n, NULL))
        return "it is not UTF-8 text";
    return NULL;
}

static void strip_eol(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* Maps header names to columns: map[i] is the column of field i. */
static int csv_header(importer *im, char *line, int map[N_COLS], int *nf, pw_err *err)
{
    char *f[N_COLS + 1];
    int n = pw_csv_split(line, f, N_COLS + 1);
    if (n < 0 || n > N_COLS)
        return pw_err_set(err, PW_EIMPORT, "%s:1: the header is not a list of at most %d "
                          "column names", im->file, N_COLS);
    bool seen[N_COLS] = {false};
    for (int i = 0; i < n; i++) {
        int c = 0;
        g_strstrip(f[i]);
        while (c < N_COLS && strcmp(f[i], col_names[c]) != 0)
            c++;
        if (c == N_COLS || seen[c])
            return pw_err_set(err, PW_EIMPORT, "%s:1: header column %d \"%s\" is %s",
                              im->file, i + 1, f[i], c == N_COLS ? "unknown" : "repeated");
        seen[c] = true;
        map[i] = c;
    }
    for (int c = 0; c < N_COLS; c++)
        if (col_required(c) && !seen[c])
            return pw_err_set(err, PW_EIMPORT, "%s:1: the header lacks the column \"%s\"",
                              im->file, col_names[c]);
    *nf = n;
    return 0;
}

static int csv_record(importer *im, long line_no, char *line, const int map[N_COLS], int nf,
                      pw_err *err)
{
    char *f[N_COLS + 1];
    int n = pw_csv_split(line, f, N_COLS + 1);
    if (n < 0) {
        reject_row(im, line_no, "a quote is unterminated or stray (fields may be quoted "
                   "whole; a record is one line)");
        im->rep->rows++;
        return 0;
    }
    if (n != nf) {
        reject_row(im, line_no, "%d fields where the header has %d", n, nf);
        im->rep->rows++;
        return 0;
    }
    const char *v[N_COLS];
    for (int c = 0; c < N_COLS; c++)
        v[c] = "";
    for (int i = 0; i < n; i++)
        v[map[i]] = f[i];
    return import_row(im, line_no, v, err);
}

static int import_csv(importer *im, FILE *fp, pw_err *err)
{
    char *line = NULL;
    size_t cap = 0;
    long line_no = 0;
    int map[N_COLS], nf = 0, rc = 0;
    ssize_t n;
    while (rc == 0 && (n = getline(&line, &cap, fp)) >= 0) {
        line_no++;
        const char *problem = line_problem(line, n);
        strip_eol(line);
        if (problem && line_no == 1) {
            rc = pw_err_set(err, PW_EIMPORT, "%s:1: the header is unusable: %s", im->file,
                            problem);
        } else if (problem) {
            im->rep->rows++;
            reject_row(im, line_no, "%s", problem);
        } else if (line_no == 1) {
            /* A UTF-8 byte order mark, as spreadsheet exports write, is not a name. */
            char *h = strncmp(line, "\xEF\xBB\xBF", 3) == 0 ? line + 3 : line;
            rc = csv_header(im, h, map, &nf, err);
        } else if (line[0] != '\0') {
            rc = csv_record(im, line_no, line, map, nf, err);
        }
    }
    if (rc == 0 && ferror(fp))
        rc = pw_err_set(err, -EIO, "%s: read error after line %ld", im->file, line_no);
    if (rc == 0 && line_no == 0)
        rc = pw_err_set(err, PW_EIMPORT, "%s: empty file (a header line is required)",
                        im->file);
    free(line);
    return rc;
}

/* ---- JSON ---- */

static int json_object_row(importer *im, long where, JsonNode *node, pw_err *err)
{
    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        im->rep->rows++;
        reject_row(im, where, "not a JSON object");
        return 0;
    }
    JsonObject *o = json_node_get_object(node);
    const char *v[N_COLS];
    char num[N_COLS][32];
    for (int c = 0; c < N_COLS; c++) {
        v[c] = "";
        JsonNode *m = json_object_get_member(o, col_names[c]);
        if (!m || JSON_NODE_HOLDS_NULL(m))
            continue;
        if (JSON_NODE_HOLDS_VALUE(m) && json_node_get_value_type(m) == G_TYPE_STRING) {
            v[c] = json_node_get_string(m);
        } else if (JSON_NODE_HOLDS_VALUE(m) && json_node_get_value_type(m) == G_TYPE_INT64) {
            /* Plates such as 1234567 may arrive as numbers from some exporters. */
            snprintf(num[c], sizeof num[c], "%" G_GINT64_FORMAT, json_node_get_int(m));
            v[c] = num[c];
        } else {
            im->rep->rows++;
            reject_row(im, where, "member \"%s\" is not a string", col_names[c]);
            return 0;
        }
    }
    for (int c = 0; c < N_COLS; c++) {
        if (col_required(c) && !*v[c]) {
            im->rep->rows++;
            reject_row(im, where, "member \"%s\" is missing or empty", col_names[c]);
            return 0;
        }
    }
    return import_row(im, where, v, err);
}

/*
 * json-glib's parse errors read "<data>:LINE:COLUMN: Parse error: WHAT" for
 * text loaded from memory. This names the place as "FILE:LINE:COLUMN" (file
 * NULL: "column COLUMN", for one line of JSON Lines) followed by WHAT; a
 * message of another form is kept whole.
 */
static void parse_error(const char *file, const char *msg, char *out, size_t size)
{
    int line = 0, col = 0, at = 0;
    if (sscanf(msg, "<data>:%d:%d: %n", &line, &col, &at) != 2 || at == 0)
        snprintf(out, size, "%s%s%s", file ? file : "", file ? ": " : "", msg);
    else if (file)
        snprintf(out, size, "%s:%d:%d: %s", file, line, col, msg + at);
    else
        snprintf(out, size, "column %d: %s", col, msg + at);
}

static int import_json_array(importer *im, const char *text, size_t len, pw_err *err)
{
    pw_err why;
    if (pw_json_check_depth(text, len, &why) != 0)
        return pw_err_set(err, PW_EIMPORT, "%s: %s", im->file, why.msg);
    JsonParser *p = json_parser_new();
    GError *gerr = NULL;
    int rc = 0;
    if (!json_parser_load_from_data(p, text, (gssize)len, &gerr)) {
        char why_json[400];
        parse_error(im->file, gerr->message, why_json, sizeof why_json);
        rc = pw_err_set(err, PW_EIMPORT, "%s (not JSON)", why_json);
        g_error_free(gerr);
    } else {
        JsonNode *root = json_parser_get_root(p);
        JsonArray *a = JSON_NODE_HOLDS_ARRAY(root) ? json_node_get_array(root) : NULL;
        if (!a)
            rc = pw_err_set(err, PW_EIMPORT, "%s: the top level is not an array", im->file);
        for (guint i = 0; a && rc == 0 && i < json_array_get_length(a); i++)
            rc = json_object_row(im, (long)i, json_array_get_element(a, i), err);
    }
    g_object_unref(p);
    return rc;
}

static int import_json_lines(importer *im, FILE *fp, pw_err *err)
{
    char *line = NULL;
    size_t cap = 0;
    long line_no = 0;
    int rc = 0;
    ssize_t n;
    JsonParser *p = json_parser_new();
    while (rc == 0 && (n = getline(&line, &cap, fp)) >= 0) {
        line_no++;
        const char *problem = line_problem(line, n);
        strip_eol(line);
        if (!problem && !*g_strstrip(line))
            continue;
        pw_err why;
        GError *gerr = NULL;
        if (problem || pw_json_check_depth(line, strlen(line), &why) != 0 ||
            !json_parser_load_from_data(p, line, -1, &gerr)) {
            char where[400];
            if (gerr)
                parse_error(NULL, gerr->message, where, sizeof where);
            im->rep->rows++;
            reject_row(im, line_no, "not JSON: %s", problem ? problem : gerr ? where : why.msg);
            g_clear_error(&gerr);
            continue;
        }
        rc = json_object_row(im, line_no, json_parser_get_root(p), err);
    }
    g_object_unref(p);
    free(line);
    return rc;
}

static int import_json(importer *im, FILE *fp, pw_err *err)
{
    int c;
    while ((c = fgetc(fp)) != EOF && g_ascii_isspace(c))
        ;
    if (c == EOF)
        return pw_err_set(err, PW_EIMPORT, "%s: empty file", im->file);
    rewind(fp);
    if (c != '[')
        return import_json_lines(im, fp, err);
    gchar *text = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(im->file, &text, &len, &gerr)) {
        int rc = pw_err_set(err, -EIO, "%s: %s", im->file, gerr->message);
        g_error_free(gerr);
        return rc;
    }
    im->unit = "element";
    int rc = import_json_array(im, text, len, err);
    g_free(text);
    return rc;
}

static pw_import_format guess_format(const char *path)
{
    return g_str_has_suffix(path, ".csv") || g_str_has_suffix(path, ".CSV") ? PW_IMPORT_CSV
                                                                            : PW_IMPORT_JSON;
}

int pw_declstore_import(pw_declstore *st, const char *path, pw_import_format fmt,
                        pw_import_reject_cb reject, void *user, pw_import_report *rep,
                        pw_err *err)
{
    pw_import_report local;
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return pw_err_set(err, -errno, "cannot open %s: %s", path, g_strerror(errno));
    importer im = {st, path, reject, user, rep,
                   g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL), "line", 0};
    sqlite3 *db = pw_declstore_db(st);
    /* Batches of IMPORT_BATCH rows; import is idempotent, so a failed one is re-run. */
    int rc = pw_db_exec(db, "BEGIN IMMEDIATE", path, err);
    if (rc == 0) {
        if (fmt == PW_IMPORT_AUTO)
            fmt = guess_format(path);
        pw_declstore_bulk_begin(st);
        rc = fmt == PW_IMPORT_CSV ? import_csv(&im, fp, err) : import_json(&im, fp, err);
        int brc = pw_declstore_bulk_end(st, rc == 0, err);
        if (rc == 0)
            rc = brc;
        if (rc == 0)
            rc = pw_db_exec(db, "COMMIT", path, err);
        else
            pw_db_exec(db, "ROLLBACK", path, NULL);
    }
    g_hash_table_unref(im.refs);
    fclose(fp);
    if (rc == 0 && rep->rejected)
        rc = pw_err_set(err, PW_EIMPORT, "%s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                        " rows rejected", path, rep->rejected, rep->rows);
    return rc;
}
