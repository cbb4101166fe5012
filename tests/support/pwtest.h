/*
 * pwtest.h - what several Criterion suites share: a temporary folder per
 * test, and running one of the project's programs (its path taken from an
 * environment variable that meson sets) to collect its status and output.
 *
 * Ownership: pwtest_tmpdir() returns a new string (g_free, or pwtest_rmtree
 * which also removes the folder). Run results own their output strings until
 * pwtest_run_free().
 */
#ifndef PWTEST_H
#define PWTEST_H

#include <glib.h>

/* A new empty folder under the system temporary folder, named after prefix. */
char *pwtest_tmpdir(const char *prefix);

/* Removes the folder and everything in it, frees *dir and nulls it. */
void pwtest_rmtree(char **dir);

typedef struct {
    int status;  /* exit status, 128 when killed by a signal */
    char *out;
    char *err;
} pwtest_run_result;

/*
 * Runs the program whose path is in the environment variable env_program
 * with args (NULL-terminated, without argv[0]) in folder cwd (NULL: the
 * current one) and waits for it.
 */
pwtest_run_result pwtest_run(const char *env_program, const char *const *args, const char *cwd);
void pwtest_run_free(pwtest_run_result *r);

/* A TCP port on 127.0.0.1 that was free a moment ago, for a server the test starts. */
int pwtest_free_port(void);

/*
 * Writes a small drive-by recording (800x450, 30 frames per vehicle) of
 * plates ("AB-123-CD:FR,WX 48213:PL") as dir/name with the program in
 * PW_SYNTH; returns its path (g_free).
 */
char *pwtest_drive_clip(const char *dir, const char *name, const char *plates);

#endif
