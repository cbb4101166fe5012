/*
 * fuzz_config_daemon.c - libFuzzer target for the daemon's configuration
 * file (pw_daemon_config_load, the entry point platewatchd and --check use):
 * any file is loaded or refused with a sentence, never a crash or a leak.
 */
#include <stdint.h>
#include <stdlib.h>

#include "daemon_config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet_logs();
    char *path = fuzz_write_file("platewatchd.conf", data, size, 0600);
    pw_daemon_config *cfg = NULL;
    pw_err err;
    pw_err_clear(&err);
    int rc = pw_daemon_config_load(path, &cfg, &err);
    if (rc == 0 && !cfg)
        abort();
    if (rc != 0 && (cfg || !err.msg[0]))
        abort(); /* a refusal leaves nothing behind and says why */
    pw_daemon_config_destroy(&cfg);
    g_free(path);
    return 0;
}
