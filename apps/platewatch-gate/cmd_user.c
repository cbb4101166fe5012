/*
 * cmd_user.c - platewatch-gate user add|passwd|disable|enable|list: the
 * console's accounts (docs/console.md). A password is read from standard
 * input: typed twice without echo on a terminal, or the first line of a
 * pipe (for provisioning scripts).
 */
#define _POSIX_C_SOURCE 200809L
#include "commands.h"
#include "console.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* One line from stdin without its newline; NULL at end of input. */
static char *read_line(FILE *in)
{
    char buf[PW_PASSWORD_MAX + 2];
    if (!fgets(buf, sizeof buf, in))
        return NULL;
    buf[strcspn(buf, "\r\n")] = '\0';
    char *line = g_strdup(buf);
    sodium_memzero(buf, sizeof buf);
    return line;
}

static char *prompt_hidden(const char *prompt)
{
    struct termios old, quiet;
    fputs(prompt, stderr);
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    char *line = read_line(stdin);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    return line;
}

static void free_secret(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        g_free(s);
    }
}

static char *read_password(void)
{
    if (!isatty(STDIN_FILENO))
        return read_line(stdin);
    char *a = prompt_hidden("New password: "), *b = prompt_hidden("Again: ");
    if (a && b && strcmp(a, b) == 0) {
        free_secret(b);
        return a;
    }
    fprintf(stderr, "platewatch-gate: the passwords differ\n");
    free_secret(a);
    free_secret(b);
    return NULL;
}

static int print_account(const char *name, pw_role role, bool disabled, int64_t created_us,
                         void *user)
{
    (void)user;
    char *created = pw_format_time(created_us);
    printf("%s\t%s\t%s\t%s\n", name, pw_role_name(role), disabled ? "disabled" : "enabled",
           created);
    g_free(created);
    return 0;
}

static int run_user(sqlite3 *db, const char *what, const char *name, pw_role role)
{
    pw_err err = {0};
    int rc = 0;
    if (strcmp(what, "list") == 0) {
        printf("name\trole\tstate\tcreated\n");
        rc = pw_accounts_list(db, print_account, NULL, &err);
    } else if (strcmp(what, "disable") == 0 || strcmp(what, "enable") == 0) {
        rc = pw_accounts_set_disabled(db, name, what[0] == 'd', &err);
    } else {
        char *password = read_password();
        if (!password)
            rc = pw_err_set(&err, -EINVAL, "no password given on standard input");
        else if (strcmp(what, "add") == 0)
            rc = pw_accounts_add(db, name, password, role, &err);
        else
            rc = pw_accounts_passwd(db, name, password, &err);
        free_secret(password);
    }
    if (rc)
        fprintf(stderr, "platewatch-gate: %s\n", err.msg);
    return rc ? 1 : 0;
}

int pw_cmd_user(const char *store, int argc, char **argv)
{
    char *role_name = NULL;
    GOptionEntry entries[] = {
        {"role", 'r', 0, G_OPTION_ARG_STRING, &role_name, "officer (default) or admin", "ROLE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("add|passwd|disable|enable NAME, or list - "
                                               "console accounts");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    bool ok = g_option_context_parse(ctx, &argc, &argv, &gerr);
    pw_role role = PW_ROLE_OFFICER;
    const char *what = argc > 1 ? argv[1] : "";
    const char *usage = NULL;
    if (!ok)
        usage = gerr->message;
    else if (role_name && pw_role_parse(role_name, &role))
        usage = "--role must be officer or admin";
    else if (strcmp(what, "list") == 0 ? argc != 2
             : !g_strv_contains((const char *const[]){"add", "passwd", "disable", "enable",
                                                      NULL}, what) || argc != 3)
        usage = "user needs add|passwd|disable|enable NAME, or list";
    int status = 2;
    if (usage) {
        char *help = g_option_context_get_help(ctx, TRUE, NULL);
        fprintf(stderr, "platewatch-gate: %s\n%s", usage, help);
        g_free(help);
    } else {
        pw_declstore *st = NULL;
        pw_err err = {0};
        if (pw_declstore_new(store, &st, &err) ||
            pw_accounts_init(pw_declstore_db(st), &err))
            fprintf(stderr, "platewatch-gate: %s\n", err.msg);
        else
            status = run_user(pw_declstore_db(st), what, argc > 2 ? argv[2] : NULL, role);
        pw_declstore_destroy(&st);
    }
    g_clear_error(&gerr);
    g_free(role_name);
    g_option_context_free(ctx);
    return status;
}
