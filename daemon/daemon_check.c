/*
 * daemon_check.c - `platewatchd --check`: what a valid file can still get
 * wrong on this machine, probed without starting a lane (daemon_config.h).
 * Nothing is left behind: sockets are closed and probe files removed.
 */
#define _POSIX_C_SOURCE 200809L
#include "daemon_config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cvshim.h"
#include "publish.h"

/* Binds every endpoint at once, so that a clash between lanes shows too, then releases them. */
static int probe_endpoints(const pw_daemon_config *c, pw_err *err)
{
    void *ctx = zmq_ctx_new();
    GPtrArray *socks = g_ptr_array_new();
    int rc = 0;
    for (size_t i = 0; i < c->n_lanes && rc == 0; i++) {
        const pw_daemon_lane *dl = &c->lanes[i];
        const char *keys[] = {"publish", "replay"}, *eps[] = {dl->publish_endpoint, dl->replay_endpoint};
        for (size_t k = 0; k < 2 && rc == 0; k++) {
            void *s = zmq_socket(ctx, k == 0 ? ZMQ_PUB : ZMQ_ROUTER);
            int linger = 0;
            zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
            g_ptr_array_add(socks, s);
            if (zmq_bind(s, eps[k]) != 0)
                rc = pw_settings_bad(c->file, err, dl->group, keys[k], "cannot bind %s: %s", eps[k],
                                     zmq_strerror(zmq_errno()));
        }
    }
    for (guint i = 0; i < socks->len; i++)
        zmq_close(socks->pdata[i]);
    g_ptr_array_free(socks, TRUE);
    zmq_ctx_term(ctx);
    return rc;
}

/*
 * A journal that exists must open for writing; one that does not must be
 * creatable, which only trying tells (a read-only mount, a missing folder,
 * permissions, also for root).
 */
static int probe_journal(const pw_daemon_config *c, const pw_daemon_lane *dl, pw_err *err)
{
    const char *path = dl->journal;
    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        int fd = g_file_test(path, G_FILE_TEST_IS_REGULAR) ? open(path, O_RDWR) : -1;
        int e = g_file_test(path, G_FILE_TEST_IS_REGULAR) ? errno : EISDIR;
        if (fd < 0)
            return pw_settings_bad(c->file, err, dl->group, "journal", "%s cannot be written: %s", path,
                                   g_strerror(e));
        close(fd);
        return 0;
    }
    char *dir = g_path_get_dirname(path);
    char *probe = g_build_filename(dir, ".platewatchd-check-XXXXXX", NULL);
    int fd = g_mkstemp(probe);
    int e = errno, rc = 0;
    if (fd < 0)
        rc = pw_settings_bad(c->file, err, dl->group, "journal", "%s cannot be created in %s: %s", path, dir,
                             g_strerror(e));
    else
        close(fd), g_unlink(probe);
    g_free(probe);
    g_free(dir);
    return rc;
}

/* Recordings and image folders can be looked at; cameras only answer when started. */
static int probe_source(const pw_daemon_config *c, const pw_daemon_lane *dl, pw_err *err)
{
    const char *src = dl->lane.capture.source;
    char *path = NULL;
    if (g_str_has_prefix(src, "file://"))
        path = g_filename_from_uri(src, NULL, NULL);
    else if (!strstr(src, "://"))
        path = g_strdup(src);
    int rc = 0;
    if (path && access(path, R_OK) != 0)
        rc = pw_settings_bad(c->file, err, dl->group, "source", "%s cannot be read: %s", path, g_strerror(errno));
    g_free(path);
    return rc;
}

static int probe_lane(const pw_daemon_config *c, const pw_daemon_lane *dl, pw_err *err)
{
    int rc = probe_journal(c, dl, err);
    if (rc == 0)
        rc = probe_source(c, dl, err);
    if (rc == 0 && dl->lane.haar_cascade) {
        pw_cv_cascade *cascade = NULL;
        pw_err why = {0};
        if (pw_cv_cascade_new(dl->lane.haar_cascade, &cascade, &why) < 0)
            rc = pw_settings_bad(c->file, err, dl->group, "haar_cascade", "%s", why.msg);
        pw_cv_cascade_destroy(&cascade);
    }
    return rc;
}

/* One engine, made as a lane makes them: the model folder, its languages, the formats. */
static int probe_ocr(const pw_daemon_config *c, pw_err *err)
{
    pw_ocr *ocr = NULL;
    pw_err why = {0};
    int rc = pw_ocr_new(&c->lanes[0].lane.ocr, c->formats, &ocr, &why);
    pw_ocr_destroy(&ocr);
    if (rc < 0)
        return pw_settings_bad(c->file, err, "site", pw_settings_file_line(c->file, "site", "tessdata") ? "tessdata"
                                                                                                   : "language",
                               "the OCR model does not load: %s", why.msg);
    return 0;
}

int pw_daemon_config_probe(const pw_daemon_config *c, pw_err *err)
{
    int rc = 0;
    if (!c->allow_plain) {
        pw_err why = {0};
        if (pw_keys_check_server(c->secret_key, c->allow_list, &why) < 0)
            return pw_settings_bad(c->file, err, "security", strstr(why.msg, c->secret_key) ? "secret_key" : "allow_list",
                                   "%s", why.msg);
    }
    for (size_t i = 0; i < c->n_lanes && rc == 0; i++)
        rc = probe_lane(c, &c->lanes[i], err);
    if (rc == 0)
        rc = probe_endpoints(c, err);
    if (rc == 0)
        rc = probe_ocr(c, err);
    return rc;
}
