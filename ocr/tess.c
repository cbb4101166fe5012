/*
 * tess.c - Tesseract through its C API: initialisation with the settings a
 * plate needs, and extraction of characters with their alternatives.
 */
#include "tess.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <tesseract/capi.h>

struct pw_tess {
    TessBaseAPI *api;
};

/* Plate characters only. The space must be allowed, or the LSTM decoder
 * gives the first character after a gap a confidence near zero. */
static const char WHITELIST[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ";

/* Settings that must be given at initialisation: plates are not words, so
 * the dictionaries would only pull readings towards English. */
static char *init_names[] = {"load_system_dawg", "load_freq_dawg", "load_punc_dawg",
                             "load_number_dawg", "load_unambig_dawg", "load_bigram_dawg"};
static char *init_values[] = {"0", "0", "0", "0", "0", "0"};

static int plate_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Checks the traineddata file before Tesseract sees it, to name the problem. */
static int check_model(const char *path, pw_err *err)
{
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return pw_err_set(err, PW_EOCRINIT, "%s: no such traineddata file", path);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
        return pw_err_set(err, PW_EOCRINIT, "%s: not a regular file", path);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return pw_err_set(err, PW_EOCRINIT, "%s: cannot be opened: %s", path, g_strerror(errno));
    /* A traineddata file starts with the little-endian count of its
     * components; anything outside 1..1000 is not one. */
    unsigned char head[4];
    size_t got = fread(head, 1, sizeof head, fp);
    fclose(fp);
    uint32_t count = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 |
                     (uint32_t)head[3] << 24;
    if (got != sizeof head || count == 0 || count > 1000)
        return pw_err_set(err, PW_EOCRINIT, "%s: not a Tesseract traineddata file (bad header)", path);
    return 0;
}

static int configure(TessBaseAPI *api)
{
    int ok = TessBaseAPISetVariable(api, "tessedit_char_whitelist", WHITELIST);
    /* Alternatives per character from the LSTM decoder (mode 2). */
    ok = ok && TessBaseAPISetVariable(api, "lstm_choice_mode", "2");
    /* Without a resolution Tesseract guesses one and warns on every crop. */
    ok = ok && TessBaseAPISetVariable(api, "user_defined_dpi", "300");
    ok = ok && TessBaseAPISetVariable(api, "debug_file", "/dev/null");
    /*
     * Every line is prepared dark on light; by default Tesseract recognises
     * each unsure line a second time inverted, which here only costs time
     * (bench images fold 1: 51.4 -> 45.9 ms median, the same reads).
     */
    ok = ok && TessBaseAPISetVariable(api, "tessedit_do_invert", "0");
    TessBaseAPISetPageSegMode(api, PSM_SINGLE_LINE);
    return ok ? 0 : PW_EOCRINIT;
}

int pw_tess_new(const char *dir, const char *language, pw_tess **out, pw_err *err)
{
    if (!dir || !language || !out)
        return pw_err_set(err, -EINVAL, "pw_tess_new: missing argument");
    *out = NULL;
    /* Tesseract accepts several models joined by '+' and combines their readings. */
    char **names = g_strsplit(language, "+", -1);
    char *path = NULL;
    int rc = names[0] ? 0 : pw_err_set(err, PW_EOCRINIT, "empty OCR language name");
    for (char **name = names; rc == 0 && *name; name++) {
        char *file = g_strdup_printf("%s.traineddata", *name);
        g_free(path);
        path = g_build_filename(dir, file, NULL);
        g_free(file);
        rc = **name ? check_model(path, err)
                    : pw_err_set(err, PW_EOCRINIT, "OCR language \"%s\" has an empty model name", language);
    }
    g_strfreev(names);
    if (strchr(language, '+')) {
        g_free(path);
        path = g_strdup_printf("%s (models %s)", dir, language);
    }
    TessBaseAPI *api = NULL;
    if (rc == 0) {
        api = TessBaseAPICreate();
        if (TessBaseAPIInit4(api, dir, language, OEM_LSTM_ONLY, NULL, 0, init_names, init_values,
                             G_N_ELEMENTS(init_names), FALSE) != 0)
            rc = pw_err_set(err, PW_EOCRINIT, "%s: Tesseract could not load it (corrupt, truncated "
                            "or without an LSTM model)", path);
        else if (configure(api) < 0)
            rc = pw_err_set(err, PW_EOCRINIT, "%s: Tesseract refused the plate settings", path);
    }
    g_free(path);
    if (rc < 0) {
        if (api) {
            TessBaseAPIEnd(api);
            TessBaseAPIDelete(api);
        }
        return rc;
    }
    *out = g_new0(pw_tess, 1);
    (*out)->api = api;
    return 0;
}

void pw_tess_destroy(pw_tess **t)
{
    if (!t || !*t)
        return;
    TessBaseAPIEnd((*t)->api);
    TessBaseAPIDelete((*t)->api);
    g_free(*t);
    *t = NULL;
}

/* Fills one position from the iterator's current symbol; returns 0 when it is not a plate character. */
static int symbol_choices(TessResultIterator *it, pw_char_choices *p)
{
    char *text = TessResultIteratorGetUTF8Text(it, RIL_SYMBOL);
    if (!text)
        return 0;
    char c = text[0];
    TessDeleteText(text);
    if (!plate_char(c))
        return 0;
    memset(p, 0, sizeof *p);
    p->ch[0] = c;
    p->conf[0] = TessResultIteratorConfidence(it, RIL_SYMBOL);
    p->n = 1;
    TessChoiceIterator *ci = TessResultIteratorGetChoiceIterator(it);
    if (!ci)
        return 1;
    do {
        const char *alt = TessChoiceIteratorGetUTF8Text(ci);
        if (!alt || !plate_char(alt[0]) || alt[1])
            continue;
        int dup = 0;
        for (int k = 0; k < p->n; k++)
            dup |= p->ch[k] == alt[0];
        if (dup || p->n == PW_CHOICES_MAX)
            continue;
        p->ch[p->n] = alt[0];
        p->conf[p->n] = TessChoiceIteratorConfidence(ci);
        p->n++;
    } while (TessChoiceIteratorNext(ci));
    TessChoiceIteratorDelete(ci);
    return 1;
}

int pw_tess_read_line(pw_tess *t, const pw_plane *line, pw_char_choices *pos, size_t max, size_t *n)
{
    if (!t || pw_plane_check(line) != 0 || line->channels != 1 || !pos || !n)
        return -EINVAL;
    *n = 0;
    TessBaseAPISetImage(t->api, line->data, line->width, line->height, 1, line->stride);
    if (TessBaseAPIRecognize(t->api, NULL) != 0) {
        TessBaseAPIClear(t->api);
        return PW_EOCR;
    }
    TessResultIterator *it = TessBaseAPIGetIterator(t->api);
    if (it) {
        do {
            if (*n < max && symbol_choices(it, &pos[*n]))
                (*n)++;
        } while (TessResultIteratorNext(it, RIL_SYMBOL));
        TessResultIteratorDelete(it);
    }
    TessBaseAPIClear(t->api);
    return 0;
}
