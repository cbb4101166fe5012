#define _POSIX_C_SOURCE 200809L
#include "pwtest.h"

#include <criterion/criterion.h>
#include <sys/wait.h>

char *pwtest_tmpdir(const char *prefix)
{
    gchar *tmpl = g_strconcat(prefix, "-XXXXXX", NULL);
    GError *gerr = NULL;
    char *dir = g_dir_make_tmp(tmpl, &gerr);
    cr_assert_not_null(dir, "temporary folder: %s", gerr ? gerr->message : "");
    g_free(tmpl);
    return dir;
}

void pwtest_rmtree(char **dir)
{
    if (!dir || !*dir)
        return;
    gchar *argv[] = {"rm", "-rf", *dir, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(*dir);
    *dir = NULL;
}

pwtest_run_result pwtest_run(const char *env_program, const char *const *args, const char *cwd)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)g_getenv(env_program));
    cr_assert_not_null(argv->pdata[0], "%s is not set", env_program);
    for (; *args; args++)
        g_ptr_array_add(argv, (gpointer)*args);
    g_ptr_array_add(argv, NULL);
    pwtest_run_result r = {0};
    int wait = 0;
    GError *gerr = NULL;
    cr_assert(g_spawn_sync(cwd, (gchar **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r.out, &r.err, &wait,
                           &gerr),
              "spawn %s: %s", env_program, gerr ? gerr->message : "");
    r.status = WIFEXITED(wait) ? WEXITSTATUS(wait) : 128;
    g_ptr_array_free(argv, TRUE);
    return r;
}

void pwtest_run_free(pwtest_run_result *r)
{
    g_free(r->out);
    g_free(r->err);
    r->out = r->err = NULL;
}
