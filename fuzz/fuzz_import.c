/*
 * fuzz_import.c - libFuzzer target for declaration imports (gate/import.c):
 * the first byte chooses CSV or JSON, the rest is the file, imported into
 * one in-memory store. Every refusal, of the file or of a row, says why, and
 * the report's counts add up.
 */
#include <stdint.h>
#include <stdlib.h>

#include "declstore.h"
#include "fuzz_util.h"

static void on_reject(const char *file, long line, const char *reason, void *user)
{
    (void)file;
    (void)line;
    if (!reason || !reason[0])
        abort();
    (*(uint64_t *)user)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pw_declstore *st;
    if (size < 1)
        return 0;
    fuzz_quiet_logs();
    if (!st && pw_declstore_new(":memory:", &st, NULL) != 0)
        abort();
    bool csv = data[0] & 1;
    char *path = fuzz_write_file(csv ? "d.csv" : "d.json", data + 1, size - 1, 0600);
    pw_import_report rep;
    uint64_t rejects = 0;
    pw_err err;
    pw_err_clear(&err);
    int rc = pw_declstore_import(st, path, csv ? PW_IMPORT_CSV : PW_IMPORT_JSON, on_reject,
                                 &rejects, &rep, &err);
    if (rc != 0 && !err.msg[0])
        abort();
    if (rejects != rep.rejected || rep.inserted + rep.updated + rep.unchanged + rep.rejected > rep.rows)
        abort();
    g_free(path);
    return 0;
}
