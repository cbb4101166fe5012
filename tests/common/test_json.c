/*
 * test_json.c - the one JSON writer helper: numbers in the shortest form
 * that reads back to the same double, everything else as json-glib wrote it.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "pw_json.h"

static const char *num(double v, char buf[PW_JSON_NUMBER_MAX])
{
    pw_json_number(v, buf);
    return buf;
}

Test(json, numbers_take_their_shortest_exact_form)
{
    char b[PW_JSON_NUMBER_MAX];
    cr_expect_str_eq(num(0.952682, b), "0.952682");
    cr_expect_str_eq(num(32.6, b), "32.6");
    cr_expect_str_eq(num(0.1 + 0.2, b), "0.30000000000000004");
    cr_expect_str_eq(num(-2.5, b), "-2.5");
    cr_expect_str_eq(num(0.0, b), "0.0");
    cr_expect_str_eq(num(1.0, b), "1.0");
    cr_expect_str_eq(num(100.0, b), "100.0");
    cr_expect_str_eq(num(1234567.0, b), "1234567.0");
    cr_expect_str_eq(num(0.00001, b), "0.00001");
    cr_expect_str_eq(num(1e-7, b), "1e-07");
    cr_expect_str_eq(num(1e300, b), "1e+300");
    cr_expect_str_eq(num(NAN, b), "null");
    cr_expect_str_eq(num(INFINITY, b), "null");
}

/* Any double, large, small or denormal, reads back exactly and is never longer than %.17g. */
Test(json, every_number_reads_back_exactly)
{
    GRand *r = g_rand_new_with_seed(7);
    const double edge[] = {DBL_MIN, DBL_MAX, -DBL_MAX, DBL_EPSILON, 5e-324, 1.0 / 3.0, 9.95, 99.95};
    for (int i = 0; i < 20000; i++) {
        double v;
        if (i < (int)G_N_ELEMENTS(edge)) {
            v = edge[i];
        } else {
            guint64 bits = ((guint64)g_rand_int(r) << 32) | g_rand_int(r);
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                continue;
            if (i % 2)
                v = round(g_rand_double_range(r, -1000, 1000) * 1e6) / 1e6;
        }
        char b[PW_JSON_NUMBER_MAX], longest[G_ASCII_DTOSTR_BUF_SIZE];
        size_t n = pw_json_number(v, b);
        cr_assert_eq(g_ascii_strtod(b, NULL), v, "%s does not read back as %.17g", b, v);
        g_ascii_formatd(longest, sizeof longest, "%.17g", v);
        cr_assert_leq(n, strlen(longest) + 2, "%s is longer than %s", b, longest);
        cr_assert(strpbrk(b, ".e"), "%s would read back as an integer", b);
    }
    g_rand_free(r);
}

Test(json, text_keeps_strings_and_integers_and_shortens_doubles)
{
    const char *in = "{\"a\":\"0.10000000000000001 \\\"2.50\\\" -3.0\",\"b\":0.10000000000000001,"
                     "\"c\":[1,-2,2.5,3.0,32.600000000000001e0],\"d\":true,\"e\":null}";
    char *out = pw_json_shorten_numbers(in);
    cr_expect_str_eq(out, "{\"a\":\"0.10000000000000001 \\\"2.50\\\" -3.0\",\"b\":0.1,"
                          "\"c\":[1,-2,2.5,3.0,32.6],\"d\":true,\"e\":null}");
    g_free(out);
}

Test(json, builder_output_has_shortest_numbers)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "ms");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "decode");
    json_builder_add_double_value(b, 32.6);
    json_builder_set_member_name(b, "frames");
    json_builder_add_int_value(b, 12);
    json_builder_end_object(b);
    json_builder_end_object(b);
    char *compact = pw_json_builder_to_string(b, FALSE);
    cr_expect_str_eq(compact, "{\"ms\":{\"decode\":32.6,\"frames\":12}}");
    JsonNode *root = json_builder_get_root(b);
    char *pretty = pw_json_to_string(root, TRUE);
    cr_expect(strstr(pretty, "\"decode\" : 32.6,\n"), "%s", pretty);
    json_node_unref(root);
    g_free(pretty);
    g_free(compact);
    g_object_unref(b);
}
