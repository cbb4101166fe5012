/*
 * manifest.h - labelled image lists in the format of the dev set's
 * manifest.csv: a header line, then `image,plate_text,x,y,w,h,country,set`
 * per row, image paths relative to the manifest's folder, the box empty
 * where the image is already a plate crop.
 *
 * Ownership: a pw_manifest owns its rows and their strings; rows stay valid
 * until pw_manifest_destroy(), which frees everything and nulls the pointer.
 */
#ifndef PW_MANIFEST_H
#define PW_MANIFEST_H

#include "cvshim.h"
#include "pw_common.h"

typedef struct {
    char *image;      /* absolute or relative to the current folder (manifest folder prefixed) */
    char *plate;      /* label text, A-Z 0-9 */
    int has_box;      /* 0 for crop-only rows */
    pw_rect box;
    char *country;    /* as written in the manifest, e.g. "EU", "US" */
    char *set;        /* e.g. "eu", "us-crops" */
    int line;         /* line number in the manifest, for messages */
} pw_manifest_row;

typedef struct pw_manifest pw_manifest;

/*
 * Reads a manifest. A row with the wrong number of fields, a non-numeric or
 * negative box, or an empty image or plate gives PW_EMANIFEST with err naming
 * the file and the line.
 */
int pw_manifest_load(const char *path, pw_manifest **out, pw_err *err);
void pw_manifest_destroy(pw_manifest **m);

size_t pw_manifest_count(const pw_manifest *m);
const pw_manifest_row *pw_manifest_row_at(const pw_manifest *m, size_t i);

/* Keeps only rows whose set is in the comma-separated list (NULL or "" keeps all). */
void pw_manifest_filter_sets(pw_manifest *m, const char *sets);

/*
 * The fold of an image, sha1(file bytes) % 5 with the digest read as a
 * big-endian number: models are trained on some folds and measured on the
 * others, so that a figure is never taken on an image the model learnt from.
 */
int pw_manifest_fold(const char *path, int *fold, pw_err *err);

/* Keeps only rows whose image is in one of the comma-separated folds ("0", "1,2,3,4"). */
int pw_manifest_filter_folds(pw_manifest *m, const char *folds, pw_err *err);

#endif
