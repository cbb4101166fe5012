/*
 * pw_common.h - what every platewatch module shares: error codes, the error
 * detail buffer, and 8-bit image planes.
 *
 * Error convention: functions return 0 on success or a negative code. Codes
 * in the errno range are -errno (for example -ENOENT, -ENOMEM); codes that
 * only platewatch knows are below PW_ERR_BASE. pw_strerror() names both.
 *
 * Ownership: a pw_plane is a borrowed view and never owns its pixels. A
 * pw_image owns its pixels; pw_image_destroy() frees them and nulls the
 * caller's pointer.
 */
#ifndef PW_COMMON_H
#define PW_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Project error codes; errno values are used as they are, negated. */
enum {
    PW_ERR_BASE = -1000,
    PW_EDECODE = -1001,      /* the bytes are not an image any decoder knows */
    PW_ETRUNCATED = -1002,   /* the image file ends before its end marker */
    PW_EEMPTYIMG = -1003,    /* the image has zero width, height or bytes */
    PW_ETOOBIG = -1004,      /* the image or frame exceeds the size limit */
    PW_ECV = -1005,          /* OpenCV raised an exception */
    PW_EOCRINIT = -1006,     /* Tesseract could not load its model */
    PW_EOCR = -1007,         /* Tesseract failed on a crop */
    PW_EFORMATFILE = -1008,  /* a plate-format file is malformed */
    PW_ECONFIG = -1009,      /* a configuration file or value is wrong */
    PW_EBADFRAME = -1010,    /* frame geometry is inconsistent (stride < width) */
    PW_ENOPLATE = -1011,     /* nothing plate-like was found */
    PW_EMANIFEST = -1012,    /* a manifest or ground-truth file is malformed */
    PW_ESIMD = -1013,        /* the requested SIMD level is not supported here */
    PW_ESOURCE = -1014,      /* a capture source cannot start (bad URI, device, plugin) */
    PW_EEOS = -1015,         /* a capture source reached its end and has no more frames */
    PW_EMSG = -1016,         /* a received message or event is malformed */
    PW_EKEYFILE = -1017,     /* a CURVE key file is malformed */
    PW_EKEYPERM = -1018,     /* a secret key file is readable by group or others */
    PW_EJOURNAL = -1019,     /* the event journal (SQLite) failed */
    PW_ESTORE = -1020,       /* the gate's declarations store or audit (SQLite) failed */
    PW_EIMPORT = -1021,      /* a declarations import file has malformed rows */
    PW_EHANDSHAKE = -1022,   /* a ZeroMQ security (CURVE) handshake with a peer failed */
    PW_EAUTH = -1023,        /* a login or session was refused (name, password, account) */
    PW_ELAST = -1024
};

/* Returns a static, human-readable description of any code this project returns. */
const char *pw_strerror(int code);

/*
 * Error detail: a code plus a sentence naming what was wrong (the file,
 * line, key or value). Functions that can say more than a code take an
 * optional pw_err *; NULL is always accepted.
 */
typedef struct {
    int code;
    char msg[512];
} pw_err;

/* Records code and a formatted message in err (when not NULL) and returns code. */
int pw_err_set(pw_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears err to "no error". */
void pw_err_clear(pw_err *err);

/* A borrowed view of 8-bit pixels, interleaved when channels > 1. */
typedef struct {
    uint8_t *data;
    int width;
    int height;
    int stride;   /* bytes from one row to the next, >= width * channels */
    int channels; /* 1 (grey) or 3 (BGR) */
} pw_plane;

/* Returns 0 when the plane's geometry is usable, otherwise a negative code. */
int pw_plane_check(const pw_plane *p);

/* Pixel pointer for (x, y); no bounds check. */
static inline uint8_t *pw_plane_at(const pw_plane *p, int x, int y)
{
    return p->data + (size_t)y * (size_t)p->stride + (size_t)x * (size_t)p->channels;
}

/* An owned image. */
typedef struct pw_image pw_image;

/* Largest side accepted anywhere, so that a hostile header cannot ask for gigabytes. */
#define PW_MAX_IMAGE_SIDE 16384

/* Allocates a zeroed width x height image with channels 1 or 3. */
int pw_image_new(int width, int height, int channels, pw_image **out);
/* Frees the image; accepts NULL and *img == NULL, and sets *img to NULL. */
void pw_image_destroy(pw_image **img);
/* The image's pixels as a plane, valid until the image is destroyed. */
pw_plane pw_image_plane(const pw_image *img);

/*
 * The limits every module of the read, event and gate path shares; each is
 * defined here only, so that a plate the OCR can read is one the tracker can
 * vote on, an event can carry and a declaration can name.
 *
 * PW_PLATE_MAX: characters of a plate text, letters and digits only, without
 * the NUL. The longest format in models/formats has 10 characters; 16 leaves
 * room for readings with extra characters (a sticker, a border read as "1")
 * while keeping the tracker's per-position vote tables small.
 */
#define PW_PLATE_MAX 16
/*
 * Bytes of a country code buffer, with its NUL: the international
 * registration codes of models/formats (the oval sticker) have 1 to 3
 * letters; declarations use the 2-letter ISO 3166 subset.
 */
#define PW_COUNTRY_MAX 4
/*
 * Longest site, lane or camera id, without the NUL: 63 keeps a topic
 * plate.<site>.<lane>.<kind> under 160 bytes. Ids are part of topics and
 * journal rows, and the configuration refuses longer ones rather than have
 * them cut.
 */
#define PW_ID_MAX 63
/*
 * Alternative readings a vehicle event carries besides its consensus: the
 * OCR keeps 5 readings of a crop by default (the chosen one and 4 others),
 * and more than 4 would mostly be noise that makes a gate match too easily.
 */
#define PW_VEHICLE_MAX_ALTS 4

/* A plate text with its confidence (0-100 from the OCR and the tracker, 0-1 in events). */
typedef struct {
    char text[PW_PLATE_MAX + 1];
    float confidence;
} pw_reading;

/* Levenshtein distance between two plate texts (compared up to 63 characters). */
int pw_edit_distance(const char *a, const char *b);

/*
 * Tesseract is built with OpenMP, which reads OMP_THREAD_LIMIT only when the
 * process starts; without it every read is several times slower. Programs
 * that run OCR call this first thing in main(): unless the variable is
 * already 1 it sets it and re-executes the program, so it returns only when
 * the limit is in force (or, with a warning on stderr, when exec failed).
 */
void pw_reexec_with_single_thread_openmp(char **argv);

/* An axis-aligned rectangle in pixels. */
typedef struct {
    int x, y, w, h;
} pw_rect;

/* The part two boxes share; w and h are 0 when they do not overlap. */
pw_rect pw_rect_intersect(pw_rect a, pw_rect b);

/* Intersection over union of two boxes, 0 when either is empty. */
double pw_rect_iou(pw_rect a, pw_rect b);

/*
 * Copies the letters and digits of a plate text, upper-cased, into out (at
 * most cap - 1 of them, NUL-terminated), leaving out separators and
 * anything else: "ab-123 cd" gives "AB123CD", the form labels, readings and
 * events compare in. Returns the length of out.
 */
size_t pw_plate_chars(const char *in, char *out, size_t cap);

/* Milliseconds on CLOCK_MONOTONIC, for stage timings. */
double pw_now_ms(void);

#ifdef __cplusplus
}
#endif

#endif
