/*
 * fuzz_config_gate.c - libFuzzer target for the lane controller's
 * configuration file (pw_gate_settings_load, as platewatch-gate reads it).
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet_logs();
    char *path = fuzz_write_file("gate.conf", data, size, 0600);
    pw_gate_settings *s = NULL;
    pw_err err;
    pw_err_clear(&err);
    int rc = pw_gate_settings_load(path, &s, &err);
    if (rc == 0 && (!s || !pw_gate_settings_config(s)))
        abort();
    if (rc != 0 && (s || !err.msg[0]))
        abort();
    pw_gate_settings_destroy(&s);
    g_free(path);
    return 0;
}
