/*
 * plateformat.h - per-country licence plate formats, loaded from the
 * human-editable files in models/formats/ (one file per country, format
 * documented in models/formats/README.md), and the matching of an OCR
 * reading against them with correction of confusable characters.
 *
 * Ownership: a pw_formats set is immutable after loading and may be shared
 * by any number of threads; pw_formats_destroy() frees it and nulls the
 * pointer.
 */
#ifndef PW_PLATEFORMAT_H
#define PW_PLATEFORMAT_H

#include "pw_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pw_formats pw_formats;

/*
 * Loads every *.fmt file of dir. A malformed line fails the load with
 * PW_EFORMATFILE and err naming the file, the line number and the problem;
 * a missing or unreadable folder returns -errno with the path in err.
 */
int pw_formats_load_dir(const char *dir, pw_formats **out, pw_err *err);
void pw_formats_destroy(pw_formats **f);

/* Number of countries loaded, and the code of the i-th one. */
size_t pw_formats_country_count(const pw_formats *f);
const char *pw_formats_country(const pw_formats *f, size_t i);

/* Parses "FR,DE,nl" into upper-case codes; unknown codes give -ENOENT with the code in err. */
int pw_formats_parse_countries(const pw_formats *f, const char *list, char codes[][PW_COUNTRY_MAX],
                               size_t max, size_t *n, pw_err *err);

typedef struct {
    char text[PW_PLATE_MAX + 1];     /* corrected plate text, A-Z and 0-9 only */
    char country[PW_COUNTRY_MAX];    /* matched country code, "" when none matched */
    char format[24];                 /* the pattern that matched, as written in the file */
    int corrections;                 /* confusable characters replaced to fit the pattern */
} pw_format_match;

/*
 * Matches a reading (A-Z, 0-9, spaces and dashes; separators are ignored)
 * against the formats of the given countries (all loaded countries when
 * n_countries is 0). Where a slot admits only digits or only letters, the
 * confusable pairs O/0, I/1, B/8, S/5, Z/2, G/6, D/0, Q/0 are corrected.
 * Returns 0 and fills out when a format matches (the one needing the fewest
 * corrections), PW_ENOPLATE when none does (out->text then holds the
 * cleaned reading and out->country is empty).
 */
int pw_formats_match(const pw_formats *f, const char *reading, const char (*countries)[PW_COUNTRY_MAX],
                     size_t n_countries, pw_format_match *out);


/* ---- Format-guided choice among per-character alternatives ------------ */

#define PW_CHOICES_MAX 4      /* alternatives kept per character position */

/* The alternatives the OCR engine gave for one character, best first. */
typedef struct {
    char ch[PW_CHOICES_MAX];      /* A-Z or 0-9 */
    float conf[PW_CHOICES_MAX];   /* 0-100 */
    int n;                        /* 1..PW_CHOICES_MAX */
} pw_char_choices;

/* One way of reading the positions as a plate of some country's format. */
typedef struct {
    pw_format_match m;
    float cost;                   /* lower is better: alternatives taken, corrections, positions dropped */
    float char_conf[PW_PLATE_MAX];/* confidence of each character of m.text */
    int dropped;                  /* positions left out (frame lines, country bands) */
} pw_choice_match;

/*
 * Finds the readings of the positions that fit a format of the given
 * countries (all when n_countries is 0): at each slot the best alternative
 * that the slot admits, or a confusable correction of one. With
 * allow_drop, positions may be left out at a cost (characters read from
 * plate frames, screws or country bands). Fills up to max results with
 * distinct texts, cheapest first, and sets *n (0 when nothing fits).
 * Returns 0, or -EINVAL for bad arguments.
 */
int pw_formats_match_choices(const pw_formats *f, const pw_char_choices *pos, size_t n_pos,
                             const char (*countries)[PW_COUNTRY_MAX], size_t n_countries,
                             int allow_drop, pw_choice_match *results, size_t max, size_t *n);

/* Human-readable name of the i-th country ("France"), "" when the file gave none. */
const char *pw_formats_country_name(const pw_formats *f, size_t i);

#ifdef __cplusplus
}
#endif

#endif
