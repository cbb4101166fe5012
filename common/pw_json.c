/*
 * pw_json.c - a linear scan of JSON text for its nesting depth, so that
 * json-glib's recursive parser never sees input deep enough to overflow the
 * stack (see pw_json.h).
 */
#include "pw_json.h"

int pw_json_check_depth(const char *text, size_t len, pw_err *err)
{
    int depth = 0;
    long line = 1, col = 0;
    int in_string = 0, escaped = 0;
    for (size_t i = 0; text && i < len; i++) {
        char c = text[i];
        col++;
        if (c == '\n') {
            line++;
            col = 0;
        }
        if (in_string) {
            /* Only a quote that is not escaped ends the string. */
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > PW_JSON_MAX_DEPTH)
                return pw_err_set(err, PW_EMSG, "line %ld column %ld: arrays and objects "
                                  "nest deeper than %d levels", line, col, PW_JSON_MAX_DEPTH);
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}
