/*
 * fuzz_formats.c - libFuzzer target for plate-format files (ocr/plateformat):
 * the input is one country's .fmt file; what loads must then match readings
 * without crashing, and every match must fit the documented shape.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "plateformat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet_logs();
    char *path = fuzz_write_file("zz.fmt", data, size, 0600);
    pw_formats *f = NULL;
    pw_err err;
    pw_err_clear(&err);
    int rc = pw_formats_load_dir(fuzz_dir(), &f, &err);
    if (rc != 0 && (f || !err.msg[0]))
        abort();
    static const char *const readings[] = {"AB123CD", "AB-123-CD", "0O1I8B", "12 34", "", "Z"};
    for (size_t i = 0; f && i < G_N_ELEMENTS(readings); i++) {
        pw_format_match m;
        int mrc = pw_formats_match(f, readings[i], NULL, 0, &m);
        if (mrc != 0 && mrc != PW_ENOPLATE)
            abort();
        if (strlen(m.text) > PW_PLATE_MAX || (mrc == 0 && !m.country[0]))
            abort();
    }
    pw_formats_destroy(&f);
    g_free(path);
    return 0;
}
