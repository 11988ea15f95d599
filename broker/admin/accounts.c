/*
 * accounts.c - account records and the data hanging off them.
 */
#include <string.h>

#include "herald/accounts.h"
#include "herald/jid.h"
#include "herald/precis.h"
#include "herald/pubsub_store.h"
#include "herald/roster_store.h"
#include "herald/sasl.h"
#include "herald/store.h"
#include "herald/users.h"

enum herald_rc accounts_bare_jid(struct arena *a, const char *domain, const char *local,
                                 const char **bare)
{
    const char *prepped;
    if (local == NULL || jid_prep_local(a, local, strlen(local), &prepped))
        return HERALD_EINVAL;
    *bare = arena_printf(a, "%s@%s", prepped, domain);
    return *bare ? HERALD_OK : HERALD_ENOMEM;
}

enum herald_rc accounts_prep_password(struct arena *a, const char *pw, size_t len, const char **out,
                                      size_t *outlen)
{
    if (len == 0 || len > SCRAM_PASSWORD_MAX)
        return HERALD_EINVAL;
    return precis_enforce(a, PRECIS_OPAQUE_STRING, pw, len, out, outlen);
}

enum herald_rc accounts_set_password(struct store_txn *t, const char *bare, const char *password,
                                     size_t len, uint32_t iterations, enum accounts_mode mode)
{
    enum herald_rc rc = users_exists(t, bare);
    if (rc != HERALD_OK && rc != HERALD_ENOTFOUND)
        return rc;
    if (mode == ACCOUNTS_CREATE && rc == HERALD_OK)
        return HERALD_ECONFLICT;
    if (mode == ACCOUNTS_UPDATE && rc == HERALD_ENOTFOUND)
        return HERALD_ENOTFOUND;
    struct arena *a = arena_new(0);
    if (a == NULL)
        return HERALD_ENOMEM;
    const char *prepped = NULL;
    size_t plen = 0;
    struct scram_creds creds[SCRAM_HASH_COUNT];
    rc = accounts_prep_password(a, password, len, &prepped, &plen);
    if (rc == HERALD_OK)
        rc = scram_creds_derive(prepped, plen, iterations, creds);
    if (rc == HERALD_OK)
        rc = users_put(t, bare, creds);
    explicit_bzero(creds, sizeof(creds));
    if (plen)
        explicit_bzero((void *)prepped, plen);
    arena_free(&a);
    return rc;
}

enum herald_rc accounts_delete(struct store_txn *t, const char *bare)
{
    enum herald_rc rc = users_del(t, bare);
    if (rc == HERALD_OK)
        rc = roster_forget(t, bare);
    /* Its pubsub subscriptions and affiliations too: an account made later with the same
     * name must not inherit node ownership. */
    return rc ? rc : pubsub_store_forget_jid(t, bare, NULL);
}
