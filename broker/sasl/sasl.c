/*
 * sasl.c - mechanism registry, the exchange state machine, PLAIN and ANONYMOUS.
 *
 * Every mechanism Herald offers is client-first, so the machine is small: an optional empty
 * challenge when <auth/> carried no initial response, then either one message (PLAIN,
 * ANONYMOUS) or two (SCRAM, in scram.c). Failures are sticky and clear any identity already
 * recorded, so a caller that reads sasl_server_authcid() after anything but SUCCESS gets
 * NULL rather than a half-authenticated name.
 *
 * Unknown users must be indistinguishable from wrong passwords (RFC 6120 §6.5.10): PLAIN
 * runs the same PBKDF2 against fake credentials, SCRAM carries on with a fake salt.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "herald/sasl.h"
#include "sasl_int.h"

static const char *const mech_names[SASL_MECH_COUNT] = {
    [SASL_MECH_SCRAM_SHA_256_PLUS] = "SCRAM-SHA-256-PLUS",
    [SASL_MECH_SCRAM_SHA_1_PLUS] = "SCRAM-SHA-1-PLUS",
    [SASL_MECH_SCRAM_SHA_256] = "SCRAM-SHA-256",
    [SASL_MECH_SCRAM_SHA_1] = "SCRAM-SHA-1",
    [SASL_MECH_PLAIN] = "PLAIN",
    [SASL_MECH_ANONYMOUS] = "ANONYMOUS",
};

#define SASL_MAX_MESSAGE_MIN     256
#define SASL_MAX_MESSAGE_DEFAULT 4096
#define SASL_FAKE_SECRET_MIN     16
#define ANON_TRACE_MAX_CHARS     255 /* RFC 4505 §2 token = 1*255TCHAR */

const char *sasl_mech_name(enum sasl_mech mech)
{
    return (unsigned)mech < SASL_MECH_COUNT ? mech_names[mech] : NULL;
}

const char *sasl_cb_type_name(enum sasl_cb_type type)
{
    switch (type) {
    case SASL_CB_TLS_EXPORTER:
        return "tls-exporter";
    case SASL_CB_TLS_SERVER_END_POINT:
        return "tls-server-end-point";
    }
    return NULL;
}

const char *sasl_condition_name(enum sasl_condition cond)
{
    switch (cond) {
    case SASL_COND_NONE:
        return NULL;
    case SASL_COND_ABORTED:
        return "aborted";
    case SASL_COND_ACCOUNT_DISABLED:
        return "account-disabled";
    case SASL_COND_CREDENTIALS_EXPIRED:
        return "credentials-expired";
    case SASL_COND_ENCRYPTION_REQUIRED:
        return "encryption-required";
    case SASL_COND_INCORRECT_ENCODING:
        return "incorrect-encoding";
    case SASL_COND_INVALID_AUTHZID:
        return "invalid-authzid";
    case SASL_COND_INVALID_MECHANISM:
        return "invalid-mechanism";
    case SASL_COND_MALFORMED_REQUEST:
        return "malformed-request";
    case SASL_COND_MECHANISM_TOO_WEAK:
        return "mechanism-too-weak";
    case SASL_COND_NOT_AUTHORIZED:
        return "not-authorized";
    case SASL_COND_TEMPORARY_AUTH_FAILURE:
        return "temporary-auth-failure";
    }
    return NULL;
}

void sasl_server_opts_init(struct sasl_server_opts *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->max_message = SASL_MAX_MESSAGE_DEFAULT;
    opts->fake_iterations = SCRAM_ITERATIONS_DEFAULT;
}

/* Channel-binding types usable with these options: none without TLS. */
unsigned sasl_opts_cb_types(const struct sasl_server_opts *opts)
{
    if (!(opts->flags & SASL_F_TLS))
        return 0;
    return opts->cb_types & (SASL_CB_TLS_EXPORTER | SASL_CB_TLS_SERVER_END_POINT);
}

bool sasl_mech_is_plus(enum sasl_mech m)
{
    return m == SASL_MECH_SCRAM_SHA_256_PLUS || m == SASL_MECH_SCRAM_SHA_1_PLUS;
}

/* Would these options advertise `m`? The one place that policy is written down. */
static bool mech_offered(const struct sasl_server_opts *opts, enum sasl_mech m)
{
    switch (m) {
    case SASL_MECH_SCRAM_SHA_256_PLUS:
    case SASL_MECH_SCRAM_SHA_1_PLUS:
        return sasl_opts_cb_types(opts) != 0;
    case SASL_MECH_SCRAM_SHA_256:
    case SASL_MECH_SCRAM_SHA_1:
        return true;
    case SASL_MECH_PLAIN:
        return (opts->flags & (SASL_F_TLS | SASL_F_PLAIN_INSECURE)) != 0;
    case SASL_MECH_ANONYMOUS:
        return (opts->flags & SASL_F_ANONYMOUS) != 0;
    }
    return false;
}

size_t sasl_mechanism_list(const struct sasl_server_opts *opts, const char **names, size_t max)
{
    size_t n = 0;
    for (unsigned m = 0; m < SASL_MECH_COUNT; m++) {
        if (!mech_offered(opts, (enum sasl_mech)m))
            continue;
        if (n < max)
            names[n] = mech_names[m];
        n++;
    }
    return n;
}

/* ---- UTF-8 ---- */

bool sasl_utf8_valid(const char *str, size_t len, size_t *nchars)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, n = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t extra;
        uint32_t cp;
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            n++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i - 1 < extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
        if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += extra + 1;
        n++;
    }
    if (nchars)
        *nchars = n;
    return true;
}

/* ---- The exchange object ---- */

static enum sasl_mech mech_from_name(const char *name)
{
    if (name == NULL)
        return SASL_MECH_COUNT;
    for (unsigned m = 0; m < SASL_MECH_COUNT; m++) {
        if (strcmp(name, mech_names[m]) == 0)
            return (enum sasl_mech)m;
    }
    return SASL_MECH_COUNT;
}

static void clear_identity(struct sasl_server *s)
{
    herald_free(HERALD_MEM_CONN, s->authcid);
    herald_free(HERALD_MEM_CONN, s->authzid);
    herald_free(HERALD_MEM_CONN, s->anon_trace);
    s->authcid = s->authzid = s->anon_trace = NULL;
    s->anonymous = false;
}

enum sasl_result sasl_server_fail(struct sasl_server *s, enum sasl_condition cond, const char *text)
{
    if (s->cond == SASL_COND_NONE) {
        s->cond = cond;
        s->text = text;
    }
    s->state = SASL_STATE_FAILED;
    clear_identity(s);
    return SASL_FAILURE;
}

struct sasl_server *sasl_server_new(const char *mechanism, const struct sasl_server_cbs *cbs,
                                    void *cb_arg, const struct sasl_server_opts *opts)
{
    /* Checked for every exchange, not only for the mechanism a peer picked, so a wiring
     * mistake shows on the first login attempt rather than on a rare one. */
    herald_assert(cbs != NULL && opts != NULL);
    herald_assert(cbs->lookup_creds_cb != NULL && cbs->prep_username_cb != NULL);
    herald_assert(sasl_opts_cb_types(opts) == 0 || cbs->channel_binding_cb != NULL);
    herald_assert(opts->max_message >= SASL_MAX_MESSAGE_MIN);
    herald_assert(opts->max_message <= SIZE_MAX / 4);
    herald_assert(opts->fake_iterations >= 1 && opts->fake_iterations <= SCRAM_ITERATIONS_MAX);
    herald_assert(opts->fake_secret_len == 0 ||
                  (opts->fake_secret != NULL && opts->fake_secret_len >= SASL_FAKE_SECRET_MIN &&
                   opts->fake_secret_len <= SASL_FAKE_SECRET_MAX));

    struct sasl_server *s = herald_calloc(HERALD_MEM_CONN, 1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->cbs = cbs;
    s->cb_arg = cb_arg;
    s->opts = *opts;
    s->opts.fake_secret = NULL;
    if (opts->fake_secret_len)
        memcpy(s->fake_secret, opts->fake_secret, opts->fake_secret_len);
    s->state = SASL_STATE_START;
    s->mech = mech_from_name(mechanism);
    /* Room for AuthMessage: two client messages and our server-first, which repeats the
     * client nonce, so up to three times max_message plus salt and iteration count. */
    scram_state_init(&s->scram, 3 * opts->max_message + 512);

    if (s->mech == SASL_MECH_COUNT) {
        sasl_server_fail(s, SASL_COND_INVALID_MECHANISM, "unsupported mechanism");
    } else if (!mech_offered(&s->opts, s->mech)) {
        bool needs_tls = (s->mech == SASL_MECH_PLAIN || sasl_mech_is_plus(s->mech)) &&
                         !(s->opts.flags & SASL_F_TLS);
        if (needs_tls)
            sasl_server_fail(s, SASL_COND_ENCRYPTION_REQUIRED, "mechanism requires TLS");
        else
            sasl_server_fail(s, SASL_COND_INVALID_MECHANISM, "mechanism not offered");
    }
    return s;
}

void sasl_server_free(struct sasl_server **sp)
{
    struct sasl_server *s = *sp;
    if (s == NULL)
        return;
    clear_identity(s);
    scram_state_cleanup(&s->scram);
    OPENSSL_cleanse(s, sizeof(*s));
    herald_free(HERALD_MEM_CONN, s);
    *sp = NULL;
}

void sasl_server_abort(struct sasl_server *s)
{
    sasl_server_fail(s, SASL_COND_ABORTED, "aborted by client");
}

enum sasl_mech sasl_server_mech(const struct sasl_server *s)
{
    return s->mech;
}

const char *sasl_server_authcid(const struct sasl_server *s)
{
    return s->state == SASL_STATE_SUCCESS ? s->authcid : NULL;
}

const char *sasl_server_authzid(const struct sasl_server *s)
{
    return s->state == SASL_STATE_SUCCESS ? s->authzid : NULL;
}

bool sasl_server_is_anonymous(const struct sasl_server *s)
{
    return s->state == SASL_STATE_SUCCESS && s->anonymous;
}

const char *sasl_server_anon_trace(const struct sasl_server *s)
{
    return s->state == SASL_STATE_SUCCESS ? s->anon_trace : NULL;
}

enum sasl_condition sasl_server_condition(const struct sasl_server *s)
{
    return s->cond;
}

const char *sasl_server_text(const struct sasl_server *s)
{
    return s->text;
}

/* ---- Helpers shared with scram.c ---- */

enum herald_rc sasl_server_prep_authcid(struct sasl_server *s, const char *raw, size_t len)
{
    struct buf prepped;
    buf_init(&prepped, s->opts.max_message);
    /* The callback gets a NUL-terminated copy: raw points into the client's message. */
    char *copy = herald_strndup(HERALD_MEM_CONN, raw, len);
    if (copy == NULL) {
        sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "no-resources");
        return HERALD_ENOMEM;
    }
    enum herald_rc rc = s->cbs->prep_username_cb(s->cb_arg, copy, len, &prepped);
    herald_free(HERALD_MEM_CONN, copy);
    if (rc == HERALD_OK && prepped.err)
        rc = prepped.err;
    if (rc == HERALD_OK && (prepped.len == 0 || memchr(prepped.data, 0, prepped.len)))
        rc = HERALD_EINVAL;
    if (rc == HERALD_OK) {
        herald_free(HERALD_MEM_CONN, s->authcid);
        s->authcid = herald_strndup(HERALD_MEM_CONN, prepped.data, prepped.len);
        if (s->authcid == NULL)
            rc = HERALD_ENOMEM;
    }
    buf_cleanup(&prepped);
    if (rc == HERALD_ENOMEM)
        sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "no-resources");
    else if (rc)
        sasl_server_fail(s, SASL_COND_NOT_AUTHORIZED, "invalid-username-encoding");
    return rc;
}

/* Ask the user database; validate what comes back. Does not fail the exchange. */
static enum herald_rc creds_lookup(struct sasl_server *s, enum scram_hash hash,
                                   struct scram_creds *out)
{
    memset(out, 0, sizeof(*out));
    enum herald_rc rc = s->cbs->lookup_creds_cb(s->cb_arg, s->authcid, hash, out);
    if (rc == HERALD_OK && !scram_creds_usable(out, hash))
        rc = HERALD_EIO; /* a damaged record is our problem, not the client's */
    return rc;
}

enum herald_rc sasl_server_creds(struct sasl_server *s, enum scram_hash hash,
                                 struct scram_creds *out, bool *fake)
{
    enum herald_rc rc = creds_lookup(s, hash, out);
    *fake = false;
    if (rc == HERALD_ENOTFOUND) {
        *fake = true;
        rc = scram_creds_fake(s, hash, s->authcid, out);
    }
    if (rc)
        sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "no-resources");
    return rc;
}

static const char *condition_text(enum sasl_condition cond)
{
    switch (cond) {
    case SASL_COND_INVALID_AUTHZID:
        return "not allowed to act as that identity";
    case SASL_COND_ACCOUNT_DISABLED:
        return "account disabled";
    case SASL_COND_CREDENTIALS_EXPIRED:
        return "credentials expired";
    default:
        return "not authorized";
    }
}

enum sasl_result sasl_server_authorize(struct sasl_server *s)
{
    enum sasl_condition cond;
    if (s->cbs->authorize_cb)
        cond = s->cbs->authorize_cb(s->cb_arg, s->authcid, s->authzid);
    else
        cond = s->authzid ? SASL_COND_INVALID_AUTHZID : SASL_COND_NONE;
    if (cond != SASL_COND_NONE)
        return sasl_server_fail(s, cond, condition_text(cond));
    s->state = SASL_STATE_SUCCESS;
    return SASL_SUCCESS;
}

/* ---- PLAIN (RFC 4616) ---- */

static enum sasl_result plain_step(struct sasl_server *s, const char *msg, size_t len)
{
    /* message = [authzid] UTF8NUL authcid UTF8NUL passwd */
    const char *nul1 = memchr(msg, 0, len);
    const char *nul2 = nul1 ? memchr(nul1 + 1, 0, len - (size_t)(nul1 + 1 - msg)) : NULL;
    if (nul2 == NULL)
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST,
                                "expected authzid NUL authcid NUL "
                                "password");
    size_t zlen = (size_t)(nul1 - msg);
    const char *cid = nul1 + 1;
    size_t clen = (size_t)(nul2 - cid);
    const char *pw = nul2 + 1;
    size_t pwlen = len - (size_t)(pw - msg);
    if (clen == 0 || pwlen == 0 || !sasl_utf8_valid(msg, zlen, NULL) ||
        !sasl_utf8_valid(cid, clen, NULL) || !sasl_utf8_valid(pw, pwlen, NULL))
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "invalid PLAIN message");

    if (zlen) {
        s->authzid = herald_strndup(HERALD_MEM_CONN, msg, zlen);
        if (s->authzid == NULL)
            return sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "no-resources");
    }
    if (sasl_server_prep_authcid(s, cid, clen))
        return SASL_FAILURE;

    struct buf pwbuf;
    buf_init(&pwbuf, SCRAM_PASSWORD_MAX);
    enum herald_rc rc;
    if (s->cbs->prep_password_cb) {
        char *copy = herald_strndup(HERALD_MEM_CONN, pw, pwlen);
        if (copy == NULL) {
            rc = HERALD_ENOMEM;
        } else {
            rc = s->cbs->prep_password_cb(s->cb_arg, copy, pwlen, &pwbuf);
            OPENSSL_cleanse(copy, pwlen);
            herald_free(HERALD_MEM_CONN, copy);
        }
    } else {
        rc = buf_append(&pwbuf, pw, pwlen);
    }
    if (rc == HERALD_OK && (pwbuf.err || pwbuf.len == 0))
        rc = HERALD_EINVAL;

    enum sasl_result res;
    struct scram_creds creds;
    if (rc == HERALD_ENOMEM) {
        res = sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "no-resources");
        goto out;
    }
    if (rc) {
        /* A password that cannot be prepared (or is too long) matches no account. */
        res = sasl_server_fail(s, SASL_COND_NOT_AUTHORIZED, "not authorized");
        goto out;
    }
    /* scram_creds_derive() writes both hashes; fall back to SHA-1 for imported records. */
    bool fake = false;
    rc = creds_lookup(s, SCRAM_HASH_SHA256, &creds);
    if (rc == HERALD_ENOTFOUND)
        rc = creds_lookup(s, SCRAM_HASH_SHA1, &creds);
    if (rc == HERALD_ENOTFOUND) {
        fake = true;
        rc = scram_creds_fake(s, SCRAM_HASH_SHA256, s->authcid, &creds);
    }
    if (rc) {
        res = sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "no-resources");
        goto out;
    }
    /* Run the PBKDF2 for unknown users too, so timing does not tell them apart. */
    bool ok = scram_creds_check_password(&creds, pwbuf.data, pwbuf.len);
    if (!ok || fake)
        res = sasl_server_fail(s, SASL_COND_NOT_AUTHORIZED, "not authorized");
    else
        res = sasl_server_authorize(s);
out:
    OPENSSL_cleanse(&creds, sizeof(creds));
    if (pwbuf.data)
        OPENSSL_cleanse(pwbuf.data, pwbuf.cap);
    buf_cleanup(&pwbuf);
    return res;
}

/* ---- ANONYMOUS (RFC 4505) ---- */

static bool trace_has_controls(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f)
            return true;
        /* C1 controls U+0080..U+009F are encoded C2 80..C2 9F. */
        if (s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
            return true;
    }
    return false;
}

static enum sasl_result anonymous_step(struct sasl_server *s, const char *msg, size_t len)
{
    size_t nchars = 0;
    if (len) {
        if (!sasl_utf8_valid(msg, len, &nchars) || nchars > ANON_TRACE_MAX_CHARS ||
            trace_has_controls((const unsigned char *)msg, len))
            return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "invalid trace information");
        s->anon_trace = herald_strndup(HERALD_MEM_CONN, msg, len);
        if (s->anon_trace == NULL)
            return sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "no-resources");
    }
    s->anonymous = true;
    s->state = SASL_STATE_SUCCESS;
    return SASL_SUCCESS;
}

/* ---- Dispatch ---- */

enum sasl_result sasl_server_step(struct sasl_server *s, const void *in, size_t inlen,
                                  struct buf *out)
{
    buf_reset(out);
    switch (s->state) {
    case SASL_STATE_FAILED:
        return SASL_FAILURE;
    case SASL_STATE_SUCCESS:
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "exchange already finished");
    case SASL_STATE_START:
        if (in == NULL) {
            /* No initial response: ask for the client's first message (RFC 4422 §5). */
            s->state = SASL_STATE_ASKED;
            return SASL_CONTINUE;
        }
        break;
    case SASL_STATE_ASKED:
    case SASL_STATE_SCRAM_SENT:
        break;
    }
    if (in == NULL) {
        in = "";
        inlen = 0;
    }
    if (inlen > s->opts.max_message)
        return sasl_server_fail(s, SASL_COND_MALFORMED_REQUEST, "message too long");

    const char *msg = in;
    enum sasl_result res;
    switch (s->mech) {
    case SASL_MECH_SCRAM_SHA_256_PLUS:
    case SASL_MECH_SCRAM_SHA_1_PLUS:
    case SASL_MECH_SCRAM_SHA_256:
    case SASL_MECH_SCRAM_SHA_1:
        if (s->state == SASL_STATE_SCRAM_SENT)
            res = scram_server_final(s, msg, inlen, out);
        else
            res = scram_server_first(s, msg, inlen, out);
        break;
    case SASL_MECH_PLAIN:
        res = plain_step(s, msg, inlen);
        break;
    case SASL_MECH_ANONYMOUS:
        res = anonymous_step(s, msg, inlen);
        break;
    default:
        res = sasl_server_fail(s, SASL_COND_INVALID_MECHANISM, "unsupported mechanism");
        break;
    }
    if (res != SASL_FAILURE && out->err)
        res = sasl_server_fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "no-resources");
    if (res == SASL_FAILURE)
        buf_reset(out);
    return res;
}
