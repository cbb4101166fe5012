/* test_json_depth.c - pw_json_check_depth, the nesting bound applied before json-glib. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "pw_json.h"

static char *brackets(int depth)
{
    char *s = g_malloc((size_t)depth * 2 + 1);
    memset(s, '[', (size_t)depth);
    memset(s + depth, ']', (size_t)depth);
    s[depth * 2] = '\0';
    return s;
}

Test(json_depth, allows_the_limit_and_refuses_one_more_with_its_place)
{
    char *ok = brackets(PW_JSON_MAX_DEPTH);
    char *deep = brackets(PW_JSON_MAX_DEPTH + 1);
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_json_check_depth(ok, strlen(ok), &err), 0, "%s", err.msg);
    cr_assert_eq(pw_json_check_depth(deep, strlen(deep), &err), PW_EMSG);
    char want[64];
    snprintf(want, sizeof want, "line 1 column %d", PW_JSON_MAX_DEPTH + 1);
    cr_assert(strstr(err.msg, want), "%s", err.msg);
    g_free(ok);
    g_free(deep);
}

Test(json_depth, brackets_inside_strings_and_after_escapes_do_not_count)
{
    GString *s = g_string_new("{\"k\":\"");
    for (int i = 0; i < 1000; i++)
        g_string_append(s, "[{\\\"");
    g_string_append(s, "\",\"n\":\"\\\\\",\"x\":[[1]]}");
    cr_assert_eq(pw_json_check_depth(s->str, s->len, NULL), 0);
    /* An escaped backslash ends the escape: the quote after it closes the string. */
    g_string_assign(s, "[\"\\\\\"");
    for (int i = 0; i < PW_JSON_MAX_DEPTH; i++)
        g_string_append_c(s, '[');
    cr_assert_eq(pw_json_check_depth(s->str, s->len, NULL), PW_EMSG);
    g_string_free(s, TRUE);
}

Test(json_depth, counts_lines_and_reads_only_len_bytes)
{
    char *deep = brackets(200);
    char *text = g_strconcat("{\n\"a\":\n", deep, NULL);
    pw_err err;
    cr_assert_eq(pw_json_check_depth(text, strlen(text), &err), PW_EMSG);
    cr_assert(strstr(err.msg, "line 3 column 64:"), "%s", err.msg);
    cr_assert_eq(pw_json_check_depth(text, 10, &err), 0, "only the first 10 bytes are read");
    g_free(text);
    g_free(deep);
}
