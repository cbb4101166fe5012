/*
 * fuzz_manifest.c - libFuzzer target for image manifests (bench/manifest.c),
 * the labelled lists `platewatch bench images` and the OCR tools read.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet_logs();
    char *path = fuzz_write_file("manifest.csv", data, size, 0600);
    pw_manifest *m = NULL;
    pw_err err;
    pw_err_clear(&err);
    int rc = pw_manifest_load(path, &m, &err);
    if (rc != 0 && (m || !err.msg[0]))
        abort();
    pw_manifest_destroy(&m);
    g_free(path);
    return 0;
}
