/*
 * fuzz_keys.c - libFuzzer target for CURVE key files (publish/keys.c): the
 * first byte chooses the reader (secret key, public key, allow-list file),
 * the rest is the file. A key that loads is 40 Z85 characters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "publish_internal.h"

static bool z85_key(const char *s)
{
    return strlen(s) == 40;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_quiet_logs();
    char *path = fuzz_write_file("k.key", data + 1, size - 1, 0600);
    pw_err err;
    pw_err_clear(&err);
    int rc;
    switch (data[0] % 3) {
    case 0: {
        pw_keypair kp;
        rc = pw_keys_load_secret(path, &kp, &err);
        if (rc == 0 && (!z85_key(kp.public_z85) || !z85_key(kp.secret_z85)))
            abort();
        break;
    }
    case 1: {
        char z85[41];
        rc = pw_keys_load_public(path, z85, &err);
        if (rc == 0 && !z85_key(z85))
            abort();
        break;
    }
    default: {
        GHashTable *allow = NULL;
        rc = pw_keys_load_allow(path, &allow, &err);
        if (rc == 0 && !allow)
            abort();
        if (allow)
            g_hash_table_unref(allow);
        break;
    }
    }
    if (rc != 0 && !err.msg[0])
        abort();
    g_free(path);
    return 0;
}
