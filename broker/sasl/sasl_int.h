/*
 * sasl_int.h - what sasl.c (registry, PLAIN, ANONYMOUS) and scram.c (SCRAM) share.
 * Private to broker/sasl/.
 */
#ifndef HERALD_SASL_INT_H
#define HERALD_SASL_INT_H

#include "herald/sasl.h"

#define SASL_FAKE_SECRET_MAX 64

enum sasl_state {
    SASL_STATE_START,      /* waiting for the client's first message */
    SASL_STATE_ASKED,      /* sent an empty challenge, waiting for the first message */
    SASL_STATE_SCRAM_SENT, /* sent server-first-message, waiting for client-final */
    SASL_STATE_SUCCESS,
    SASL_STATE_FAILED,
};

/* SCRAM exchange state, kept from the first message to the final one. */
struct scram_state {
    struct scram_creds creds;
    bool fake;               /* unknown user: must fail at the proof */
    struct buf gs2_header;   /* "n,," / "y,a=...," / "p=type,..," as the client sent it */
    struct buf cbind_data;   /* channel-binding data (-PLUS only) */
    struct buf nonce;        /* client nonce + server nonce */
    struct buf auth_message; /* client-first-bare "," server-first (then more) */
};

struct sasl_server {
    enum sasl_mech mech; /* SASL_MECH_COUNT: unknown */
    enum sasl_state state;
    const struct sasl_server_cbs *cbs;
    void *cb_arg;
    struct sasl_server_opts opts;
    uint8_t fake_secret[SASL_FAKE_SECRET_MAX];
    enum sasl_condition cond;
    const char *text;
    char *authcid;
    char *authzid;
    char *anon_trace;
    bool anonymous;
    struct scram_state scram;
};

/* Channel-binding types usable with these options (none without TLS). */
unsigned sasl_opts_cb_types(const struct sasl_server_opts *opts);
bool sasl_mech_is_plus(enum sasl_mech m);

/* Record a failure (first one wins) and drop any identity. Returns SASL_FAILURE. */
enum sasl_result sasl_server_fail(struct sasl_server *s, enum sasl_condition cond,
                                  const char *text);

/*
 * Is s[0..len) well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF) without NUL?
 * When nchars is not NULL it receives the number of code points.
 */
bool sasl_utf8_valid(const char *s, size_t len, size_t *nchars);

/* Run prep_username_cb on raw and store the result as s->authcid. Fails the exchange. */
HERALD_MUST_CHECK enum herald_rc sasl_server_prep_authcid(struct sasl_server *s, const char *raw,
                                                          size_t len);

/*
 * Fill fake credentials for an unknown `authcid` (RFC 6120 §6.5.10): a salt derived from the
 * fake secret and the name (or random without a secret), opts.fake_iterations, and keys
 * nobody knows. HERALD_EIO if OpenSSL fails.
 */
HERALD_MUST_CHECK enum herald_rc scram_creds_fake(const struct sasl_server *s, enum scram_hash hash,
                                                  const char *authcid, struct scram_creds *out);

/*
 * Credentials verified: run authorize_cb (or refuse any authzid without one) and either
 * succeed or fail the exchange.
 */
enum sasl_result sasl_server_authorize(struct sasl_server *s);

/* Is a record from lookup_creds_cb usable for `hash`? */
bool scram_creds_usable(const struct scram_creds *c, enum scram_hash hash);

/* Get credentials for authcid: real, fake (*fake = true) or a failure (exchange failed). */
HERALD_MUST_CHECK enum herald_rc sasl_server_creds(struct sasl_server *s, enum scram_hash hash,
                                                   struct scram_creds *out, bool *fake);

/* SCRAM state lifetime and steps (scram.c). */
void scram_state_init(struct scram_state *st, size_t limit);
void scram_state_cleanup(struct scram_state *st);
enum sasl_result scram_server_first(struct sasl_server *s, const char *in, size_t len,
                                    struct buf *out);
enum sasl_result scram_server_final(struct sasl_server *s, const char *in, size_t len,
                                    struct buf *out);

#endif
