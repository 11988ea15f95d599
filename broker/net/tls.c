/*
 * tls.c - the server's TLS context: certificate loading (a self-signed one is made on
 * first start when none is configured), protocol floor (TLS 1.2), ALPN for direct TLS
 * (XEP-0368 "xmpp-client"), and channel-binding data for SCRAM-*-PLUS.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "herald/log.h"
#include "herald/server.h"
#include "net_int.h"

static void log_ssl_errors(const char *what)
{
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        log_error("%s: %s", what, buf);
    }
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Write a new EC P-256 key and a self-signed certificate for `domain`, its subdomains and
 * the configured pubsub services, valid ten years. The services are named explicitly:
 * verifiers refuse a wildcard over a single-label domain such as *.localhost. */
static enum herald_rc tls_make_self_signed(const struct herald_config *cfg, const char *cert_path,
                                           const char *key_path)
{
    const char *domain = cfg->domain;
    enum herald_rc rc = HERALD_EIO;
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FILE *kf = NULL, *cf = NULL;
    if (pkey == NULL || x == NULL)
        goto out;
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        goto out;
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (bn == NULL || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
        BN_free(bn);
        goto out;
    }
    BN_free(bn);
    X509_NAME *name = X509_get_subject_name(x);
    /* Each of these allocates: a failure would leave a certificate nobody can verify. */
    if (!X509_set_version(x, 2) || !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600) ||
        !X509_set_pubkey(x, pkey) || name == NULL ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)domain, -1,
                                    -1, 0) ||
        !X509_set_issuer_name(x, name))
        goto out;
    char san[4096];
    size_t sl = (size_t)snprintf(san, sizeof(san), "DNS:%s,DNS:*.%s", domain, domain);
    for (size_t i = 0; i < cfg->pubsub_services.n && sl < sizeof(san); i++) {
        const char *svc = cfg->pubsub_services.items[i];
        sl += (size_t)snprintf(san + sl, sizeof(san) - sl,
                               strchr(svc, '.') ? ",DNS:%s" : ",DNS:%s.%s", svc, domain);
    }
    if (sl >= sizeof(san))
        goto out;
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
    if (ext == NULL || !X509_add_ext(x, ext, -1)) {
        X509_EXTENSION_free(ext);
        goto out;
    }
    X509_EXTENSION_free(ext);
    if (!X509_sign(x, pkey, EVP_sha256()))
        goto out;
    int kfd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (kfd < 0 || (kf = fdopen(kfd, "w")) == NULL) {
        log_error("cannot create %s: %s", key_path, strerror(errno));
        if (kfd >= 0)
            close(kfd);
        goto out;
    }
    if (!PEM_write_PrivateKey(kf, pkey, NULL, NULL, 0, NULL, NULL))
        goto out;
    cf = fopen(cert_path, "w");
    if (cf == NULL || !PEM_write_X509(cf, x))
        goto out;
    rc = HERALD_OK;
    log_notice("made a self-signed certificate for %s in %s", domain, cert_path);
out:
    if (kf && fclose(kf) != 0)
        rc = HERALD_EIO;
    if (cf && fclose(cf) != 0)
        rc = HERALD_EIO;
    if (rc)
        log_ssl_errors("making a self-signed certificate");
    X509_free(x);
    EVP_PKEY_free(pkey);
    return rc;
}

/* The app data of a direct-TLS session (XEP-0368), where ALPN names the protocol. */
static const char alpn_direct = 1;

static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char ours[] = "\x0bxmpp-client";
    (void)arg;
    if (SSL_select_next_proto((unsigned char **)out, outlen, ours, sizeof(ours) - 1, in, inlen) ==
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    /* RFC 7301 §3.2: on the direct-TLS port a client that offers only other protocols gets
     * no_application_protocol. After STARTTLS the stream already says what is spoken, so
     * ALPN is ignored there; clients that send no ALPN at all never get here. */
    return SSL_get_app_data(ssl) == &alpn_direct ? SSL_TLSEXT_ERR_ALERT_FATAL
                                                 : SSL_TLSEXT_ERR_NOACK;
}

enum herald_rc tls_ctx_load(struct net *n, SSL_CTX **out)
{
    const struct herald_config *cfg = &n->srv->cfg;
    char cert[PATH_MAX], key[PATH_MAX];
    if (cfg->tls_cert[0]) {
        snprintf(cert, sizeof(cert), "%s", cfg->tls_cert);
        snprintf(key, sizeof(key), "%s", cfg->tls_key[0] ? cfg->tls_key : cfg->tls_cert);
    } else {
        char dir[PATH_MAX];
        if ((size_t)snprintf(dir, sizeof(dir), "%s/tls", cfg->data_dir) >= sizeof(dir))
            return HERALD_EINVAL;
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            log_error("cannot create %s: %s", dir, strerror(errno));
            return HERALD_EIO;
        }
        if ((size_t)snprintf(cert, sizeof(cert), "%.*s/cert.pem", PATH_MAX - 16, dir) >=
                sizeof(cert) ||
            (size_t)snprintf(key, sizeof(key), "%.*s/key.pem", PATH_MAX - 16, dir) >= sizeof(key))
            return HERALD_EINVAL;
        if (!file_exists(cert) && !file_exists(key)) {
            enum herald_rc rc = tls_make_self_signed(cfg, cert, key);
            if (rc)
                return rc;
        }
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        log_ssl_errors("SSL_CTX_new() failed");
        return HERALD_ENOMEM;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION);
    /* Idle sessions should not each keep 34 kB of TLS record buffers. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    /* The output queue may move between a blocked SSL_write and its retry (conn.c
     * repeats it with the same length, as OpenSSL requires). */
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, NULL);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        log_ssl_errors("loading the TLS certificate and key");
        log_error("cannot use certificate %s with key %s", cert, key);
        SSL_CTX_free(ctx);
        return HERALD_EIO;
    }
    *out = ctx;
    return HERALD_OK;
}

SSL *tls_new_session(struct net *n, bool direct)
{
    SSL *ssl = SSL_new(n->tls);
    if (ssl == NULL)
        log_ssl_errors("SSL_new() failed");
    else if (direct)
        SSL_set_app_data(ssl, (void *)&alpn_direct); /* alpn_select_cb: ALPN applies */
    return ssl;
}

bool tls_has_channel_binding(SSL *ssl, const char *type)
{
    if (!SSL_is_init_finished(ssl))
        return false;
    if (strcmp(type, "tls-server-end-point") == 0)
        return SSL_get_certificate(ssl) != NULL;
    /* RFC 9266: tls-exporter is only safe with TLS 1.3 (or 1.2 with EMS, not assumed). */
    if (strcmp(type, "tls-exporter") == 0)
        return SSL_version(ssl) == TLS1_3_VERSION;
    return false;
}

enum herald_rc tls_channel_binding(SSL *ssl, const char *type, struct buf *out)
{
    if (!tls_has_channel_binding(ssl, type))
        return HERALD_ENOTFOUND;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (strcmp(type, "tls-exporter") == 0) {
        static const char label[] = "EXPORTER-Channel-Binding";
        if (SSL_export_keying_material(ssl, md, 32, label, sizeof(label) - 1, NULL, 0, 0) != 1)
            return HERALD_EIO;
        mdlen = 32;
    } else {
        /* RFC 5929 §4.1: the certificate's signature hash, but SHA-256 for MD5/SHA-1. */
        X509 *cert = SSL_get_certificate(ssl);
        int mdnid = NID_undef, pknid = NID_undef;
        if (!OBJ_find_sigid_algs(X509_get_signature_nid(cert), &mdnid, &pknid))
            mdnid = NID_undef;
        const EVP_MD *mdt = mdnid == NID_undef || mdnid == NID_md5 || mdnid == NID_sha1
                                ? EVP_sha256()
                                : EVP_get_digestbynid(mdnid);
        if (mdt == NULL || X509_digest(cert, mdt, md, &mdlen) != 1)
            return HERALD_EIO;
    }
    buf_append(out, md, mdlen);
    return out->err;
}
