/*
 * plateformat_internal.h - the loaded form of the plate formats, shared by
 * the loader (plateformat.c) and the matcher (platematch.c) only.
 *
 * A format line such as "L{1,3}-L{1,2}-N{1,4}" is expanded at load time into
 * every fixed-length sequence of slots it allows, so that matching compares
 * a reading slot by slot without any backtracking over quantifiers.
 */
#ifndef PW_PLATEFORMAT_INTERNAL_H
#define PW_PLATEFORMAT_INTERNAL_H

#include <glib.h>
#include <stdint.h>

#include "plateformat.h"

/* Bit i (0-25) stands for letter 'A' + i, bit 26 + d for digit d. */
typedef uint64_t pw_slot_mask;

#define PW_MASK_LETTERS ((pw_slot_mask)0x3ffffff)
#define PW_MASK_DIGITS ((pw_slot_mask)0x3ff << 26)

/* One fixed-length expansion of a format line. */
typedef struct {
    pw_slot_mask slot[PW_PLATE_MAX];
    int len;
    int format;     /* index into the country's format strings */
} pw_fixed_pattern;

typedef struct {
    char code[PW_COUNTRY_MAX];
    char *name;
    char **regions;     /* groups the country belongs to, e.g. "EU"; NULL-terminated */
    GPtrArray *formats; /* char *, each format line as written */
    GArray *patterns;   /* pw_fixed_pattern */
    pw_slot_mask classes[26]; /* slot letters the file defines with "class", 0 when undefined */
} pw_country;

struct pw_formats {
    GPtrArray *countries; /* pw_country *, sorted by code */
};

/* The mask bit of a plate character, 0 for anything else. */
static inline pw_slot_mask pw_char_mask(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (pw_slot_mask)1 << (c - 'A');
    if (c >= '0' && c <= '9')
        return (pw_slot_mask)1 << (26 + c - '0');
    return 0;
}

/*
 * Parses one pattern (without comment) and appends its expansions to
 * patterns; classes gives the masks of the file's own slot letters (0 where
 * undefined). Returns 0, or PW_EFORMATFILE with why set to a static sentence.
 */
int pw_pattern_expand(const char *pattern, const pw_slot_mask classes[26], int format_index,
                      GArray *patterns, const char **why);

/* Parses a character set "[A-HJ-NP-Z]" that starts at s (the '['); sets *end past the ']'. */
int pw_pattern_set(const char *s, const char **end, pw_slot_mask *mask, const char **why);

#endif
