/*
 * pw_json.h - JSON text in and out, the same for every module.
 *
 * Out: the one way the project turns JSON trees into text: json-glib's
 * generator, with every floating-point number in the shortest decimal form
 * that reads back to the same double (0.952682, not 0.95268200000000003;
 * 32.6, not 32.600000000000001). json-glib 1.6 prints doubles with %.17g and
 * offers no other form, so the numbers of its output are rewritten.
 *
 * Integers are written as json-glib writes them; a double that happens to be
 * integral keeps a ".0" (1.0, 100.0), so that readers can still tell a
 * number meant as floating point from a count.
 *
 * In: the nesting bound every parser of untrusted JSON applies. json-glib's
 * parser recurses once per nested array or object, so a few hundred
 * kilobytes of "[[[[..." exhaust the stack and crash the process (SIGSEGV)
 * before any check of ours runs. Every place that hands bytes from the
 * network or from a user's file to json-glib first calls
 * pw_json_check_depth(), which scans the text without recursion.
 *
 * Ownership: returned strings are g_malloc'd (g_free). No state: callable
 * from any thread.
 */
#ifndef PW_JSON_H
#define PW_JSON_H

#include <json-glib/json-glib.h>
#include <stddef.h>

#include "pw_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Room for any number pw_json_number() writes, with its NUL ("-2.2250738585072014e-308"). */
#define PW_JSON_NUMBER_MAX 32

/*
 * Writes v into buf in the shortest form that g_ascii_strtod() reads back
 * exactly, as a JSON number with a fraction or exponent; NaN and infinities,
 * which JSON cannot carry, are written as null. Returns the length.
 */
size_t pw_json_number(double v, char buf[PW_JSON_NUMBER_MAX]);

/*
 * Rewrites every floating-point number of a JSON text (a token with '.',
 * 'e' or 'E' outside strings) in pw_json_number() form; strings, integers
 * and white space are kept byte for byte.
 */
char *pw_json_shorten_numbers(const char *json);

/* The text of root (compact, or indented by two when pretty), with shortest numbers. */
char *pw_json_to_string(JsonNode *root, gboolean pretty);

/* The same for the tree a builder holds (its root is taken and released). */
char *pw_json_builder_to_string(JsonBuilder *b, gboolean pretty);

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
