/*
 * scram.c - SCRAM credentials and the server side of a SCRAM exchange (RFC 5802, RFC 7677).
 *
 *   SaltedPassword  = PBKDF2-HMAC-H(password, salt, i)
 *   ClientKey       = HMAC(SaltedPassword, "Client Key")    StoredKey = H(ClientKey)
 *   ServerKey       = HMAC(SaltedPassword, "Server Key")
 *   AuthMessage     = client-first-bare "," server-first "," client-final-without-proof
 *   ClientProof     = ClientKey XOR HMAC(StoredKey, AuthMessage)
 *   ServerSignature = HMAC(ServerKey, AuthMessage)
 *
 * The server stores StoredKey and ServerKey only. It checks a proof by recovering ClientKey
 * from it and hashing that back to StoredKey, compared in constant time.
 *
 * Parsing is by comma-separated fields over the caller's bytes, never by copying into fixed
 * arrays: every message has already been checked against max_message and for valid UTF-8
 * without NUL (RFC 5802 §7 value-char), which every later check relies on.
 */
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "herald/base64.h"
#include "herald/sasl.h"
#include "sasl_int.h"

#define SCRAM_SERVER_NONCE_BYTES 24 /* 32 base64 characters, RFC 5802 asks for >= 18 */
#define SCRAM_SERVER_NONCE_MIN   18 /* shortest nonce part server_nonce_cb may give */

/* ---- Credentials ---- */

static bool hash_valid(enum scram_hash h)
{
    return h == SCRAM_HASH_SHA1 || h == SCRAM_HASH_SHA256;
}

static const EVP_MD *hash_md(enum scram_hash h)
{
    return h == SCRAM_HASH_SHA1 ? EVP_sha1() : EVP_sha256();
}

size_t scram_hash_len(enum scram_hash hash)
{
    return hash == SCRAM_HASH_SHA1 ? 20 : 32;
}

static bool scram_hmac(enum scram_hash h, const uint8_t *key, size_t keylen, const void *data,
                       size_t len, uint8_t *out)
{
    unsigned int n = 0;
    if (keylen > INT_MAX)
        return false;
    return HMAC(hash_md(h), key, (int)keylen, data, len, out, &n) != NULL && n == scram_hash_len(h);
}

static bool scram_digest(enum scram_hash h, const uint8_t *data, size_t len, uint8_t *out)
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, hash_md(h), NULL) == 1 && n == scram_hash_len(h);
}

enum herald_rc scram_creds_compute(enum scram_hash hash, const char *password, size_t len,
                                   const uint8_t *salt, size_t salt_len, uint32_t iterations,
                                   struct scram_creds *out)
{
    memset(out, 0, sizeof(*out));
    if (!hash_valid(hash) || password == NULL || len == 0 || len > SCRAM_PASSWORD_MAX ||
        salt == NULL || salt_len == 0 || salt_len > SCRAM_SALT_MAX || iterations == 0 ||
        iterations > SCRAM_ITERATIONS_MAX)
        return HERALD_EINVAL;

    size_t hl = scram_hash_len(hash);
    uint8_t salted[SCRAM_KEY_MAX], client_key[SCRAM_KEY_MAX];
    bool ok = PKCS5_PBKDF2_HMAC(password, (int)len, salt, (int)salt_len, (int)iterations,
                                hash_md(hash), (int)hl, salted) == 1 &&
              scram_hmac(hash, salted, hl, "Client Key", 10, client_key) &&
              scram_digest(hash, client_key, hl, out->stored_key) &&
              scram_hmac(hash, salted, hl, "Server Key", 10, out->server_key);
    OPENSSL_cleanse(salted, sizeof(salted));
    OPENSSL_cleanse(client_key, sizeof(client_key));
    if (!ok) {
        OPENSSL_cleanse(out, sizeof(*out));
        return HERALD_EIO;
    }
    out->hash = hash;
    out->iterations = iterations;
    out->salt_len = salt_len;
    memcpy(out->salt, salt, salt_len);
    return HERALD_OK;
}

enum herald_rc scram_creds_derive(const char *password, size_t len, uint32_t iterations,
                                  struct scram_creds out[SCRAM_HASH_COUNT])
{
    memset(out, 0, SCRAM_HASH_COUNT * sizeof(out[0]));
    if (iterations < SCRAM_ITERATIONS_MIN || iterations > SCRAM_ITERATIONS_MAX ||
        password == NULL || len == 0 || len > SCRAM_PASSWORD_MAX)
        return HERALD_EINVAL;
    for (unsigned h = 0; h < SCRAM_HASH_COUNT; h++) {
        uint8_t salt[SCRAM_SALT_DEFAULT];
        enum herald_rc rc = HERALD_EIO;
        if (RAND_bytes(salt, (int)sizeof(salt)) == 1)
            rc = scram_creds_compute((enum scram_hash)h, password, len, salt, sizeof(salt),
                                     iterations, &out[h]);
        if (rc) {
            OPENSSL_cleanse(out, SCRAM_HASH_COUNT * sizeof(out[0]));
            return rc;
        }
    }
    return HERALD_OK;
}

bool scram_creds_usable(const struct scram_creds *c, enum scram_hash hash)
{
    return hash_valid(c->hash) && c->hash == hash && c->salt_len >= 1 &&
           c->salt_len <= SCRAM_SALT_MAX && c->iterations >= 1 &&
           c->iterations <= SCRAM_ITERATIONS_MAX;
}

bool scram_creds_check_password(const struct scram_creds *creds, const char *password, size_t len)
{
    struct scram_creds tmp;
    if (!scram_creds_usable(creds, creds->hash))
        return false;
    if (scram_creds_compute(creds->hash, password, len, creds->salt, creds->salt_len,
                            creds->iterations, &tmp))
        return false;
    bool ok = CRYPTO_memcmp(tmp.stored_key, creds->stored_key, scram_hash_len(creds->hash)) == 0;
    OPENSSL_cleanse(&tmp, sizeof(tmp));
    return ok;
}

/*
 * With a secret, the salt is HMAC(HMAC(secret, label || hash), authcid): stable for a name,
 * unpredictable without the secret, and different per hash like real records. The keys
 * are random: they are never shown and the exchange is failed at the proof regardless.
 */
enum herald_rc scram_creds_fake(const struct sasl_server *s, enum scram_hash hash,
                                const char *authcid, struct scram_creds *out)
{
    memset(out, 0, sizeof(*out));
    out->hash = hash;
    out->iterations = s->opts.fake_iterations;
    out->salt_len = SCRAM_SALT_DEFAULT;
    size_t hl = scram_hash_len(hash);
    if (RAND_bytes(out->stored_key, (int)hl) != 1 || RAND_bytes(out->server_key, (int)hl) != 1)
        return HERALD_EIO;
    if (s->opts.fake_secret_len == 0)
        return RAND_bytes(out->salt, SCRAM_SALT_DEFAULT) == 1 ? HERALD_OK : HERALD_EIO;

    uint8_t label[] = "herald scram fake salt\0";
    uint8_t key[32], mac[32];
    label[sizeof(label) - 1] = (uint8_t)hash;
    bool ok = scram_hmac(SCRAM_HASH_SHA256, s->fake_secret, s->opts.fake_secret_len, label,
                         sizeof(label), key) &&
              scram_hmac(SCRAM_HASH_SHA256, key, sizeof(key), authcid, strlen(authcid), mac);
    if (ok)
        memcpy(out->salt, mac, SCRAM_SALT_DEFAULT);
    OPENSSL_cleanse(key, sizeof(key));
    return ok ? HERALD_OK : HERALD_EIO;
}

/* ---- Exchange state ---- */

void scram_state_init(struct scram_state *st, size_t limit)
{
    memset(st, 0, sizeof(*st));
    buf_init(&st->gs2_header, limit);
    buf_init(&st->cbind_data, limit);
    buf_init(&st->nonce, limit);
    buf_init(&st->auth_message, limit);
}

static void buf_wipe(struct buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    buf_cleanup(b);
}

void scram_state_cleanup(struct scram_state *st)
{
    OPENSSL_cleanse(&st->creds, sizeof(st->creds));
    buf_wipe(&st->gs2_header);
    buf_wipe(&st->cbind_data);
    buf_wipe(&st->nonce);
    buf_wipe(&st->auth_message);
}

/* ---- Parsing helpers ---- */

/* Comma-separated fields of msg[0..len); pos > len once the last field was returned. */
struct field_iter {
    const char *msg;
    size_t len;
    size_t pos;
};

static bool field_next(struct field_iter *it, const char **f, size_t *n)
{
    if (it->pos > it->len)
        return false;
    const char *start = it->msg + it->pos;
    const char *comma = memchr(start, ',', it->len - it->pos);
    *f = start;
    *n = comma ? (size_t)(comma - start) : it->len - it->pos;
    it->pos += *n + 1;
    return true;
}

/* Is field f[0..n) the attribute "<name>=..."? (The value may still be empty.) */
static bool attr_is(const char *f, size_t n, char name)
{
    return n >= 2 && f[0] == name && f[1] == '=';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 5802 §7 printable: %x21-2B / %x2D-7E, at least one. */
static bool printable_valid(const char *v, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < 0x21 || v[i] > 0x7e || v[i] == ',')
            return false;
    }
    return true;
}

/* cb-name = 1*(ALPHA / DIGIT / "." / "-") */
static bool cbname_valid(const char *v, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-')
            return false;
    }
    return true;
}

static unsigned cb_type_from_name(const char *v, size_t n)
{
    for (unsigned bit = 1; bit < (1u << SASL_CB_TYPE_COUNT); bit <<= 1) {
        const char *name = sasl_cb_type_name((enum sasl_cb_type)bit);
        if (strlen(name) == n && memcmp(name, v, n) == 0)
            return bit;
    }
    return 0;
}

/*
 * saslname = 1*(value-safe-char / "=2C" / "=3D"), appended decoded to out. False when empty
 * or when '=' is followed by anything else (RFC 5802 §5.1: MUST fail).
 */
static bool saslname_decode(const char *v, size_t n, struct buf *out)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '=') {
            if (n - i >= 3 && v[i + 1] == '2' && v[i + 2] == 'C')
                c = ',';
            else if (n - i >= 3 && v[i + 1] == '3' && v[i + 2] == 'D')
                c = '=';
            else
                return false;
            i += 2;
        }
        if (buf_append(out, &c, 1))
            return false;
    }
    return true;
}

/*
 * Whatever fields remain must be optional extensions: attr-val with a name SCRAM does not
 * assign. 'm' is a mandatory extension we do not know (RFC 5802 §5.1: MUST fail); a known
 * name out of place would make two readings of one message possible, so it is refused.
 */
static bool extensions_check(struct sasl_server *s, struct field_iter *it)
{
    const char *f;
    size_t n;
    while (field_next(it, &f, &n)) {
        if (attr_is(f, n, 'm')) {
            sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "extensions-not-supported");
            return false;
        }
        if (n < 3 || !is_alpha(f[0]) || f[1] != '=' || strchr("acenprsv", f[0])) {
            sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "other-error");
            return false;
        }
    }
    return true;
}

static enum scram_hash mech_hash(enum sasl_mech m)
{
    return (m == SASL_MECH_SCRAM_SHA_256 || m == SASL_MECH_SCRAM_SHA_256_PLUS) ? SCRAM_HASH_SHA256
                                                                               : SCRAM_HASH_SHA1;
}

/* Append the server's nonce part to st->nonce: from the seam, or 24 random bytes. */
static bool server_nonce(struct sasl_server *s)
{
    struct buf *nonce = &s->scram.nonce;
    size_t before = nonce->len;
    if (s->cbs->server_nonce_cb) {
        if (s->cbs->server_nonce_cb(s->cb_arg, nonce) || nonce->err)
            return false;
        return nonce->len - before >= SCRAM_SERVER_NONCE_MIN &&
               printable_valid(nonce->data + before, nonce->len - before);
    }
    uint8_t raw[SCRAM_SERVER_NONCE_BYTES];
    if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
        return false;
    return base64_encode(nonce, raw, sizeof(raw)) == HERALD_OK;
}

/* ---- client-first-message -> server-first-message ---- */

/* Parse the GS2 header; on success *cbt is the chosen channel-binding type (0: none). */
static bool gs2_flag_check(struct sasl_server *s, const char *f, size_t n, unsigned *cbt)
{
    bool plus = sasl_mech_is_plus(s->mech);
    *cbt = 0;
    if (n == 1 && (f[0] == 'n' || f[0] == 'y')) {
        if (plus) {
            sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "-PLUS needs channel binding");
            return false;
        }
        /* RFC 5802 §6: 'y' while we advertised -PLUS means someone stripped it. */
        if (f[0] == 'y' && sasl_opts_cb_types(&s->opts) != 0) {
            sasl_server_fail(s, SASL_COND_NOT_AUTHORIZED, "server-does-support-channel-binding");
            return false;
        }
        return true;
    }
    if (!attr_is(f, n, 'p') || !cbname_valid(f + 2, n - 2)) {
        sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "invalid GS2 header");
        return false;
    }
    if (!plus) {
        sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "channel binding needs -PLUS");
        return false;
    }
    *cbt = cb_type_from_name(f + 2, n - 2);
    if (*cbt == 0 || !(sasl_opts_cb_types(&s->opts) & *cbt)) {
        sasl_server_fail(s, SASL_COND_NOT_AUTHORIZED, "unsupported-channel-binding-type");
        return false;
    }
    return true;
}

enum sasl_result scram_server_first(struct sasl_server *s, const char *msg, size_t len,
                                    struct buf *out)
{
    struct scram_state *st = &s->scram;
    struct field_iter it = {msg, len, 0};
    const char *f;
    size_t n;
    unsigned cbt;

    if (!sasl_utf8_valid(msg, len, NULL))
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "invalid-encoding");
    /* gs2-header = gs2-cbind-flag "," [ authzid ] "," */
    if (!field_next(&it, &f, &n) || !gs2_flag_check(s, f, n, &cbt))
        return SASL_FAILURE;
    if (!field_next(&it, &f, &n) || it.pos > len)
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "invalid GS2 header");
    if (n > 0) {
        struct buf authz;
        buf_init(&authz, len);
        bool ok = attr_is(f, n, 'a') && saslname_decode(f + 2, n - 2, &authz);
        if (ok)
            s->authzid = herald_strndup(HERALD_MEM_CONN, authz.data, authz.len);
        buf_cleanup(&authz);
        if (!ok)
            return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "invalid authzid");
        if (s->authzid == NULL)
            return sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "no-resources");
    }
    size_t gs2_len = it.pos;
    const char *bare = msg + gs2_len;
    size_t bare_len = len - gs2_len;

    /* client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions] */
    if (!field_next(&it, &f, &n))
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "missing username");
    if (attr_is(f, n, 'm'))
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "extensions-not-supported");
    struct buf name;
    buf_init(&name, len);
    if (!attr_is(f, n, 'n') || !saslname_decode(f + 2, n - 2, &name)) {
        buf_cleanup(&name);
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "invalid-username-encoding");
    }
    const char *cnonce = NULL;
    size_t cnonce_len = 0;
    if (field_next(&it, &f, &n) && attr_is(f, n, 'r') && printable_valid(f + 2, n - 2)) {
        cnonce = f + 2;
        cnonce_len = n - 2;
    }
    if (cnonce == NULL || !extensions_check(s, &it)) {
        buf_cleanup(&name);
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "invalid nonce");
    }

    /* The message is well-formed: now the work that talks to the rest of the server. */
    if (cbt) {
        enum herald_rc rc =
            s->cbs->channel_binding_cb(s->cb_arg, (enum sasl_cb_type)cbt, &st->cbind_data);
        if (rc == HERALD_OK && (st->cbind_data.err || st->cbind_data.len == 0))
            rc = HERALD_EIO;
        if (rc) {
            buf_cleanup(&name);
            if (rc == HERALD_ENOTFOUND)
                return sasl_server_fail(s, SASL_COND_NOT_AUTHORIZED,
                                        "unsupported-channel-binding-type");
            return sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE,
                                    "channel binding data unavailable");
        }
    }
    enum herald_rc rc = sasl_server_prep_authcid(s, name.data, name.len);
    buf_cleanup(&name);
    if (rc || sasl_server_creds(s, mech_hash(s->mech), &st->creds, &st->fake))
        return SASL_FAILURE;

    if (buf_append(&st->nonce, cnonce, cnonce_len) || !server_nonce(s))
        return sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "no-resources");

    /* server-first-message = nonce "," salt "," iteration-count */
    if (buf_append_str(out, "r=") || buf_append(out, st->nonce.data, st->nonce.len) ||
        buf_append_str(out, ",s=") || base64_encode(out, st->creds.salt, st->creds.salt_len) ||
        buf_printf(out, ",i=%u", (unsigned)st->creds.iterations) ||
        buf_append(&st->gs2_header, msg, gs2_len) ||
        buf_append(&st->auth_message, bare, bare_len) || buf_append_str(&st->auth_message, ",") ||
        buf_append(&st->auth_message, out->data, out->len))
        return sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "no-resources");
    s->state = SASL_STATE_SCRAM_SENT;
    return SASL_CONTINUE;
}

/* ---- client-final-message -> server-final-message ---- */

/* Check c= against the GS2 header and channel-binding data we recorded. */
static bool cbind_check(struct sasl_server *s, const char *v, size_t n)
{
    struct scram_state *st = &s->scram;
    struct buf got;
    buf_init(&got, n);
    enum herald_rc rc = base64_decode(&got, v, n);
    bool ok = false;
    if (rc) {
        sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "invalid-encoding");
    } else if (got.len != st->gs2_header.len + st->cbind_data.len ||
               memcmp(got.data, st->gs2_header.data, st->gs2_header.len) != 0 ||
               (st->cbind_data.len && memcmp(got.data + st->gs2_header.len, st->cbind_data.data,
                                             st->cbind_data.len) != 0)) {
        sasl_server_fail(s, SASL_COND_NOT_AUTHORIZED, "channel-bindings-dont-match");
    } else {
        ok = true;
    }
    buf_cleanup(&got);
    return ok;
}

/* Does the proof recover our StoredKey? Constant time in the comparison. */
static bool proof_check(struct scram_state *st, const uint8_t *proof)
{
    enum scram_hash h = st->creds.hash;
    size_t hl = scram_hash_len(h);
    uint8_t sig[SCRAM_KEY_MAX], key[SCRAM_KEY_MAX], stored[SCRAM_KEY_MAX];
    bool ok =
        scram_hmac(h, st->creds.stored_key, hl, st->auth_message.data, st->auth_message.len, sig);
    if (ok) {
        for (size_t i = 0; i < hl; i++)
            key[i] = proof[i] ^ sig[i];
        ok = scram_digest(h, key, hl, stored) &&
             CRYPTO_memcmp(stored, st->creds.stored_key, hl) == 0;
    }
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(sig, sizeof(sig));
    /* An unknown user never passes, whatever the odds of a forged match. */
    return ok && !st->fake;
}

enum sasl_result scram_server_final(struct sasl_server *s, const char *msg, size_t len,
                                    struct buf *out)
{
    struct scram_state *st = &s->scram;
    const char *f;
    size_t n;

    if (!sasl_utf8_valid(msg, len, NULL))
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "invalid-encoding");
    /* client-final-message = client-final-message-without-proof "," proof */
    size_t wp_len = len;
    while (wp_len > 0 && msg[wp_len - 1] != ',')
        wp_len--;
    if (wp_len == 0)
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "missing proof");
    wp_len--; /* drop the comma */
    const char *pf = msg + wp_len + 1;
    size_t pn = len - wp_len - 1;
    if (!attr_is(pf, pn, 'p') || pn == 2)
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "missing proof");

    /* without-proof = channel-binding "," nonce ["," extensions] */
    struct field_iter it = {msg, wp_len, 0};
    if (!field_next(&it, &f, &n) || !attr_is(f, n, 'c') || n == 2)
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "missing channel binding");
    const char *cv = f + 2;
    size_t cn = n - 2;
    if (!field_next(&it, &f, &n) || !attr_is(f, n, 'r'))
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "missing nonce");
    if (n - 2 != st->nonce.len || memcmp(f + 2, st->nonce.data, st->nonce.len) != 0)
        return sasl_server_fail(s, SASL_COND_NOT_AUTHORIZED, "nonce mismatch");
    if (!extensions_check(s, &it) || !cbind_check(s, cv, cn))
        return SASL_FAILURE;

    struct buf proof;
    buf_init(&proof, pn);
    if (base64_decode(&proof, pf + 2, pn - 2)) {
        buf_cleanup(&proof);
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "invalid-encoding");
    }
    size_t hl = scram_hash_len(st->creds.hash);
    bool ok = proof.len == hl;
    if (buf_append_str(&st->auth_message, ",") || buf_append(&st->auth_message, msg, wp_len)) {
        buf_cleanup(&proof);
        return sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "no-resources");
    }
    ok = ok && proof_check(st, (const uint8_t *)proof.data);
    buf_cleanup(&proof);
    if (!ok)
        return sasl_server_fail(s, SASL_COND_NOT_AUTHORIZED, "invalid-proof");

    /* server-final-message = verifier */
    uint8_t sig[SCRAM_KEY_MAX];
    if (!scram_hmac(st->creds.hash, st->creds.server_key, hl, st->auth_message.data,
                    st->auth_message.len, sig))
        return sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "other-error");
    if (buf_append_str(out, "v=") || base64_encode(out, sig, hl))
        return sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "no-resources");
    return sasl_server_authorize(s);
}
