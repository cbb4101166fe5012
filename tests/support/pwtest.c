#define _POSIX_C_SOURCE 200809L
#include "pwtest.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

int pwtest_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

char *pwtest_drive_clip(const char *dir, const char *name, const char *plates)
{
    gchar *clip = g_build_filename(dir, name, NULL);
    gchar *argv[] = {(gchar *)g_getenv("PW_SYNTH"), "drive", "--out", clip, "--plates", (gchar *)plates,
                     "--width", "800", "--height", "450", "--frames", "30", "--gap", "20", "--far", "18",
                     "--near", "26", NULL};
    cr_assert_not_null(argv[0], "PW_SYNTH is not set");
    int wait = 0;
    gchar *err = NULL;
    cr_assert(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &wait, NULL));
    cr_assert(g_spawn_check_wait_status(wait, NULL), "pw-synth: %s", err);
    g_free(err);
    return clip;
}
