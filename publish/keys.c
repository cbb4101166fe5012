/*
 * keys.c - CURVE key files (GKeyFile text, Z85 keys), their permission
 * check, allow-lists, and the socket options that apply them.
 */
#define _POSIX_C_SOURCE 200809L
#include "publish_internal.h"
#include "subscriber.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#define KEY_GROUP "curve"
#define ZAP_DOMAIN "platewatch"

static bool z85_key_valid(const char *z85)
{
    uint8_t bin[32];
    return z85 && strlen(z85) == 40 && zmq_z85_decode(bin, z85) != NULL;
}

static int load_keyfile(const char *path, GKeyFile **out, pw_err *err)
{
    GKeyFile *kf = g_key_file_new();
    GError *gerr = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
        int code = g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? -ENOENT
                   : gerr->domain == G_FILE_ERROR                          ? -EIO
                                                                           : PW_EKEYFILE;
        pw_err_set(err, code, "cannot read key file %s: %s", path, gerr->message);
        g_error_free(gerr);
        g_key_file_free(kf);
        return code;
    }
    *out = kf;
    return 0;
}

/* Copies group's key name from kf into z85 after checking it is a Z85 key. */
static int get_key(GKeyFile *kf, const char *path, const char *group, const char *name,
                   char z85[41], pw_err *err)
{
    char *v = g_key_file_get_string(kf, group, name, NULL);
    int rc = 0;
    if (!v)
        rc = pw_err_set(err, PW_EKEYFILE, "key file %s: group [%s] has no %s=", path, group,
                        name);
    else if (!z85_key_valid(g_strstrip(v)))
        rc = pw_err_set(err, PW_EKEYFILE, "key file %s: [%s] %s is not a 40-character Z85 key",
                        path, group, name);
    else
        memcpy(z85, v, 41);
    g_free(v);
    return rc;
}

static int check_secret_perms(const char *path, pw_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        return pw_err_set(err, -e, "cannot read secret key file %s: %s", path, g_strerror(e));
    }
    if (st.st_mode & 077)
        return pw_err_set(err, PW_EKEYPERM, "secret key file %s has mode %04o: it must not be "
                          "accessible to group or others (chmod 600 %s)", path,
                          (unsigned)(st.st_mode & 07777), path);
    return 0;
}

int pw_keys_load_secret(const char *path, pw_keypair *out, pw_err *err)
{
    if (!path || !*path)
        return pw_err_set(err, PW_ECONFIG, "no secret key file configured");
    int rc = check_secret_perms(path, err);
    GKeyFile *kf = NULL;
    if (rc || (rc = load_keyfile(path, &kf, err)))
        return rc;
    if (!(rc = get_key(kf, path, KEY_GROUP, "secret-key", out->secret_z85, err)) &&
        !(rc = get_key(kf, path, KEY_GROUP, "public-key", out->public_z85, err))) {
        char derived[41];
        if (zmq_curve_public(derived, out->secret_z85) != 0 ||
            strcmp(derived, out->public_z85) != 0)
            rc = pw_err_set(err, PW_EKEYFILE, "key file %s: public-key does not belong to "
                            "secret-key", path);
    }
    g_key_file_free(kf);
    return rc;
}

int pw_keys_load_public(const char *path, char z85[41], pw_err *err)
{
    if (!path || !*path)
        return pw_err_set(err, PW_ECONFIG, "no public key file configured");
    GKeyFile *kf = NULL;
    int rc = load_keyfile(path, &kf, err);
    if (rc)
        return rc;
    rc = get_key(kf, path, KEY_GROUP, "public-key", z85, err);
    g_key_file_free(kf);
    return rc;
}

/* Adds every group's public-key= of one file to the set. */
static int allow_add_file(GHashTable *set, const char *path, pw_err *err)
{
    GKeyFile *kf = NULL;
    int rc = load_keyfile(path, &kf, err);
    if (rc)
        return rc;
    gchar **groups = g_key_file_get_groups(kf, NULL);
    for (gchar **g = groups; rc == 0 && *g; g++) {
        char z85[41];
        if ((rc = get_key(kf, path, *g, "public-key", z85, err)) == 0)
            g_hash_table_add(set, g_strdup(z85));
    }
    g_strfreev(groups);
    g_key_file_free(kf);
    return rc;
}

static int allow_add_dir(GHashTable *set, const char *dir, pw_err *err)
{
    GError *gerr = NULL;
    GDir *d = g_dir_open(dir, 0, &gerr);
    if (!d) {
        int rc = pw_err_set(err, -ENOENT, "cannot read allow-list directory %s: %s", dir,
                            gerr->message);
        g_error_free(gerr);
        return rc;
    }
    int rc = 0;
    const char *name;
    while (rc == 0 && (name = g_dir_read_name(d))) {
        if (!g_str_has_suffix(name, ".pub"))
            continue;
        char *path = g_build_filename(dir, name, NULL);
        rc = allow_add_file(set, path, err);
        g_free(path);
    }
    g_dir_close(d);
    return rc;
}

int pw_keys_load_allow(const char *path, GHashTable **out, pw_err *err)
{
    *out = NULL;
    if (!path || !*path)
        return pw_err_set(err, PW_ECONFIG, "no client allow-list configured");
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int rc = g_file_test(path, G_FILE_TEST_IS_DIR) ? allow_add_dir(set, path, err)
                                                   : allow_add_file(set, path, err);
    if (rc == 0 && g_hash_table_size(set) == 0)
        rc = pw_err_set(err, PW_ECONFIG, "allow-list %s holds no public keys: no client could "
                        "connect", path);
    if (rc) {
        g_hash_table_unref(set);
        return rc;
    }
    *out = set;
    return 0;
}

int pw_keys_check_server(const char *secret_key_file, const char *allow_list, pw_err *err)
{
    pw_keypair kp;
    GHashTable *allow = NULL;
    int rc = pw_keys_load_secret(secret_key_file, &kp, err);
    memset(&kp, 0, sizeof kp);
    if (rc == 0 && (rc = pw_keys_load_allow(allow_list, &allow, err)) == 0)
        g_hash_table_unref(allow);
    return rc;
}

static int curve_available(pw_err *err)
{
    if (!zmq_has("curve"))
        return pw_err_set(err, PW_ECONFIG, "this libzmq was built without CURVE support");
    return 0;
}

static int setopt(void *sock, int opt, const void *v, size_t n, const char *name, pw_err *err)
{
    if (zmq_setsockopt(sock, opt, v, n) != 0)
        return pw_err_set(err, -zmq_errno(), "setting %s: %s", name, zmq_strerror(zmq_errno()));
    return 0;
}

int pw_sock_curve_server(void *sock, const pw_keypair *kp, pw_err *err)
{
    int one = 1;
    int rc = curve_available(err);
    if (rc || (rc = setopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one, "ZMQ_CURVE_SERVER", err)) ||
        (rc = setopt(sock, ZMQ_CURVE_SECRETKEY, kp->secret_z85, 40, "ZMQ_CURVE_SECRETKEY", err)))
        return rc;
    return setopt(sock, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN), "ZMQ_ZAP_DOMAIN", err);
}

int pw_sock_curve_client(void *sock, const char *server_public_file,
                         const char *client_secret_file, pw_err *err)
{
    char server[41];
    pw_keypair mine;
    int rc = curve_available(err);
    if (rc || (rc = pw_keys_load_public(server_public_file, server, err)) ||
        (rc = pw_keys_load_secret(client_secret_file, &mine, err)))
        return rc;
    if ((rc = setopt(sock, ZMQ_CURVE_SERVERKEY, server, 40, "ZMQ_CURVE_SERVERKEY", err)) ||
        (rc = setopt(sock, ZMQ_CURVE_PUBLICKEY, mine.public_z85, 40, "ZMQ_CURVE_PUBLICKEY", err)))
        return rc;
    rc = setopt(sock, ZMQ_CURVE_SECRETKEY, mine.secret_z85, 40, "ZMQ_CURVE_SECRETKEY", err);
    memset(&mine, 0, sizeof mine);
    return rc;
}

static int write_key(const char *path, const char *text, int mode, pw_err *err)
{
    GError *gerr = NULL;
    if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, mode, &gerr)) {
        int rc = pw_err_set(err, -EIO, "cannot write key file %s: %s", path, gerr->message);
        g_error_free(gerr);
        return rc;
    }
    return 0;
}

int pw_keygen(const char *base, pw_err *err)
{
    if (!base || !*base)
        return pw_err_set(err, -EINVAL, "keygen: no output name given");
    int rc = curve_available(err);
    if (rc)
        return rc;
    char *pub_path = g_strconcat(base, ".pub", NULL);
    char *key_path = g_strconcat(base, ".key", NULL);
    if (g_file_test(pub_path, G_FILE_TEST_EXISTS) || g_file_test(key_path, G_FILE_TEST_EXISTS)) {
        rc = pw_err_set(err, -EEXIST, "keygen: %s or %s already exists; refusing to overwrite "
                        "a key", pub_path, key_path);
    } else {
        char pub[41], sec[41];
        if (zmq_curve_keypair(pub, sec) != 0) {
            rc = pw_err_set(err, -zmq_errno(), "keygen: zmq_curve_keypair failed: %s",
                            zmq_strerror(zmq_errno()));
        } else {
            char *pub_text = g_strdup_printf("# platewatch CURVE public key\n[" KEY_GROUP "]\n"
                                             "public-key=%s\n", pub);
            char *sec_text = g_strdup_printf("# platewatch CURVE secret key: keep it private "
                                             "(mode 0600)\n[" KEY_GROUP "]\npublic-key=%s\n"
                                             "secret-key=%s\n", pub, sec);
            if (!(rc = write_key(key_path, sec_text, 0600, err)))
                rc = write_key(pub_path, pub_text, 0644, err);
            memset(sec_text, 0, strlen(sec_text));
            memset(sec, 0, sizeof sec);
            g_free(pub_text);
            g_free(sec_text);
        }
    }
    g_free(pub_path);
    g_free(key_path);
    return rc;
}
