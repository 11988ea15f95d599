/*
 * accounts.h - creating, re-keying and deleting accounts, shared by `herald user`,
 * in-band registration (XEP-0077) and the server. Names and passwords are prepared here
 * (PRECIS UsernameCaseMapped and OpaqueString, RFC 8265) so every path agrees.
 */
#ifndef HERALD_ACCOUNTS_H
#define HERALD_ACCOUNTS_H

#include "herald/arena.h"
#include "herald/common.h"

struct store_txn;

/*
 * Prepare a localpart into "local@domain" in arena a. HERALD_EINVAL when the name is
 * not a valid localpart.
 */
HERALD_MUST_CHECK enum herald_rc accounts_bare_jid(struct arena *a, const char *domain,
                                                   const char *local, const char **bare);
/* Prepare a password (OpaqueString). HERALD_EINVAL when it is empty or not allowed. */
HERALD_MUST_CHECK enum herald_rc accounts_prep_password(struct arena *a, const char *pw, size_t len,
                                                        const char **out, size_t *outlen);

enum accounts_mode { ACCOUNTS_CREATE, ACCOUNTS_UPDATE, ACCOUNTS_UPSERT };
/*
 * Store credentials for `bare` derived from `password` (raw). In a store_begin()
 * transaction. CREATE fails with HERALD_ECONFLICT if the account exists, UPDATE with
 * HERALD_ENOTFOUND if it does not. HERALD_EINVAL for an unacceptable password.
 */
HERALD_MUST_CHECK enum herald_rc accounts_set_password(struct store_txn *t, const char *bare,
                                                       const char *password, size_t len,
                                                       uint32_t iterations,
                                                       enum accounts_mode mode);
/*
 * Delete the account's records: credentials, roster, roster version, pending requests
 * (roster_forget). HERALD_ENOTFOUND if there is no such account. Contacts are not told
 * and their rosters keep the account: on a running server im_account_delete() does both.
 */
HERALD_MUST_CHECK enum herald_rc accounts_delete(struct store_txn *t, const char *bare);

#endif
