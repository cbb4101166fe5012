/*
 * declstore.h - the lane controller's declarations store: pre-lodged customs
 * declarations (or goods movement references) naming a vehicle plate, an
 * optional trailer plate, a country, an optional site and lane and an
 * expected arrival window, kept in one SQLite file (WAL mode).
 *
 * Plates are stored normalised (upper case, letters and digits only). Each
 * plate is also indexed under two "confusion-folded" keys (see
 * docs/gate.md, "Candidate search") so that a read finds every declaration
 * within one edit plus any number of OCR confusions without a table scan.
 *
 * Ownership: pw_declstore is opaque; pw_declstore_destroy() accepts NULL and
 * nulls the caller's pointer. pw_decl is a plain struct with inline text,
 * owned by whoever declared it. Strings passed in are borrowed for the call.
 *
 * Threads: one pw_declstore is used by one thread at a time (it owns one
 * SQLite connection). Several processes may open the same file (WAL).
 */
#ifndef PW_DECLSTORE_H
#define PW_DECLSTORE_H

#include "pw_common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest reference (MRN, GMR, ...), without the terminating NUL. */
#define PW_DECL_REF_MAX 63
/* Plates are at most PW_PLATE_MAX, site and lane ids PW_ID_MAX long (pw_common.h). */
/* Longest vehicle key (stream/camera/first-seen of the releasing vehicle). */
#define PW_DECL_VEHICLE_MAX 127

typedef enum {
    PW_DECL_ACTIVE = 0,
    PW_DECL_CANCELLED = 1,
} pw_decl_status;

typedef struct {
    int64_t id;                                   /* row id; 0 before it is stored */
    char reference[PW_DECL_REF_MAX + 1];
    char vehicle_plate[PW_PLATE_MAX + 1];    /* normalised, required */
    char trailer_plate[PW_PLATE_MAX + 1];    /* normalised, "" when none */
    char country[PW_COUNTRY_MAX];                 /* ISO 3166 alpha-2, "" = any */
    char site[PW_ID_MAX + 1];                /* "" = any site */
    char lane[PW_ID_MAX + 1];                /* "" = any lane */
    int64_t window_start_us;                      /* wall clock, us since 1970 */
    int64_t window_end_us;
    pw_decl_status status;
    /* Set by the controller when a release used this declaration. */
    char used_by[PW_DECL_VEHICLE_MAX + 1];        /* vehicle key, "" when unused */
    int64_t used_at_us;
} pw_decl;

/* ---- Plates ---- */

/*
 * Normalises a plate as printed or read ("ab-12 cde" -> "AB12CDE"): spaces,
 * dashes and dots are dropped, letters upper-cased. Returns the length, or
 * -EINVAL when a character is none of these, the result is empty, or it
 * does not fit in size bytes.
 */
int pw_plate_normalise(const char *in, char *out, size_t size);

/* Folds OCR-confusable characters of a normalised plate (O,Q,D->0 I->1 B->8 S->5 Z->2 G->6). */
void pw_plate_fold(const char *norm, char *out, size_t size);

/*
 * Weighted edit distance between two normalised plates: a substitution of
 * two characters that fold to the same symbol costs confusion_cost, any
 * other substitution, insertion or deletion costs 1.
 */
double pw_plate_distance(const char *a, const char *b, double confusion_cost);

/* ---- Store ---- */

typedef struct pw_declstore pw_declstore;

/* Opens (creating when missing) the store at path and its schema. */
int pw_declstore_new(const char *path, pw_declstore **out, pw_err *err);
void pw_declstore_destroy(pw_declstore **st);

/* Checks a declaration's fields (plates normalised, window ordered, ...). */
int pw_decl_check(const pw_decl *d, pw_err *err);

/* Adds a new declaration; -EEXIST when the reference is already stored. */
int pw_declstore_add(pw_declstore *st, const pw_decl *d, pw_err *err);
/* Replaces the declared fields of an existing reference; -ENOENT when unknown. */
int pw_declstore_amend(pw_declstore *st, const pw_decl *d, pw_err *err);
/* Marks a declaration cancelled; -ENOENT when the reference is unknown. */
int pw_declstore_cancel(pw_declstore *st, const char *reference, pw_err *err);
/* Fetches one declaration by reference; -ENOENT when unknown. */
int pw_declstore_get(pw_declstore *st, const char *reference, pw_decl *out, pw_err *err);

/* Called for each listed declaration; return non-zero to stop. */
typedef int (*pw_decl_cb)(const pw_decl *d, void *user);
/*
 * Lists declarations in reference order, or, when plate is given, those whose
 * vehicle or trailer plate is within one edit of it (confusions folded).
 */
int pw_declstore_list(pw_declstore *st, const char *plate, pw_decl_cb cb, void *user,
                      pw_err *err);
/* Number of declarations stored (all statuses). */
int64_t pw_declstore_count(pw_declstore *st);

/* ---- Import ---- */

typedef enum {
    PW_IMPORT_AUTO = 0,   /* by extension: .csv, else .json / .jsonl / .ndjson */
    PW_IMPORT_CSV = 1,
    PW_IMPORT_JSON = 2,
} pw_import_format;

typedef struct {
    uint64_t rows;        /* data rows read */
    uint64_t inserted;    /* new references */
    uint64_t updated;     /* known references whose fields changed */
    uint64_t unchanged;   /* known references, identical (re-import) */
    uint64_t rejected;    /* rows refused, each reported to the callback */
} pw_import_report;

/*
 * One rejected row: line is 1-based (the CSV header is line 1); for a JSON
 * array it is the 0-based element index.
 */
typedef void (*pw_import_reject_cb)(const char *file, long line, const char *reason,
                                    void *user);

/*
 * Imports a CSV or JSON file (docs/gate.md), committing every 50,000 rows
 * so that a running controller is not locked out. Rows are keyed by
 * reference, so a re-import changes nothing. Valid rows are kept even when
 * others are rejected; the return value is then PW_EIMPORT. A file that
 * cannot be read, or a CSV header that is wrong, imports nothing and
 * returns a negative code with err naming the file and line; a store
 * failure part-way keeps the batches already committed.
 */
int pw_declstore_import(pw_declstore *st, const char *path, pw_import_format fmt,
                        pw_import_reject_cb reject, void *user, pw_import_report *rep,
                        pw_err *err);

#ifdef __cplusplus
}
#endif

#endif
