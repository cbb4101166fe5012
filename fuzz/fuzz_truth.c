/*
 * fuzz_truth.c - libFuzzer target for the video benchmark's ground truth
 * (bench/video_truth.c): the first byte chooses the passages CSV or the
 * per-frame boxes CSV, the rest is the file.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "video.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_quiet_logs();
    char *path = fuzz_write_file("truth.csv", data + 1, size - 1, 0600);
    pw_err err;
    pw_err_clear(&err);
    int rc;
    if (data[0] & 1) {
        GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify)g_array_unref);
        rc = pw_vtruth_load(path, t, &err);
        g_hash_table_unref(t);
    } else {
        GHashTable *h = g_hash_table_new(g_direct_hash, g_direct_equal);
        rc = pw_vboxes_load(path, "rec", h, &err);
        g_hash_table_unref(h);
    }
    if (rc != 0 && !err.msg[0])
        abort();
    g_free(path);
    return 0;
}
