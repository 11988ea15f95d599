/*
 * users.h - the account database: credentials per bare JID (SCRAM records, never a
 * password), as stored in STORE_DB_USERS (layout in schemas/store.md).
 */
#ifndef HERALD_USERS_H
#define HERALD_USERS_H

#include "herald/common.h"
#include "herald/sasl.h"

struct store_txn;

/* HERALD_ENOTFOUND if there is no such account; HERALD_EPROTO for a record we cannot read. */
HERALD_MUST_CHECK enum herald_rc users_get_creds(struct store_txn *t, const char *bare,
                                                 enum scram_hash hash, struct scram_creds *out);
HERALD_MUST_CHECK enum herald_rc users_exists(struct store_txn *t, const char *bare);
/* Create or replace the account's credentials (both hashes). */
HERALD_MUST_CHECK enum herald_rc users_put(struct store_txn *t, const char *bare,
                                           const struct scram_creds creds[SCRAM_HASH_COUNT]);
/* HERALD_ENOTFOUND if absent. */
HERALD_MUST_CHECK enum herald_rc users_del(struct store_txn *t, const char *bare);

/* Record codec, exposed for tests and fuzzing. */
HERALD_MUST_CHECK enum herald_rc users_encode(const struct scram_creds creds[SCRAM_HASH_COUNT],
                                              struct buf *out);
HERALD_MUST_CHECK enum herald_rc users_decode(const void *data, size_t len, enum scram_hash hash,
                                              struct scram_creds *out);

#endif
