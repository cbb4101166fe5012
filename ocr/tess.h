/*
 * tess.h - the Tesseract engine behind the ocr module (internal): one
 * TessBaseAPI, initialised once, reading one text line at a time and
 * returning each character with its alternatives.
 *
 * Ownership: a pw_tess belongs to one thread at a time.
 */
#ifndef PW_TESS_H
#define PW_TESS_H

#include "plateformat.h"
#include "pw_common.h"

typedef struct pw_tess pw_tess;

/*
 * Loads <dir>/<language>.traineddata. A missing, unreadable or corrupt file
 * gives PW_EOCRINIT with err naming the file and the problem.
 */
int pw_tess_new(const char *dir, const char *language, pw_tess **out, pw_err *err);
void pw_tess_destroy(pw_tess **t);

/*
 * Reads a grey line image (dark text on light) as one line of plate
 * characters. Fills up to max positions, best alternative first, and sets *n.
 * Returns 0 (with *n 0 when nothing was read) or PW_EOCR.
 */
int pw_tess_read_line(pw_tess *t, const pw_plane *line, pw_char_choices *pos, size_t max, size_t *n);

#endif
