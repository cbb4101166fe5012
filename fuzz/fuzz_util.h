/*
 * fuzz_util.h - what the file-parser fuzz targets share: the input written
 * to a file in a per-process folder (the parsers take paths, as the programs
 * do), frames split out of one input, and quiet logging.
 */
#ifndef PW_FUZZ_UTIL_H
#define PW_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* A folder of this process's own (created once, removed at exit). */
const char *fuzz_dir(void);

/*
 * Writes data to fuzz_dir()/name with the given mode and returns the path
 * (valid until the next call with the same name; the path's memory is the
 * caller's to g_free).
 */
char *fuzz_write_file(const char *name, const uint8_t *data, size_t size, int mode);

/*
 * Splits data into frames at each two-byte separator FUZZ_FRAME_SEP, as one
 * ZeroMQ multipart message would arrive (a GPtrArray of GBytes).
 */
#define FUZZ_FRAME_SEP "\xff\xfe"
GPtrArray *fuzz_frames(const uint8_t *data, size_t size);

/* Sends GLib's log output nowhere: the parsers log what they refuse. */
void fuzz_quiet_logs(void);

#endif
