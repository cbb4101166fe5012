/*
 * pw_json.h - the nesting bound every parser of untrusted JSON applies.
 *
 * json-glib's parser recurses once per nested array or object, so a few
 * hundred kilobytes of "[[[[..." exhaust the stack and crash the process
 * (SIGSEGV) before any check of ours runs. Every place that hands bytes from
 * the network or from a user's file to json-glib first calls
 * pw_json_check_depth(), which scans the text without recursion.
 *
 * Threads: pure functions, callable from any thread.
 */
#ifndef PW_JSON_H
#define PW_JSON_H

#include <stddef.h>

#include "pw_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Deepest nesting of arrays and objects accepted. Events nest 3 deep,
 * declarations 2; 64 leaves room for any honest producer and keeps
 * json-glib's recursion a few kilobytes of stack.
 */
#define PW_JSON_MAX_DEPTH 64

/*
 * Returns 0 when the len bytes of text nest arrays and objects at most
 * PW_JSON_MAX_DEPTH deep (brackets inside strings do not count), otherwise
 * PW_EMSG with err naming the line and column where the limit is passed.
 * It checks nothing else: the text may still be malformed JSON.
 */
int pw_json_check_depth(const char *text, size_t len, pw_err *err);

#ifdef __cplusplus
}
#endif

#endif
