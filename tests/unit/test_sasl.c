/*
 * test_sasl.c - SASL mechanisms: the RFC 5802 / RFC 7677 examples as full exchanges, and the
 * ways a client can get each mechanism wrong.
 *
 * The exact RFC examples pin the module to the published vectors (server-first and v= are
 * compared byte for byte). Exchanges with other inputs are driven by a small SCRAM client
 * written here directly on OpenSSL, so the module is never checked only against itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "herald/base64.h"
#include "herald/sasl.h"

/* ---- Fixture: a user database and callbacks that record what they saw ---- */

struct test_user {
    const char *name;
    struct scram_creds creds[SCRAM_HASH_COUNT];
    bool has[SCRAM_HASH_COUNT];
};

struct fx {
    struct test_user users[3];
    size_t nusers;
    enum herald_rc lookup_rc; /* forced result when not OK */
    const char *server_nonce; /* NULL: the module's default */
    const char *cb_data;      /* channel-binding data the "TLS layer" returns */
    enum herald_rc cb_rc;
    unsigned cb_calls;
    enum sasl_cb_type cb_type;
    char prep_raw[64]; /* last raw user name given to prep_username_cb */
    bool authorize_set;
    enum sasl_condition authorize_result;
    struct sasl_server_cbs cbs;
    struct sasl_server_opts opts;
    struct buf out;
};

static enum herald_rc fx_lookup_cb(void *arg, const char *authcid, enum scram_hash hash,
                                   struct scram_creds *out)
{
    struct fx *f = arg;
    if (f->lookup_rc)
        return f->lookup_rc;
    for (size_t i = 0; i < f->nusers; i++) {
        if (strcmp(f->users[i].name, authcid) == 0 && f->users[i].has[hash]) {
            *out = f->users[i].creds[hash];
            return HERALD_OK;
        }
    }
    return HERALD_ENOTFOUND;
}

/* Stand-in for PRECIS: ASCII lowercase; refuse spaces. */
static enum herald_rc fx_prep_username_cb(void *arg, const char *raw, size_t len, struct buf *out)
{
    struct fx *f = arg;
    snprintf(f->prep_raw, sizeof(f->prep_raw), "%s", raw);
    for (size_t i = 0; i < len; i++) {
        char c = raw[i];
        if (c == ' ')
            return HERALD_EINVAL;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (buf_append(out, &c, 1))
            return out->err;
    }
    return HERALD_OK;
}

/* Stand-in for OpaqueString: map U+00A0 (C2 A0) to a space. */
static enum herald_rc fx_prep_password_cb(void *arg, const char *raw, size_t len, struct buf *out)
{
    (void)arg;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)raw[i] == 0xc2 && i + 1 < len && (unsigned char)raw[i + 1] == 0xa0) {
            if (buf_append_byte(out, ' '))
                return out->err;
            i++;
        } else if (buf_append_byte(out, (uint8_t)raw[i])) {
            return out->err;
        }
    }
    return HERALD_OK;
}

static enum herald_rc fx_channel_binding_cb(void *arg, enum sasl_cb_type type, struct buf *out)
{
    struct fx *f = arg;
    f->cb_calls++;
    f->cb_type = type;
    if (f->cb_rc)
        return f->cb_rc;
    return buf_append_str(out, f->cb_data);
}

/* Allows authzid == authcid "@example.org" unless the test forces a result. */
static enum sasl_condition fx_authorize_cb(void *arg, const char *authcid, const char *authzid)
{
    struct fx *f = arg;
    char self[128];
    if (f->authorize_set)
        return f->authorize_result;
    if (authzid == NULL)
        return SASL_COND_NONE;
    snprintf(self, sizeof(self), "%s@example.org", authcid);
    return strcmp(self, authzid) == 0 ? SASL_COND_NONE : SASL_COND_INVALID_AUTHZID;
}

static enum herald_rc fx_server_nonce_cb(void *arg, struct buf *out)
{
    struct fx *f = arg;
    return buf_append_str(out, f->server_nonce);
}

/* A user with both hashes; salts in base64 (SHA-1 first). */
static void fx_add_user(struct fx *f, const char *name, const char *password, const char *salt1_b64,
                        const char *salt256_b64, uint32_t iterations)
{
    struct test_user *u = &f->users[f->nusers++];
    const char *salts[SCRAM_HASH_COUNT] = {salt1_b64, salt256_b64};
    u->name = name;
    for (unsigned h = 0; h < SCRAM_HASH_COUNT; h++) {
        struct buf salt;
        buf_init(&salt, 0);
        assert_int_equal(base64_decode(&salt, salts[h], strlen(salts[h])), HERALD_OK);
        assert_int_equal(scram_creds_compute((enum scram_hash)h, password, strlen(password),
                                             (const uint8_t *)salt.data, salt.len, iterations,
                                             &u->creds[h]),
                         HERALD_OK);
        u->has[h] = true;
        buf_cleanup(&salt);
    }
}

static size_t mem_at_start;

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    mem_at_start = herald_mem_used(HERALD_MEM_CONN);
    /* The RFC 5802 / RFC 7677 user: "user" / "pencil". */
    fx_add_user(f, "user", "pencil", "QSXCR+Q6sek8bf92", "W22ZaJ0SNY7soEsUEjb6gQ==", 4096);
    f->cbs.lookup_creds_cb = fx_lookup_cb;
    f->cbs.prep_username_cb = fx_prep_username_cb;
    f->cbs.channel_binding_cb = fx_channel_binding_cb;
    f->cbs.authorize_cb = fx_authorize_cb;
    f->cb_data = "0123456789abcdef0123456789abcdef";
    sasl_server_opts_init(&f->opts);
    buf_init(&f->out, 8192);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    buf_cleanup(&f->out);
    free(f);
    /* Every exchange the test made was freed, with everything it held. */
    assert_int_equal(herald_mem_used(HERALD_MEM_CONN), mem_at_start);
    return 0;
}

static struct sasl_server *fx_new(struct fx *f, const char *mech)
{
    struct sasl_server *s = sasl_server_new(mech, &f->cbs, f, &f->opts);
    assert_non_null(s);
    return s;
}

static enum sasl_result step_str(struct fx *f, struct sasl_server *s, const char *msg)
{
    return sasl_server_step(s, msg, strlen(msg), &f->out);
}

static void assert_failed(struct sasl_server *s, enum sasl_condition cond, const char *text)
{
    assert_int_equal(sasl_server_condition(s), cond);
    if (text)
        assert_string_equal(sasl_server_text(s), text);
    assert_null(sasl_server_authcid(s));
    assert_null(sasl_server_authzid(s));
}

/* ---- An independent SCRAM client on OpenSSL ---- */

static void b64(const void *data, size_t len, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
}

/*
 * Given the exchange so far, build the client-final-message for `password`.
 * cbind_input is gs2-header followed by channel-binding data (cbind_len bytes).
 */
static void client_final(enum scram_hash h, const char *password, const char *client_first_bare,
                         const char *server_first, const void *cbind_input, size_t cbind_len,
                         char *out, size_t outsz)
{
    const EVP_MD *md = h == SCRAM_HASH_SHA1 ? EVP_sha1() : EVP_sha256();
    int hl = EVP_MD_get_size(md);
    char nonce[512], salt_b64[256], cb64[512], proof64[64], auth[4096], without[1100];
    unsigned iter = 0;
    uint8_t salt[128], salted[32], ckey[32], skey[32], sig[32], proof[32];
    unsigned int n;

    assert_int_equal(sscanf(server_first, "r=%511[^,],s=%255[^,],i=%u", nonce, salt_b64, &iter), 3);
    int slen = EVP_DecodeBlock(salt, (const unsigned char *)salt_b64, (int)strlen(salt_b64));
    slen -= (int)(strlen(salt_b64) - strcspn(salt_b64, "=")); /* DecodeBlock keeps padding */
    b64(cbind_input, cbind_len, cb64);
    snprintf(without, sizeof(without), "c=%s,r=%s", cb64, nonce);
    snprintf(auth, sizeof(auth), "%s,%s,%s", client_first_bare, server_first, without);
    assert_int_equal(
        PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, slen, (int)iter, md, hl, salted),
        1);
    HMAC(md, salted, hl, (const unsigned char *)"Client Key", 10, ckey, &n);
    EVP_Digest(ckey, (size_t)hl, skey, &n, md, NULL);
    HMAC(md, skey, hl, (const unsigned char *)auth, strlen(auth), sig, &n);
    for (int i = 0; i < hl; i++)
        proof[i] = ckey[i] ^ sig[i];
    b64(proof, (size_t)hl, proof64);
    snprintf(out, outsz, "%s,p=%s", without, proof64);
}

/*
 * Run a whole SCRAM exchange for mech with a client-first of gs2 + "n=<user>,r=<cnonce>".
 * Returns the final result; server_first receives the server's first message.
 */
static enum sasl_result scram_run(struct fx *f, struct sasl_server *s, enum scram_hash h,
                                  const char *gs2, const char *user, const char *password,
                                  const char *cbind_data, char *server_first, size_t sfsz)
{
    char first[256], bare[256], final[1200], cbind[256];
    snprintf(bare, sizeof(bare), "n=%s,r=clientnonce123", user);
    snprintf(first, sizeof(first), "%s%s", gs2, bare);
    enum sasl_result r = step_str(f, s, first);
    if (r != SASL_CONTINUE)
        return r;
    snprintf(server_first, sfsz, "%s", f->out.data);
    snprintf(cbind, sizeof(cbind), "%s%s", gs2, cbind_data ? cbind_data : "");
    client_final(h, password, bare, server_first, cbind, strlen(cbind), final, sizeof(final));
    return step_str(f, s, final);
}

/* ---- The RFC examples ---- */

static void test_sasl__rfc5802_sha1_example(void **state)
{
    struct fx *f = *state;
    f->cbs.server_nonce_cb = fx_server_nonce_cb;
    f->server_nonce = "3rfcNHYJY1ZVvWVs7j";
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-1");

    assert_int_equal(step_str(f, s, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"), SASL_CONTINUE);
    assert_string_equal(f->out.data, "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                                     "s=QSXCR+Q6sek8bf92,i=4096");
    assert_int_equal(step_str(f, s,
                              "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                              "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="),
                     SASL_SUCCESS);
    assert_string_equal(f->out.data, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
    assert_string_equal(sasl_server_authcid(s), "user");
    assert_null(sasl_server_authzid(s));
    assert_false(sasl_server_is_anonymous(s));
    assert_int_equal(sasl_server_condition(s), SASL_COND_NONE);
    assert_int_equal(sasl_server_mech(s), SASL_MECH_SCRAM_SHA_1);
    sasl_server_free(&s);
    assert_null(s);
}

static void test_sasl__rfc7677_sha256_example(void **state)
{
    struct fx *f = *state;
    f->cbs.server_nonce_cb = fx_server_nonce_cb;
    f->server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-256");

    assert_int_equal(step_str(f, s, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"), SASL_CONTINUE);
    assert_string_equal(f->out.data, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                     "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    assert_int_equal(step_str(f, s,
                              "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                              "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
                     SASL_SUCCESS);
    assert_string_equal(f->out.data, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    assert_string_equal(sasl_server_authcid(s), "user");
    sasl_server_free(&s);
}

static void test_sasl__no_initial_response_gets_empty_challenge(void **state)
{
    struct fx *f = *state;
    f->cbs.server_nonce_cb = fx_server_nonce_cb;
    f->server_nonce = "3rfcNHYJY1ZVvWVs7j";
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(sasl_server_step(s, NULL, 0, &f->out), SASL_CONTINUE);
    assert_int_equal(f->out.len, 0);
    assert_int_equal(step_str(f, s, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"), SASL_CONTINUE);
    assert_int_equal(step_str(f, s,
                              "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                              "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="),
                     SASL_SUCCESS);
    sasl_server_free(&s);

    /* A present but empty first message is not a SCRAM client-first-message. */
    s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(sasl_server_step(s, "", 0, &f->out), SASL_FAILURE);
    assert_failed(s, SASL_COND_MALFORMED_REQUEST, NULL);
    sasl_server_free(&s);
}

/* ---- Credentials ---- */

static void test_sasl__derived_creds_check_password(void **state)
{
    (void)state;
    struct scram_creds c[SCRAM_HASH_COUNT], d[SCRAM_HASH_COUNT];
    assert_int_equal(scram_creds_derive("correct horse", 13, 4096, c), HERALD_OK);
    assert_int_equal(scram_creds_derive("correct horse", 13, 5000, d), HERALD_OK);
    for (unsigned h = 0; h < SCRAM_HASH_COUNT; h++) {
        assert_int_equal(c[h].hash, h);
        assert_int_equal(c[h].salt_len, SCRAM_SALT_DEFAULT);
        assert_true(c[h].salt_len >= SCRAM_SALT_MIN);
        assert_int_equal(c[h].iterations, 4096);
        assert_int_equal(d[h].iterations, 5000);
        assert_memory_not_equal(c[h].salt, d[h].salt, SCRAM_SALT_DEFAULT); /* random salts */
        assert_true(scram_creds_check_password(&c[h], "correct horse", 13));
        assert_false(scram_creds_check_password(&c[h], "correct horsE", 13));
        assert_false(scram_creds_check_password(&c[h], "correct hors", 12));
        assert_true(scram_creds_check_password(&d[h], "correct horse", 13));
    }
    assert_memory_not_equal(c[0].salt, c[1].salt, SCRAM_SALT_DEFAULT);
    assert_int_equal(scram_creds_derive("pw", 2, 4095, c), HERALD_EINVAL);
    assert_int_equal(scram_creds_derive("", 0, 4096, c), HERALD_EINVAL);
    /* A damaged record never matches. */
    assert_int_equal(scram_creds_derive("pw", 2, 4096, c), HERALD_OK);
    c[0].iterations = 0;
    assert_false(scram_creds_check_password(&c[0], "pw", 2));
}

static void test_sasl__creds_match_rfc_stored_key(void **state)
{
    (void)state;
    /* RFC 5802 §5: SaltedPassword of "pencil" gives the ClientProof in the example; check
     * StoredKey independently: StoredKey = SHA1(HMAC(SaltedPassword, "Client Key")). */
    struct scram_creds c;
    uint8_t salt[12], salted[20], ckey[20], skey[20];
    unsigned int n;
    assert_int_equal(EVP_DecodeBlock(salt, (const unsigned char *)"QSXCR+Q6sek8bf92", 16), 12);
    assert_int_equal(scram_creds_compute(SCRAM_HASH_SHA1, "pencil", 6, salt, 12, 4096, &c),
                     HERALD_OK);
    PKCS5_PBKDF2_HMAC("pencil", 6, salt, 12, 4096, EVP_sha1(), 20, salted);
    HMAC(EVP_sha1(), salted, 20, (const unsigned char *)"Client Key", 10, ckey, &n);
    EVP_Digest(ckey, 20, skey, &n, EVP_sha1(), NULL);
    assert_memory_equal(c.stored_key, skey, 20);
    assert_int_equal(c.salt_len, 12);
    assert_int_equal(scram_creds_compute(SCRAM_HASH_SHA1, "pencil", 6, salt, 0, 4096, &c),
                     HERALD_EINVAL);
    assert_int_equal(scram_creds_compute(SCRAM_HASH_SHA1, "pencil", 6, salt, 12, 0, &c),
                     HERALD_EINVAL);
}

/* ---- SCRAM failures ---- */

static void test_sasl__scram_wrong_password(void **state)
{
    struct fx *f = *state;
    char sf[512];
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-256");
    assert_int_equal(
        scram_run(f, s, SCRAM_HASH_SHA256, "n,,", "user", "pencil2", NULL, sf, sizeof(sf)),
        SASL_FAILURE);
    assert_failed(s, SASL_COND_NOT_AUTHORIZED, "invalid-proof");
    assert_int_equal(f->out.len, 0);
    sasl_server_free(&s);

    /* The same client code with the right password succeeds (the test can tell). */
    s = fx_new(f, "SCRAM-SHA-256");
    assert_int_equal(
        scram_run(f, s, SCRAM_HASH_SHA256, "n,,", "user", "pencil", NULL, sf, sizeof(sf)),
        SASL_SUCCESS);
    assert_memory_equal(f->out.data, "v=", 2);
    sasl_server_free(&s);
}

static void test_sasl__scram_unknown_user_fails_like_wrong_password(void **state)
{
    struct fx *f = *state;
    static const uint8_t secret[32] = "0123456789abcdef0123456789abcde";
    char sf1[512], sf2[512], sf3[512], salt1[64], salt2[64], salt3[64];
    unsigned iter = 0;
    f->opts.fake_secret = secret;
    f->opts.fake_secret_len = sizeof(secret);
    f->opts.fake_iterations = 8192;

    struct sasl_server *s = fx_new(f, "SCRAM-SHA-256");
    assert_int_equal(
        scram_run(f, s, SCRAM_HASH_SHA256, "n,,", "nobody", "pencil", NULL, sf1, sizeof(sf1)),
        SASL_FAILURE);
    assert_failed(s, SASL_COND_NOT_AUTHORIZED, "invalid-proof");
    sasl_server_free(&s);

    s = fx_new(f, "SCRAM-SHA-256");
    assert_int_equal(
        scram_run(f, s, SCRAM_HASH_SHA256, "n,,", "nobody", "x", NULL, sf2, sizeof(sf2)),
        SASL_FAILURE);
    sasl_server_free(&s);
    s = fx_new(f, "SCRAM-SHA-256");
    assert_int_equal(
        scram_run(f, s, SCRAM_HASH_SHA256, "n,,", "someone", "x", NULL, sf3, sizeof(sf3)),
        SASL_FAILURE);
    sasl_server_free(&s);

    /* The challenge looks like a real one, with a salt that is stable per name. */
    assert_int_equal(sscanf(sf1, "r=%*[^,],s=%63[^,],i=%u", salt1, &iter), 2);
    assert_int_equal(iter, 8192);
    assert_int_equal(strlen(salt1), 24); /* 16 bytes */
    assert_int_equal(sscanf(sf2, "r=%*[^,],s=%63[^,]", salt2), 1);
    assert_int_equal(sscanf(sf3, "r=%*[^,],s=%63[^,]", salt3), 1);
    assert_string_equal(salt1, salt2);
    assert_string_not_equal(salt1, salt3);
}

static void test_sasl__scram_lookup_error_is_temporary(void **state)
{
    struct fx *f = *state;
    f->lookup_rc = HERALD_EIO;
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(step_str(f, s, "n,,n=user,r=abc"), SASL_FAILURE);
    assert_failed(s, SASL_COND_TEMPORARY_AUTH_FAILURE, NULL);
    sasl_server_free(&s);

    /* A damaged record is the server's problem too. */
    f->lookup_rc = HERALD_OK;
    f->users[0].creds[SCRAM_HASH_SHA1].iterations = 0;
    s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(step_str(f, s, "n,,n=user,r=abc"), SASL_FAILURE);
    assert_failed(s, SASL_COND_TEMPORARY_AUTH_FAILURE, NULL);
    sasl_server_free(&s);
}

static void test_sasl__scram_malformed_client_first(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *msg;
        size_t len; /* 0: strlen */
        enum sasl_condition cond;
    } cases[] = {
        {"x", 0, SASL_COND_MALFORMED_REQUEST},
        {"n", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=user", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=user,r=", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,r=abc,n=user", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=,r=abc", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=us=er,r=abc", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=us=2cer,r=abc", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=user=2,r=abc", 0, SASL_COND_MALFORMED_REQUEST},
        {"F,n,,n=user,r=abc", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,x=1,n=user,r=abc", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,a=,n=user,r=abc", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,a=b=,n=user,r=abc", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,m=ext,n=user,r=abc", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=user,r=abc,m=ext", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=user,r=abc,", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=user,r=abc,x", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=user,r=abc,x=", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=user,r=abc,r=def", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=user,r=a\x01"
         "c",
         0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=user,r=ab\xc3\xa9", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=\xff,r=abc", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=us\0er,r=abc", 16, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=user,r=abc\0", 16, SASL_COND_MALFORMED_REQUEST},
        {"p=tls-exporter,,n=user,r=abc", 0, SASL_COND_MALFORMED_REQUEST},
        {"n,,n=us er,r=abc", 0, SASL_COND_NOT_AUTHORIZED}, /* refused by prep_username_cb */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sasl_server *s = fx_new(f, "SCRAM-SHA-1");
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].msg);
        print_message("case %zu: %s\n", i, cases[i].msg);
        assert_int_equal(sasl_server_step(s, cases[i].msg, len, &f->out), SASL_FAILURE);
        assert_failed(s, cases[i].cond, NULL);
        assert_int_equal(f->out.len, 0);
        sasl_server_free(&s);
    }
    /* An unknown optional extension is ignored (RFC 5802 §5.1). */
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(step_str(f, s, "n,,n=user,r=abc,x=1,y=z=="), SASL_CONTINUE);
    sasl_server_free(&s);
    /* Extension texts follow RFC 5802 §7. */
    s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(step_str(f, s, "n,,m=ext,n=user,r=abc"), SASL_FAILURE);
    assert_failed(s, SASL_COND_MALFORMED_REQUEST, "extensions-not-supported");
    sasl_server_free(&s);
}

static void test_sasl__scram_malformed_client_final(void **state)
{
    struct fx *f = *state;
    f->cbs.server_nonce_cb = fx_server_nonce_cb;
    f->server_nonce = "3rfcNHYJY1ZVvWVs7j";
#define N  "fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j"
#define PR "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    static const struct {
        const char *msg;
        enum sasl_condition cond;
        const char *text;
    } cases[] = {
        {"", SASL_COND_MALFORMED_REQUEST, NULL},
        {"c=biws,r=" N, SASL_COND_MALFORMED_REQUEST, "missing proof"},
        {"c=biws,r=" N ",p=", SASL_COND_MALFORMED_REQUEST, "missing proof"},
        {"c=biws,r=" N "," PR ",", SASL_COND_MALFORMED_REQUEST, "missing proof"},
        {"c=biws," PR ",r=" N, SASL_COND_MALFORMED_REQUEST, NULL},
        {"r=" N ",c=biws," PR, SASL_COND_MALFORMED_REQUEST, NULL},
        {"c=,r=" N "," PR, SASL_COND_MALFORMED_REQUEST, NULL},
        {"c=biws,r=" N "x," PR, SASL_COND_NOT_AUTHORIZED, "nonce mismatch"},
        {"c=biws,r=fyko+d2lbbFgONRv9qkxdawL," PR, SASL_COND_NOT_AUTHORIZED, "nonce mismatch"},
        {"c=biws,r=" N ",m=x," PR, SASL_COND_MALFORMED_REQUEST, "extensions-not-supported"},
        {"c=biws,r=" N ",c=biws," PR, SASL_COND_MALFORMED_REQUEST, NULL},
        {"c=bi ws,r=" N "," PR, SASL_COND_MALFORMED_REQUEST, "invalid-encoding"},
        {"c=biws,r=" N ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts", SASL_COND_MALFORMED_REQUEST,
         "invalid-encoding"},
        {"c=biws,r=" N ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4TsA", SASL_COND_NOT_AUTHORIZED,
         "invalid-proof"},
        {"c=biws,r=" N ",p=dj0=", SASL_COND_NOT_AUTHORIZED, "invalid-proof"},
        {"c=eSws,r=" N "," PR, SASL_COND_NOT_AUTHORIZED, "channel-bindings-dont-match"},
        {"c=biws,r=" N ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Tt=", SASL_COND_MALFORMED_REQUEST,
         "invalid-encoding"},
        {"c=biws,r=" N ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=\xff", SASL_COND_MALFORMED_REQUEST,
         "invalid-encoding"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sasl_server *s = fx_new(f, "SCRAM-SHA-1");
        print_message("case %zu: %s\n", i, cases[i].msg);
        assert_int_equal(step_str(f, s, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"), SASL_CONTINUE);
        assert_int_equal(step_str(f, s, cases[i].msg), SASL_FAILURE);
        assert_failed(s, cases[i].cond, cases[i].text);
        sasl_server_free(&s);
    }
    /* With an unknown optional extension before the proof, the exchange still works (the
     * proof covers it, so the RFC one no longer fits: only the parse is checked here). */
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(step_str(f, s, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"), SASL_CONTINUE);
    assert_int_equal(step_str(f, s, "c=biws,r=" N ",x=ext," PR), SASL_FAILURE);
    assert_failed(s, SASL_COND_NOT_AUTHORIZED, "invalid-proof");
    sasl_server_free(&s);
#undef N
#undef PR
}

static void test_sasl__scram_authzid_is_decoded_and_authorized(void **state)
{
    struct fx *f = *state;
    char sf[512];
    /* =2C and =3D decode in both the authzid and the user name. */
    fx_add_user(f, "a,b=c", "secret", "c2FsdHNhbHQ=", "c2FsdHNhbHRzYWx0c2FsdA==", 4096);
    f->authorize_set = true;
    f->authorize_result = SASL_COND_NONE;
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-256");
    assert_int_equal(scram_run(f, s, SCRAM_HASH_SHA256, "n,a=x=2Cy=3Dz@example.org,", "a=2Cb=3Dc",
                               "secret", NULL, sf, sizeof(sf)),
                     SASL_SUCCESS);
    assert_string_equal(f->prep_raw, "a,b=c");
    assert_string_equal(sasl_server_authcid(s), "a,b=c");
    assert_string_equal(sasl_server_authzid(s), "x,y=z@example.org");
    sasl_server_free(&s);

    /* The authorize callback's verdict is the failure condition, after a valid proof. */
    f->authorize_result = SASL_COND_ACCOUNT_DISABLED;
    s = fx_new(f, "SCRAM-SHA-256");
    assert_int_equal(
        scram_run(f, s, SCRAM_HASH_SHA256, "n,,", "user", "pencil", NULL, sf, sizeof(sf)),
        SASL_FAILURE);
    assert_failed(s, SASL_COND_ACCOUNT_DISABLED, NULL);
    assert_int_equal(f->out.len, 0); /* no v= for a refused login */
    sasl_server_free(&s);

    /* Default rule of the fixture: only one's own bare JID. */
    f->authorize_set = false;
    s = fx_new(f, "SCRAM-SHA-256");
    assert_int_equal(scram_run(f, s, SCRAM_HASH_SHA256, "n,a=admin@example.org,", "user", "pencil",
                               NULL, sf, sizeof(sf)),
                     SASL_FAILURE);
    assert_failed(s, SASL_COND_INVALID_AUTHZID, NULL);
    sasl_server_free(&s);

    /* Without an authorize callback any authzid is refused... */
    f->cbs.authorize_cb = NULL;
    s = fx_new(f, "SCRAM-SHA-256");
    assert_int_equal(scram_run(f, s, SCRAM_HASH_SHA256, "n,a=user@example.org,", "user", "pencil",
                               NULL, sf, sizeof(sf)),
                     SASL_FAILURE);
    assert_failed(s, SASL_COND_INVALID_AUTHZID, NULL);
    sasl_server_free(&s);
    /* ...and none is fine. */
    s = fx_new(f, "SCRAM-SHA-256");
    assert_int_equal(
        scram_run(f, s, SCRAM_HASH_SHA256, "n,,", "USER", "pencil", NULL, sf, sizeof(sf)),
        SASL_SUCCESS);
    assert_string_equal(sasl_server_authcid(s), "user"); /* prepared */
    sasl_server_free(&s);
}

/* ---- Channel binding ---- */

static void tls_opts(struct fx *f, unsigned cb_types)
{
    f->opts.flags = SASL_F_TLS;
    f->opts.cb_types = cb_types;
}

static void test_sasl__y_flag_downgrade_detected(void **state)
{
    struct fx *f = *state;
    char sf[512];
    /* -PLUS was advertised: 'y' means someone removed it from the list (RFC 5802 §6). */
    tls_opts(f, SASL_CB_TLS_EXPORTER);
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-256");
    assert_int_equal(step_str(f, s, "y,,n=user,r=abc"), SASL_FAILURE);
    assert_failed(s, SASL_COND_NOT_AUTHORIZED, "server-does-support-channel-binding");
    sasl_server_free(&s);

    /* Not advertised (no channel binding on this connection): 'y' is legitimate. */
    tls_opts(f, 0);
    s = fx_new(f, "SCRAM-SHA-256");
    assert_int_equal(
        scram_run(f, s, SCRAM_HASH_SHA256, "y,,", "user", "pencil", NULL, sf, sizeof(sf)),
        SASL_SUCCESS);
    sasl_server_free(&s);

    /* 'n' is fine even when -PLUS was advertised: the client cannot bind. */
    tls_opts(f, SASL_CB_TLS_EXPORTER);
    s = fx_new(f, "SCRAM-SHA-256");
    assert_int_equal(
        scram_run(f, s, SCRAM_HASH_SHA256, "n,,", "user", "pencil", NULL, sf, sizeof(sf)),
        SASL_SUCCESS);
    sasl_server_free(&s);
}

static void test_sasl__plus_exchange_binds_channel(void **state)
{
    struct fx *f = *state;
    char sf[512];
    tls_opts(f, SASL_CB_TLS_EXPORTER | SASL_CB_TLS_SERVER_END_POINT);

    struct sasl_server *s = fx_new(f, "SCRAM-SHA-256-PLUS");
    assert_int_equal(scram_run(f, s, SCRAM_HASH_SHA256, "p=tls-exporter,,", "user", "pencil",
                               f->cb_data, sf, sizeof(sf)),
                     SASL_SUCCESS);
    assert_int_equal(f->cb_calls, 1);
    assert_int_equal(f->cb_type, SASL_CB_TLS_EXPORTER);
    sasl_server_free(&s);

    s = fx_new(f, "SCRAM-SHA-1-PLUS");
    assert_int_equal(scram_run(f, s, SCRAM_HASH_SHA1, "p=tls-server-end-point,a=user@example.org,",
                               "user", "pencil", f->cb_data, sf, sizeof(sf)),
                     SASL_SUCCESS);
    assert_int_equal(f->cb_type, SASL_CB_TLS_SERVER_END_POINT);
    assert_string_equal(sasl_server_authzid(s), "user@example.org");
    sasl_server_free(&s);
}

static void test_sasl__plus_channel_binding_mismatch(void **state)
{
    struct fx *f = *state;
    char sf[512];
    tls_opts(f, SASL_CB_TLS_EXPORTER);
    /* The client saw a different channel (a man in the middle terminating TLS). */
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-256-PLUS");
    assert_int_equal(scram_run(f, s, SCRAM_HASH_SHA256, "p=tls-exporter,,", "user", "pencil",
                               "0123456789abcdef0123456789abcdeF", sf, sizeof(sf)),
                     SASL_FAILURE);
    assert_failed(s, SASL_COND_NOT_AUTHORIZED, "channel-bindings-dont-match");
    sasl_server_free(&s);

    /* Leaving the data out of c= is a mismatch too. */
    s = fx_new(f, "SCRAM-SHA-256-PLUS");
    assert_int_equal(scram_run(f, s, SCRAM_HASH_SHA256, "p=tls-exporter,,", "user", "pencil", NULL,
                               sf, sizeof(sf)),
                     SASL_FAILURE);
    assert_failed(s, SASL_COND_NOT_AUTHORIZED, "channel-bindings-dont-match");
    sasl_server_free(&s);
}

static void test_sasl__bad_gs2_header_for_plus(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *first;
        enum sasl_condition cond;
        const char *text;
    } cases[] = {
        {"n,,n=user,r=abc", SASL_COND_MALFORMED_REQUEST, NULL},
        {"y,,n=user,r=abc", SASL_COND_MALFORMED_REQUEST, NULL},
        {"p=,,n=user,r=abc", SASL_COND_MALFORMED_REQUEST, "invalid GS2 header"},
        {"p=tls exporter,,n=user,r=abc", SASL_COND_MALFORMED_REQUEST, "invalid GS2 header"},
        {"p=tls-unique,,n=user,r=abc", SASL_COND_NOT_AUTHORIZED,
         "unsupported-channel-binding-type"},
        /* Known, but not advertised on this connection. */
        {"p=tls-server-end-point,,n=user,r=abc", SASL_COND_NOT_AUTHORIZED,
         "unsupported-channel-binding-type"},
        {"p=TLS-EXPORTER,,n=user,r=abc", SASL_COND_NOT_AUTHORIZED,
         "unsupported-channel-binding-type"},
    };
    tls_opts(f, SASL_CB_TLS_EXPORTER);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sasl_server *s = fx_new(f, "SCRAM-SHA-256-PLUS");
        print_message("case %zu: %s\n", i, cases[i].first);
        assert_int_equal(step_str(f, s, cases[i].first), SASL_FAILURE);
        assert_failed(s, cases[i].cond, cases[i].text);
        sasl_server_free(&s);
    }
    assert_int_equal(f->cb_calls, 0);

    /* The TLS layer cannot produce the data after all, or fails. */
    f->cb_rc = HERALD_ENOTFOUND;
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-256-PLUS");
    assert_int_equal(step_str(f, s, "p=tls-exporter,,n=user,r=abc"), SASL_FAILURE);
    assert_failed(s, SASL_COND_NOT_AUTHORIZED, "unsupported-channel-binding-type");
    sasl_server_free(&s);
    f->cb_rc = HERALD_EIO;
    s = fx_new(f, "SCRAM-SHA-256-PLUS");
    assert_int_equal(step_str(f, s, "p=tls-exporter,,n=user,r=abc"), SASL_FAILURE);
    assert_failed(s, SASL_COND_TEMPORARY_AUTH_FAILURE, NULL);
    sasl_server_free(&s);
}

static void test_sasl__plus_refused_without_tls(void **state)
{
    struct fx *f = *state;
    f->opts.cb_types = SASL_CB_TLS_EXPORTER; /* ignored without TLS */
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-256-PLUS");
    assert_int_equal(step_str(f, s, "p=tls-exporter,,n=user,r=abc"), SASL_FAILURE);
    assert_failed(s, SASL_COND_ENCRYPTION_REQUIRED, NULL);
    sasl_server_free(&s);
    assert_int_equal(f->cb_calls, 0);

    tls_opts(f, 0);
    s = fx_new(f, "SCRAM-SHA-1-PLUS");
    assert_int_equal(sasl_server_condition(s), SASL_COND_INVALID_MECHANISM);
    assert_int_equal(sasl_server_step(s, NULL, 0, &f->out), SASL_FAILURE);
    sasl_server_free(&s);
}

/* ---- Mechanism list and selection ---- */

static void test_sasl__mechanism_list_follows_flags(void **state)
{
    struct fx *f = *state;
    const char *names[SASL_MECH_COUNT];
    size_t n = sasl_mechanism_list(&f->opts, names, SASL_MECH_COUNT);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "SCRAM-SHA-256");
    assert_string_equal(names[1], "SCRAM-SHA-1");

    f->opts.flags = SASL_F_PLAIN_INSECURE | SASL_F_ANONYMOUS;
    n = sasl_mechanism_list(&f->opts, names, SASL_MECH_COUNT);
    assert_int_equal(n, 4);
    assert_string_equal(names[2], "PLAIN");
    assert_string_equal(names[3], "ANONYMOUS");

    tls_opts(f, SASL_CB_TLS_SERVER_END_POINT);
    n = sasl_mechanism_list(&f->opts, names, SASL_MECH_COUNT);
    assert_int_equal(n, 5);
    assert_string_equal(names[0], "SCRAM-SHA-256-PLUS");
    assert_string_equal(names[1], "SCRAM-SHA-1-PLUS");
    assert_string_equal(names[2], "SCRAM-SHA-256");
    assert_string_equal(names[3], "SCRAM-SHA-1");
    assert_string_equal(names[4], "PLAIN");
    /* A short array gets the best ones and the full count. */
    assert_int_equal(sasl_mechanism_list(&f->opts, names, 1), 5);
    assert_string_equal(names[0], "SCRAM-SHA-256-PLUS");

    assert_string_equal(sasl_cb_type_name(SASL_CB_TLS_EXPORTER), "tls-exporter");
    assert_string_equal(sasl_cb_type_name(SASL_CB_TLS_SERVER_END_POINT), "tls-server-end-point");
    assert_null(sasl_cb_type_name((enum sasl_cb_type)3));
    assert_string_equal(sasl_condition_name(SASL_COND_NOT_AUTHORIZED), "not-authorized");
    assert_string_equal(sasl_condition_name(SASL_COND_TEMPORARY_AUTH_FAILURE),
                        "temporary-auth-failure");
    assert_null(sasl_condition_name(SASL_COND_NONE));
}

static void test_sasl__unknown_mechanism_is_invalid(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = {"CRAM-MD5", "plain", "SCRAM-SHA-512", "", "ANONYMOUS"};
    f->opts.flags = SASL_F_TLS;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sasl_server *s = fx_new(f, bad[i]);
        assert_int_equal(step_str(f, s, "n,,n=user,r=abc"), SASL_FAILURE);
        assert_failed(s, SASL_COND_INVALID_MECHANISM, NULL);
        sasl_server_free(&s);
    }
    struct sasl_server *s = fx_new(f, NULL);
    assert_int_equal(sasl_server_condition(s), SASL_COND_INVALID_MECHANISM);
    assert_int_equal(sasl_server_mech(s), SASL_MECH_COUNT);
    sasl_server_free(&s);
}

/* ---- PLAIN ---- */

static enum sasl_result plain(struct fx *f, struct sasl_server *s, const char *z, const char *c,
                              const char *p)
{
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "%s%c%s%c%s", z, 0, c, 0, p);
    return sasl_server_step(s, msg, (size_t)n, &f->out);
}

static void test_sasl__plain_without_authzid(void **state)
{
    struct fx *f = *state;
    f->opts.flags = SASL_F_TLS;
    struct sasl_server *s = fx_new(f, "PLAIN");
    assert_int_equal(plain(f, s, "", "User", "pencil"), SASL_SUCCESS);
    assert_int_equal(f->out.len, 0);
    assert_string_equal(sasl_server_authcid(s), "user");
    assert_null(sasl_server_authzid(s));
    assert_false(sasl_server_is_anonymous(s));
    sasl_server_free(&s);
}

static void test_sasl__plain_with_authzid(void **state)
{
    struct fx *f = *state;
    f->opts.flags = SASL_F_TLS;
    struct sasl_server *s = fx_new(f, "PLAIN");
    assert_int_equal(plain(f, s, "user@example.org", "user", "pencil"), SASL_SUCCESS);
    assert_string_equal(sasl_server_authzid(s), "user@example.org");
    sasl_server_free(&s);

    s = fx_new(f, "PLAIN");
    assert_int_equal(plain(f, s, "admin@example.org", "user", "pencil"), SASL_FAILURE);
    assert_failed(s, SASL_COND_INVALID_AUTHZID, NULL);
    sasl_server_free(&s);
}

static void test_sasl__plain_wrong_password(void **state)
{
    struct fx *f = *state;
    f->opts.flags = SASL_F_TLS;
    struct sasl_server *s = fx_new(f, "PLAIN");
    assert_int_equal(plain(f, s, "", "user", "pencil "), SASL_FAILURE);
    assert_failed(s, SASL_COND_NOT_AUTHORIZED, NULL);
    const char *wrong_text = sasl_server_text(s);
    sasl_server_free(&s);

    /* An unknown user looks exactly the same. */
    s = fx_new(f, "PLAIN");
    assert_int_equal(plain(f, s, "", "nobody", "pencil"), SASL_FAILURE);
    assert_failed(s, SASL_COND_NOT_AUTHORIZED, wrong_text);
    sasl_server_free(&s);
}

static void test_sasl__plain_prepares_password_and_falls_back_to_sha1(void **state)
{
    struct fx *f = *state;
    f->opts.flags = SASL_F_TLS;
    f->cbs.prep_password_cb = fx_prep_password_cb;
    fx_add_user(f, "old", "two words", "c2FsdHNhbHQ=", "c2FsdHNhbHQ=", 4096);
    f->users[1].has[SCRAM_HASH_SHA256] = false; /* an imported SHA-1-only record */
    struct sasl_server *s = fx_new(f, "PLAIN");
    assert_int_equal(plain(f, s, "", "old", "two\xc2\xa0words"), SASL_SUCCESS);
    assert_string_equal(sasl_server_authcid(s), "old");
    sasl_server_free(&s);
}

static void test_sasl__plain_needs_tls(void **state)
{
    struct fx *f = *state;
    struct sasl_server *s = fx_new(f, "PLAIN");
    assert_int_equal(plain(f, s, "", "user", "pencil"), SASL_FAILURE);
    assert_failed(s, SASL_COND_ENCRYPTION_REQUIRED, NULL);
    sasl_server_free(&s);

    f->opts.flags = SASL_F_PLAIN_INSECURE;
    s = fx_new(f, "PLAIN");
    assert_int_equal(plain(f, s, "", "user", "pencil"), SASL_SUCCESS);
    sasl_server_free(&s);
}

static void test_sasl__plain_malformed(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *msg;
        size_t len;
    } cases[] = {
        {"", 0},
        {"userpencil", 10},
        {"\0userpencil", 11},
        {"\0\0pencil", 8},
        {"\0user\0", 6},
        {"\0user\0pen\0cil", 13},
        {"\0us\xffr\0pencil", 12},
        {"\0user\0pen\xc0\xafil", 13},       /* overlong '/' */
        {"\0user\0pen\xe0\x80\xafil", 14},   /* overlong '/', three bytes */
        {"\0user\0pen\xed\xa0\x80il", 14},   /* UTF-16 surrogate */
        {"\0user\0pen\xf4\x90\x80\x80", 12}, /* past U+10FFFF */
        {"\0user\0pen\xe2\x82", 11},         /* truncated */
    };
    f->opts.flags = SASL_F_TLS;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sasl_server *s = fx_new(f, "PLAIN");
        print_message("case %zu\n", i);
        assert_int_equal(sasl_server_step(s, cases[i].msg, cases[i].len, &f->out), SASL_FAILURE);
        assert_failed(s, SASL_COND_MALFORMED_REQUEST, NULL);
        sasl_server_free(&s);
    }
}

/* ---- ANONYMOUS ---- */

static void test_sasl__anonymous_with_trace_data(void **state)
{
    struct fx *f = *state;
    f->opts.flags = SASL_F_ANONYMOUS;
    struct sasl_server *s = fx_new(f, "ANONYMOUS");
    assert_int_equal(step_str(f, s, "sirhc@example.com"), SASL_SUCCESS);
    assert_true(sasl_server_is_anonymous(s));
    assert_null(sasl_server_authcid(s));
    assert_string_equal(sasl_server_anon_trace(s), "sirhc@example.com");
    sasl_server_free(&s);

    /* No initial response, then an empty response: no trace. */
    s = fx_new(f, "ANONYMOUS");
    assert_int_equal(sasl_server_step(s, NULL, 0, &f->out), SASL_CONTINUE);
    assert_int_equal(sasl_server_step(s, "", 0, &f->out), SASL_SUCCESS);
    assert_true(sasl_server_is_anonymous(s));
    assert_null(sasl_server_anon_trace(s));
    sasl_server_free(&s);

    /* 255 characters (multi-byte ones count once) are allowed, 256 are not. */
    char trace[1100] = "";
    for (int i = 0; i < 255; i++)
        strcat(trace, "\xc3\xa9");
    s = fx_new(f, "ANONYMOUS");
    assert_int_equal(step_str(f, s, trace), SASL_SUCCESS);
    sasl_server_free(&s);
    strcat(trace, "x");
    s = fx_new(f, "ANONYMOUS");
    assert_int_equal(step_str(f, s, trace), SASL_FAILURE);
    assert_failed(s, SASL_COND_MALFORMED_REQUEST, NULL);
    assert_false(sasl_server_is_anonymous(s));
    sasl_server_free(&s);

    s = fx_new(f, "ANONYMOUS");
    assert_int_equal(step_str(f, s, "line\nbreak"), SASL_FAILURE);
    sasl_server_free(&s);
}

static void test_sasl__anonymous_needs_host_permission(void **state)
{
    struct fx *f = *state;
    f->opts.flags = SASL_F_TLS;
    struct sasl_server *s = fx_new(f, "ANONYMOUS");
    assert_int_equal(step_str(f, s, "trace"), SASL_FAILURE);
    assert_failed(s, SASL_COND_INVALID_MECHANISM, NULL);
    assert_false(sasl_server_is_anonymous(s));
    sasl_server_free(&s);
}

/* ---- The exchange as a whole ---- */

static void test_sasl__default_nonce_is_fresh_and_usable(void **state)
{
    struct fx *f = *state;
    char sf1[512], sf2[512], n1[128], n2[128];
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(
        scram_run(f, s, SCRAM_HASH_SHA1, "n,,", "user", "pencil", NULL, sf1, sizeof(sf1)),
        SASL_SUCCESS);
    sasl_server_free(&s);
    s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(
        scram_run(f, s, SCRAM_HASH_SHA1, "n,,", "user", "pencil", NULL, sf2, sizeof(sf2)),
        SASL_SUCCESS);
    sasl_server_free(&s);
    assert_int_equal(sscanf(sf1, "r=clientnonce123%127[^,]", n1), 1);
    assert_int_equal(sscanf(sf2, "r=clientnonce123%127[^,]", n2), 1);
    assert_true(strlen(n1) >= 24);
    assert_string_not_equal(n1, n2);
}

static void test_sasl__bad_server_nonce_seam_fails_safely(void **state)
{
    struct fx *f = *state;
    f->cbs.server_nonce_cb = fx_server_nonce_cb;
    f->server_nonce = "has,a,comma,in,it,which,is,bad";
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(step_str(f, s, "n,,n=user,r=abc"), SASL_FAILURE);
    assert_failed(s, SASL_COND_TEMPORARY_AUTH_FAILURE, NULL);
    sasl_server_free(&s);
    f->server_nonce = "short";
    s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(step_str(f, s, "n,,n=user,r=abc"), SASL_FAILURE);
    sasl_server_free(&s);
}

static void test_sasl__message_size_is_limited(void **state)
{
    struct fx *f = *state;
    char big[600];
    f->opts.max_message = 512;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "n,,n=user,r=", 12);
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(step_str(f, s, big), SASL_FAILURE);
    assert_failed(s, SASL_COND_MALFORMED_REQUEST, "message too long");
    sasl_server_free(&s);
    big[512] = '\0';
    s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(step_str(f, s, big), SASL_CONTINUE);
    sasl_server_free(&s);

    /* The largest legal first and final messages still get a protocol answer. */
    memcpy(big + 412, ",x=", 3); /* a 400-byte nonce, padded by an extension */
    s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(step_str(f, s, big), SASL_CONTINUE);
    char final[600];
    int n = snprintf(final, sizeof(final), "c=biws,%.*s,x=", (int)strcspn(f->out.data, ","),
                     f->out.data);
    while (n < 512 - 31)
        final[n++] = 'z';
    snprintf(final + n, sizeof(final) - (size_t)n, ",p=AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert_int_equal(strlen(final), 512);
    assert_int_equal(step_str(f, s, final), SASL_FAILURE);
    assert_failed(s, SASL_COND_NOT_AUTHORIZED, "invalid-proof");
    sasl_server_free(&s);
}

static void test_sasl__small_output_buffer_fails_temporarily(void **state)
{
    struct fx *f = *state;
    struct buf tiny;
    buf_init(&tiny, 16);
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(sasl_server_step(s, "n,,n=user,r=abc", 15, &tiny), SASL_FAILURE);
    assert_failed(s, SASL_COND_TEMPORARY_AUTH_FAILURE, NULL);
    sasl_server_free(&s);
    buf_cleanup(&tiny);
}

static void test_sasl__finished_exchange_accepts_no_more_input(void **state)
{
    struct fx *f = *state;
    char sf[512];
    struct sasl_server *s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(
        scram_run(f, s, SCRAM_HASH_SHA1, "n,,", "user", "pencil", NULL, sf, sizeof(sf)),
        SASL_SUCCESS);
    assert_non_null(sasl_server_authcid(s));
    assert_int_equal(step_str(f, s, "anything"), SASL_FAILURE);
    assert_failed(s, SASL_COND_MALFORMED_REQUEST, NULL);
    assert_int_equal(step_str(f, s, "again"), SASL_FAILURE);
    sasl_server_free(&s);

    s = fx_new(f, "SCRAM-SHA-1");
    assert_int_equal(step_str(f, s, "n,,n=user,r=abc"), SASL_CONTINUE);
    sasl_server_abort(s);
    assert_failed(s, SASL_COND_ABORTED, NULL);
    assert_int_equal(step_str(f, s, "c=biws,r=abc,p=AAAA"), SASL_FAILURE);
    assert_int_equal(sasl_server_condition(s), SASL_COND_ABORTED);
    sasl_server_free(&s);
    sasl_server_free(&s); /* NULL-safe */
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_sasl__rfc5802_sha1_example),
        T(test_sasl__rfc7677_sha256_example),
        T(test_sasl__no_initial_response_gets_empty_challenge),
        cmocka_unit_test(test_sasl__derived_creds_check_password),
        cmocka_unit_test(test_sasl__creds_match_rfc_stored_key),
        T(test_sasl__scram_wrong_password),
        T(test_sasl__scram_unknown_user_fails_like_wrong_password),
        T(test_sasl__scram_lookup_error_is_temporary),
        T(test_sasl__scram_malformed_client_first),
        T(test_sasl__scram_malformed_client_final),
        T(test_sasl__scram_authzid_is_decoded_and_authorized),
        T(test_sasl__y_flag_downgrade_detected),
        T(test_sasl__plus_exchange_binds_channel),
        T(test_sasl__plus_channel_binding_mismatch),
        T(test_sasl__bad_gs2_header_for_plus),
        T(test_sasl__plus_refused_without_tls),
        T(test_sasl__mechanism_list_follows_flags),
        T(test_sasl__unknown_mechanism_is_invalid),
        T(test_sasl__plain_without_authzid),
        T(test_sasl__plain_with_authzid),
        T(test_sasl__plain_wrong_password),
        T(test_sasl__plain_prepares_password_and_falls_back_to_sha1),
        T(test_sasl__plain_needs_tls),
        T(test_sasl__plain_malformed),
        T(test_sasl__anonymous_with_trace_data),
        T(test_sasl__anonymous_needs_host_permission),
        T(test_sasl__default_nonce_is_fresh_and_usable),
        T(test_sasl__bad_server_nonce_seam_fails_safely),
        T(test_sasl__message_size_is_limited),
        T(test_sasl__small_output_buffer_fails_temporarily),
        T(test_sasl__finished_exchange_accepts_no_more_input),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
