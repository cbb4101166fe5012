/*
 * fuzz_decode.c - libFuzzer target for image decoding (pw_cv_decode): the
 * truncation and header-size checks run on any bytes, and whatever decodes
 * is a well-formed image within the size limit. Inputs that start like a
 * JPEG or PNG reach the header parsers most often, so the fuzzer is seeded
 * with both magics by the run script.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cvshim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pw_image *grey = NULL;
    pw_err err;
    pw_err_clear(&err);
    int rc = pw_cv_decode(data, size, &grey, NULL, &err);
    if (rc == 0) {
        pw_plane p = pw_image_plane(grey);
        if (pw_plane_check(&p) != 0)
            abort();
        pw_image_destroy(&grey);
    } else if (grey || !err.msg[0]) {
        abort(); /* a refusal leaves nothing behind and says why */
    }
    return 0;
}
