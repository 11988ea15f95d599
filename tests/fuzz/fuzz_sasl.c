/*
 * fuzz_sasl.c - libFuzzer target: client messages into a SCRAM exchange.
 *
 * Input layout: one control byte, then up to three client messages separated by 0xFF (a
 * byte that never occurs in valid UTF-8, so it never needs to appear inside a message).
 *   bits 0-1  mechanism: SCRAM-SHA-256, SCRAM-SHA-1, SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS
 *   bit 2     TLS            bit 3  tls-exporter available
 *   bit 4     tls-server-end-point available
 *   bit 5     no initial response (first step gets NULL)
 *   bit 6     the user database is down (lookup fails)
 * The server nonce, the credentials (user "user", password "pencil", the RFC 5802 and
 * RFC 7677 salts) and the channel-binding data are fixed, so the seeds in
 * corpus/fuzz_sasl/ are complete successful exchanges the fuzzer can mutate from.
 *
 * Beyond "no crash, no leak, no UB", it checks the module's contract: a success names a
 * user, a failure names a condition and no user, and the output is empty on failure.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "herald/base64.h"
#include "herald/sasl.h"

#define FUZZ_CB_DATA "fuzz-channel-binding-data-32byte"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scram_creds fuzz_creds[SCRAM_HASH_COUNT];
static bool fuzz_db_down;

static void fuzz_init(void)
{
    static bool done;
    static const char *const salts[SCRAM_HASH_COUNT] = {"QSXCR+Q6sek8bf92",
                                                        "W22ZaJ0SNY7soEsUEjb6gQ=="};
    if (done)
        return;
    for (unsigned h = 0; h < SCRAM_HASH_COUNT; h++) {
        struct buf salt;
        buf_init(&salt, 0);
        if (base64_decode(&salt, salts[h], strlen(salts[h])) ||
            scram_creds_compute((enum scram_hash)h, "pencil", 6, (const uint8_t *)salt.data,
                                salt.len, 4096, &fuzz_creds[h]))
            abort();
        buf_cleanup(&salt);
    }
    done = true;
}

static enum herald_rc lookup_cb(void *arg, const char *authcid, enum scram_hash hash,
                                struct scram_creds *out)
{
    (void)arg;
    if (fuzz_db_down)
        return HERALD_EIO;
    if (strcmp(authcid, "user") != 0)
        return HERALD_ENOTFOUND;
    *out = fuzz_creds[hash];
    return HERALD_OK;
}

static enum herald_rc prep_username_cb(void *arg, const char *raw, size_t len, struct buf *out)
{
    (void)arg;
    if (len > 0 && raw[0] == '!')
        return HERALD_EINVAL; /* reach the refusal path too */
    return buf_append(out, raw, len);
}

static enum herald_rc channel_binding_cb(void *arg, enum sasl_cb_type type, struct buf *out)
{
    (void)arg;
    (void)type;
    return buf_append_str(out, FUZZ_CB_DATA);
}

static enum sasl_condition authorize_cb(void *arg, const char *authcid, const char *authzid)
{
    (void)arg;
    (void)authcid;
    if (authzid == NULL || strcmp(authzid, "user@example.org") == 0)
        return SASL_COND_NONE;
    return SASL_COND_INVALID_AUTHZID;
}

static enum herald_rc server_nonce_cb(void *arg, struct buf *out)
{
    (void)arg;
    return buf_append_str(out, "3rfcNHYJY1ZVvWVs7j");
}

static void check_contract(struct sasl_server *s, enum sasl_result r, const struct buf *out)
{
    switch (r) {
    case SASL_SUCCESS:
        if (sasl_server_authcid(s) == NULL || sasl_server_condition(s) != SASL_COND_NONE)
            abort();
        break;
    case SASL_FAILURE:
        if (sasl_server_authcid(s) != NULL || sasl_server_condition(s) == SASL_COND_NONE ||
            sasl_server_text(s) == NULL || out->len != 0)
            abort();
        break;
    case SASL_CONTINUE:
        if (sasl_server_authcid(s) != NULL)
            abort();
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const mechs[4] = {"SCRAM-SHA-256", "SCRAM-SHA-1", "SCRAM-SHA-256-PLUS",
                                         "SCRAM-SHA-1-PLUS"};
    static const uint8_t secret[16] = "fuzz fake secret";
    if (size < 1)
        return 0;
    fuzz_init();
    uint8_t ctl = data[0];
    data++;
    size--;

    struct sasl_server_cbs cbs = {
        .lookup_creds_cb = lookup_cb,
        .prep_username_cb = prep_username_cb,
        .channel_binding_cb = channel_binding_cb,
        .authorize_cb = authorize_cb,
        .server_nonce_cb = server_nonce_cb,
    };
    struct sasl_server_opts opts;
    sasl_server_opts_init(&opts);
    opts.flags = (ctl & 4) ? SASL_F_TLS : 0;
    opts.cb_types =
        ((ctl & 8) ? SASL_CB_TLS_EXPORTER : 0) | ((ctl & 16) ? SASL_CB_TLS_SERVER_END_POINT : 0);
    opts.fake_secret = secret;
    opts.fake_secret_len = sizeof(secret);
    fuzz_db_down = (ctl & 64) != 0;

    struct sasl_server *s = sasl_server_new(mechs[ctl & 3], &cbs, NULL, &opts);
    if (s == NULL)
        return 0;
    struct buf out;
    buf_init(&out, opts.max_message + 256);

    enum sasl_result r = SASL_CONTINUE;
    if (ctl & 32) {
        r = sasl_server_step(s, NULL, 0, &out);
        check_contract(s, r, &out);
    }
    for (int msgs = 0; msgs < 3 && r == SASL_CONTINUE; msgs++) {
        const uint8_t *sep = memchr(data, 0xff, size);
        size_t len = sep ? (size_t)(sep - data) : size;
        r = sasl_server_step(s, data, len, &out);
        check_contract(s, r, &out);
        if (sep == NULL) {
            size = 0;
            break;
        }
        data += len + 1;
        size -= len + 1;
    }
    if (r != SASL_CONTINUE) {
        /* A finished exchange must stay finished whatever comes next. */
        r = sasl_server_step(s, data, size, &out);
        if (r != SASL_FAILURE)
            abort();
        check_contract(s, r, &out);
    }
    buf_cleanup(&out);
    sasl_server_free(&s);
    return 0;
}
