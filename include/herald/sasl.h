/*
 * sasl.h - server side of the SASL mechanisms Herald offers, as a pure module.
 *
 * Mechanisms: SCRAM-SHA-256(-PLUS) and SCRAM-SHA-1(-PLUS) (RFC 5802, RFC 7677), with the
 * channel-binding types tls-exporter (RFC 9266) and tls-server-end-point (RFC 5929);
 * PLAIN (RFC 4616); ANONYMOUS (RFC 4505).
 *
 * No sockets, no XML, no storage. The stream layer owns the XMPP framing (RFC 6120 §6.4):
 * it base64-decodes the character data of <auth/> and <response/> (base64.h; a decoding
 * error is <incorrect-encoding/>, which this module never sees), passes the bytes to
 * sasl_server_step(), and base64-encodes what comes back into <challenge/> or <success/>.
 * Credentials, name preparation, authorisation and channel-binding data come from callbacks
 * (struct sasl_server_cbs), so the module can be tested with fixed inputs.
 *
 * Typical use by the stream layer:
 *
 *   struct sasl_server_opts o;
 *   sasl_server_opts_init(&o);
 *   o.flags = SASL_F_TLS; o.cb_types = SASL_CB_TLS_EXPORTER | SASL_CB_TLS_SERVER_END_POINT;
 *   n = sasl_mechanism_list(&o, names, SASL_MECH_COUNT);       -> <mechanisms/>
 *   ... <auth mechanism=M>data</auth> ...
 *   s = sasl_server_new(M, &cbs, conn, &o);                     -> NULL only on ENOMEM
 *   r = sasl_server_step(s, data-or-NULL, len, &out);
 *   SASL_CONTINUE -> <challenge>base64(out)</challenge>, wait for <response/>, step again
 *   SASL_SUCCESS  -> <success>base64(out)</success> (empty element when out.len == 0),
 *                    then read sasl_server_authcid()/authzid()/is_anonymous(), free
 *   SASL_FAILURE  -> <failure><sasl_condition_name(cond)/><text>text</text></failure>, free
 *
 * The same opts must be used for the mechanism list and for every exchange on that stream:
 * whether the -PLUS variants were advertised (RFC 5802 §6 downgrade detection of the 'y'
 * flag) is derived from them.
 *
 * Threading: none; an exchange is used from the thread that made it. Nothing here keeps
 * global state.
 */
#ifndef HERALD_SASL_H
#define HERALD_SASL_H

#include "herald/common.h"
#include "herald/buf.h"

/* ---- SCRAM credentials (what the user database stores; never the password) ---- */

enum scram_hash {
    SCRAM_HASH_SHA1 = 0,
    SCRAM_HASH_SHA256 = 1,
};
#define SCRAM_HASH_COUNT 2

#define SCRAM_KEY_MAX            32       /* largest digest (SHA-256) */
#define SCRAM_SALT_MIN           16       /* shortest salt scram_creds_derive() makes */
#define SCRAM_SALT_DEFAULT       16       /* the salt length scram_creds_derive() uses */
#define SCRAM_SALT_MAX           64       /* longest salt accepted anywhere */
#define SCRAM_ITERATIONS_MIN     4096     /* fewest iterations scram_creds_derive() accepts */
#define SCRAM_ITERATIONS_DEFAULT 4096     /* RFC 5802 §5.1 / RFC 7677 §4 floor */
#define SCRAM_ITERATIONS_MAX     10000000 /* a bound so a bad record cannot stall the loop */
#define SCRAM_PASSWORD_MAX       1024     /* longest (prepared) password, in bytes */

/*
 * One user's credentials for one hash (RFC 5802 §3): StoredKey = H(HMAC(SaltedPassword,
 * "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key"). Keys use
 * scram_hash_len(hash) bytes of their arrays. A value type: copy it freely.
 *
 * salt_len is 1..SCRAM_SALT_MAX when the record is used for login: new credentials always
 * get SCRAM_SALT_DEFAULT (>= SCRAM_SALT_MIN) random bytes, but shorter stored salts are
 * honoured (RFC 5802's own example uses 12 bytes). iterations is 1..SCRAM_ITERATIONS_MAX.
 */
struct scram_creds {
    enum scram_hash hash;
    uint32_t iterations;
    size_t salt_len;
    uint8_t salt[SCRAM_SALT_MAX];
    uint8_t stored_key[SCRAM_KEY_MAX];
    uint8_t server_key[SCRAM_KEY_MAX];
};

/* Digest length: 20 for SHA-1, 32 for SHA-256. */
size_t scram_hash_len(enum scram_hash hash);

/*
 * Credentials for both hashes from an already prepared password (the caller applies the
 * PRECIS OpaqueString profile, RFC 8265 §4.2, the same way for every login path), with a
 * fresh random salt per hash (RAND_bytes) and `iterations` PBKDF2 rounds.
 * out[SCRAM_HASH_SHA1] and out[SCRAM_HASH_SHA256] are filled.
 * HERALD_EINVAL: iterations outside SCRAM_ITERATIONS_MIN..SCRAM_ITERATIONS_MAX, or a
 * password that is empty or longer than SCRAM_PASSWORD_MAX. HERALD_EIO: the random
 * generator or OpenSSL failed. out is zeroed on any failure.
 */
HERALD_MUST_CHECK enum herald_rc scram_creds_derive(const char *password, size_t len,
                                                    uint32_t iterations,
                                                    struct scram_creds out[SCRAM_HASH_COUNT]);

/*
 * Credentials for one hash with a given salt (deterministic; used for PLAIN logins, for
 * re-keying, and by tests with the RFC vectors). HERALD_EINVAL for an empty or over-long
 * password, salt_len outside 1..SCRAM_SALT_MAX or iterations outside
 * 1..SCRAM_ITERATIONS_MAX; HERALD_EIO if OpenSSL fails.
 */
HERALD_MUST_CHECK enum herald_rc scram_creds_compute(enum scram_hash hash, const char *password,
                                                     size_t len, const uint8_t *salt,
                                                     size_t salt_len, uint32_t iterations,
                                                     struct scram_creds *out);

/*
 * Does `password` (prepared) match the stored credentials? Recomputes SaltedPassword with
 * the stored salt and iteration count and compares StoredKey in constant time. False on
 * mismatch and also on any error (invalid record, OpenSSL failure): it fails closed.
 */
bool scram_creds_check_password(const struct scram_creds *creds, const char *password, size_t len);

/* ---- Mechanisms, flags, channel bindings, failure conditions ---- */

/* In the order the server prefers them, which is the order sasl_mechanism_list() uses. */
enum sasl_mech {
    SASL_MECH_SCRAM_SHA_256_PLUS = 0,
    SASL_MECH_SCRAM_SHA_1_PLUS,
    SASL_MECH_SCRAM_SHA_256,
    SASL_MECH_SCRAM_SHA_1,
    SASL_MECH_PLAIN,
    SASL_MECH_ANONYMOUS,
};
#define SASL_MECH_COUNT 6

/* The IANA name ("SCRAM-SHA-256-PLUS", ...). Static string. */
const char *sasl_mech_name(enum sasl_mech mech);

/* struct sasl_server_opts.flags */
enum sasl_flag {
    SASL_F_TLS = 1u << 0,            /* the stream is protected by TLS */
    SASL_F_PLAIN_INSECURE = 1u << 1, /* listener allows PLAIN without TLS (tests, localhost) */
    SASL_F_ANONYMOUS = 1u << 2,      /* the host allows ANONYMOUS logins */
};

/*
 * Channel-binding types, as bits for struct sasl_server_opts.cb_types. The TLS layer sets
 * the bits for the types it can produce on this connection (see channel_binding_cb).
 */
enum sasl_cb_type {
    SASL_CB_TLS_EXPORTER = 1u << 0,         /* RFC 9266 */
    SASL_CB_TLS_SERVER_END_POINT = 1u << 1, /* RFC 5929 §4 */
};
#define SASL_CB_TYPE_COUNT 2

/*
 * The registered name ("tls-exporter", "tls-server-end-point") for one type, e.g. for the
 * XEP-0440 <sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'/> feature, which lists one
 * <channel-binding type='...'/> per bit set in cb_types. NULL for a value that is not
 * exactly one known bit.
 */
const char *sasl_cb_type_name(enum sasl_cb_type type);

/* RFC 6120 §6.5 failure conditions; SASL_COND_NONE while not failed. */
enum sasl_condition {
    SASL_COND_NONE = 0,
    SASL_COND_ABORTED,
    SASL_COND_ACCOUNT_DISABLED,
    SASL_COND_CREDENTIALS_EXPIRED,
    SASL_COND_ENCRYPTION_REQUIRED,
    SASL_COND_INCORRECT_ENCODING,
    SASL_COND_INVALID_AUTHZID,
    SASL_COND_INVALID_MECHANISM,
    SASL_COND_MALFORMED_REQUEST,
    SASL_COND_MECHANISM_TOO_WEAK,
    SASL_COND_NOT_AUTHORIZED,
    SASL_COND_TEMPORARY_AUTH_FAILURE,
};

/* The child element name of <failure/> ("not-authorized", ...); NULL for SASL_COND_NONE. */
const char *sasl_condition_name(enum sasl_condition cond);

/* ---- Per-stream options and callbacks ---- */

struct sasl_server_opts {
    unsigned flags;    /* enum sasl_flag bits */
    unsigned cb_types; /* enum sasl_cb_type bits the transport can produce (needs SASL_F_TLS) */
    /*
     * Largest client message accepted, in decoded bytes; a longer one fails with
     * malformed-request. Must be at least 256. Default 4096.
     */
    size_t max_message;
    /*
     * What an unknown user's SCRAM challenge shows (RFC 6120 §6.5.10: no user enumeration):
     * set fake_iterations to the iteration count accounts are created with (default
     * SCRAM_ITERATIONS_DEFAULT). fake_secret (copied by sasl_server_new, up to 64 bytes,
     * at least 16 when set) is a per-server random secret that makes an unknown user's fake
     * salt stable across attempts, as a real user's is; with no secret (len 0) the fake
     * salt is random each time, which an attacker who retries can notice.
     */
    uint32_t fake_iterations;
    const uint8_t *fake_secret;
    size_t fake_secret_len;
};

/* Defaults: no flags, no channel binding, max_message 4096, fake_iterations 4096. */
void sasl_server_opts_init(struct sasl_server_opts *opts);

/*
 * The mechanisms to advertise for these options, best first: SCRAM-SHA-256-PLUS,
 * SCRAM-SHA-1-PLUS (only with SASL_F_TLS and some cb_types), SCRAM-SHA-256, SCRAM-SHA-1,
 * PLAIN (only with SASL_F_TLS or SASL_F_PLAIN_INSECURE), ANONYMOUS (only with
 * SASL_F_ANONYMOUS). Stores up to `max` static names in names[] and returns how many apply
 * (which may exceed max; SASL_MECH_COUNT always suffices).
 */
size_t sasl_mechanism_list(const struct sasl_server_opts *opts, const char **names, size_t max);

/*
 * Callbacks. `arg` is the cb_arg given to sasl_server_new(). Strings passed in are
 * NUL-terminated and valid only during the call. Callbacks are called only from inside
 * sasl_server_step(); none may free the exchange.
 */
struct sasl_server_cbs {
    /*
     * Required for SCRAM and PLAIN. Fill *out for the prepared user name `authcid` and
     * `hash` (out->hash must equal hash). HERALD_ENOTFOUND for an unknown user: SCRAM then
     * carries on with fake credentials and fails at the proof, PLAIN fails after the same
     * work, both with not-authorized. Any other error gives temporary-auth-failure.
     */
    enum herald_rc (*lookup_creds_cb)(void *arg, const char *authcid, enum scram_hash hash,
                                      struct scram_creds *out);
    /*
     * Required for SCRAM and PLAIN. Prepare the user name the client sent (`raw`, valid
     * UTF-8 without NUL, already =2C/=3D-decoded for SCRAM) into out, e.g. with
     * jid_prep_local() (PRECIS UsernameCaseMapped). HERALD_EINVAL (or any error) fails the
     * exchange with not-authorized; an empty result fails the same way.
     */
    enum herald_rc (*prep_username_cb)(void *arg, const char *raw, size_t len, struct buf *out);
    /*
     * Optional (PLAIN only). Prepare the password the client sent the way passwords were
     * prepared before scram_creds_derive() (PRECIS OpaqueString). NULL: use it as sent.
     * Errors fail with not-authorized. out holds a password: the module wipes it after use.
     */
    enum herald_rc (*prep_password_cb)(void *arg, const char *raw, size_t len, struct buf *out);
    /*
     * Required for the -PLUS mechanisms. Append the channel-binding data of `type` for this
     * connection to out (see the end of this header for the OpenSSL calls).
     * HERALD_ENOTFOUND: not available on this connection (the client's choice then fails
     * with not-authorized); any other error gives temporary-auth-failure.
     */
    enum herald_rc (*channel_binding_cb)(void *arg, enum sasl_cb_type type, struct buf *out);
    /*
     * Optional. Called after the credentials were verified and before success, for SCRAM
     * and PLAIN (not ANONYMOUS). `authzid` is NULL when the client sent none. Return
     * SASL_COND_NONE to allow, or the condition to fail with (invalid-authzid when authcid
     * may not act as authzid, account-disabled, credentials-expired ...).
     * NULL: every exchange that carries an authzid fails with invalid-authzid.
     */
    enum sasl_condition (*authorize_cb)(void *arg, const char *authcid, const char *authzid);
    /*
     * Optional test seam. Append the server's part of the SCRAM nonce (printable ASCII
     * without ',', at least 18 characters) to out. NULL: 24 bytes from RAND_bytes, base64
     * encoded (32 characters). A bad nonce or an error gives temporary-auth-failure.
     */
    enum herald_rc (*server_nonce_cb)(void *arg, struct buf *out);
};

/* ---- One exchange ---- */

struct sasl_server;

enum sasl_result {
    SASL_CONTINUE, /* send out as <challenge/>, wait for <response/> */
    SASL_SUCCESS,  /* send out as additional data with <success/> (empty: none) */
    SASL_FAILURE,  /* send <failure/> with sasl_server_condition() and _text() */
};

/*
 * Start an exchange for the mechanism named `mechanism` (from <auth mechanism='...'/>;
 * exact, case-sensitive match; NULL means the attribute was missing). cbs and cb_arg are
 * borrowed and must outlive the exchange; opts is copied.
 *
 * Returns NULL only when out of memory. A mechanism that cannot be used still yields an
 * exchange, already failed, whose first step returns SASL_FAILURE:
 *   invalid-mechanism    unknown or missing name, ANONYMOUS without SASL_F_ANONYMOUS,
 *                        a -PLUS variant with TLS but no cb_types
 *   encryption-required  PLAIN or a -PLUS variant without SASL_F_TLS (PLAIN is allowed
 *                        with SASL_F_PLAIN_INSECURE)
 *
 * Callers' bugs (not peer input) abort through herald_assert(): a missing required
 * callback, max_message < 256, a fake secret shorter than 16 or longer than 64 bytes.
 */
HERALD_MUST_CHECK struct sasl_server *sasl_server_new(const char *mechanism,
                                                      const struct sasl_server_cbs *cbs,
                                                      void *cb_arg,
                                                      const struct sasl_server_opts *opts);

/* Free the exchange and wipe its secrets. Sets *s to NULL; NULL-safe. */
void sasl_server_free(struct sasl_server **s);

/*
 * Feed one client message and get the server's answer in `out`.
 *
 * in/inlen: the decoded client data. in == NULL means "no data at all", i.e. an <auth/>
 * without initial response (RFC 6120 §6.4.2): every mechanism here is client-first, so
 * the server answers with an empty challenge and waits for the <response/>. in != NULL
 * with inlen == 0 is a present but empty message ("=").
 *
 * out is reset (buf_reset) and then receives the raw server message: the SCRAM
 * server-first-message (CONTINUE), the server-final-message "v=..." (SUCCESS), or
 * nothing. Its limit should allow max_message + 256 bytes; if appending to it fails the
 * exchange fails with temporary-auth-failure.
 *
 * Never aborts on any input. Once the result is SUCCESS or FAILURE the exchange is over:
 * a further step turns it into a failure (malformed-request) and clears the identities.
 */
HERALD_MUST_CHECK enum sasl_result sasl_server_step(struct sasl_server *s, const void *in,
                                                    size_t inlen, struct buf *out);

/* The client sent <abort/>: fail the exchange with SASL_COND_ABORTED. */
void sasl_server_abort(struct sasl_server *s);

/* The mechanism of this exchange; SASL_MECH_COUNT when the name was not recognised. */
enum sasl_mech sasl_server_mech(const struct sasl_server *s);

/*
 * Results, valid until sasl_server_free(); NULL unless the exchange succeeded.
 * authcid: the prepared user name (prep_username_cb's output); NULL for ANONYMOUS.
 * authzid: the authorisation identity exactly as the client sent it (SCRAM's =2C/=3D
 *          decoded), NULL when absent; authorize_cb has already approved it.
 * anon_trace: ANONYMOUS trace information (RFC 4505 §2, valid UTF-8 without control
 *          characters, at most 255 characters), NULL when the client sent none. Has no
 *          meaning; for logs only.
 */
const char *sasl_server_authcid(const struct sasl_server *s);
const char *sasl_server_authzid(const struct sasl_server *s);
bool sasl_server_is_anonymous(const struct sasl_server *s);
const char *sasl_server_anon_trace(const struct sasl_server *s);

/*
 * Why the exchange failed (SASL_COND_NONE if it has not), and a short static ASCII text
 * for <text/> and logs. For SCRAM failures the text is the RFC 5802 §7 server-error-value
 * when one applies ("invalid-proof", "channel-bindings-dont-match",
 * "server-does-support-channel-binding", "unsupported-channel-binding-type",
 * "extensions-not-supported", "invalid-encoding", "invalid-username-encoding",
 * "other-error"). Unknown users and wrong passwords give the same condition and text.
 */
enum sasl_condition sasl_server_condition(const struct sasl_server *s);
const char *sasl_server_text(const struct sasl_server *s);

/*
 * Channel-binding data for channel_binding_cb, with OpenSSL 3 on the server's SSL *ssl
 * (from bufferevent_openssl_get_ssl()):
 *
 * tls-exporter (RFC 9266): set SASL_CB_TLS_EXPORTER only when
 *   SSL_version(ssl) >= TLS1_3_VERSION (TLS 1.2 would need the extended master secret),
 *   then: uint8_t ekm[32];
 *   SSL_export_keying_material(ssl, ekm, 32, "EXPORTER-Channel-Binding", 24, NULL, 0, 0) == 1
 *
 * tls-server-end-point (RFC 5929 §4.1): hash of the server's own certificate
 *   X509 *cert = SSL_get_certificate(ssl);
 *   int md_nid; X509_get_signature_info(cert, &md_nid, NULL, NULL, NULL);
 *   const EVP_MD *md = (md_nid == NID_md5 || md_nid == NID_sha1) ? EVP_sha256()
 *                                                                : EVP_get_digestbynid(md_nid);
 *   unsigned char h[EVP_MAX_MD_SIZE]; unsigned int n;
 *   X509_digest(cert, md, h, &n) == 1
 *   md is NULL for certificates signed without a separate digest (Ed25519, Ed448): the type
 *   is undefined there, so leave SASL_CB_TLS_SERVER_END_POINT unset.
 */

#endif
