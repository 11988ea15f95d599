/*
 * im.c - presence for local sessions (first cut: own resources and directed presence;
 * rosters and subscriptions arrive with broker/im/roster.c and presence.c).
 */
#include <stdlib.h>
#include <string.h>

#include "herald/im.h"
#include "herald/log.h"
#include "herald/router.h"
#include "herald/server.h"
#include "herald/store.h"
#include "herald/users.h"

struct im {
    struct server *srv;
};

enum herald_rc im_new(struct server *srv, struct im **out)
{
    struct im *im = calloc(1, sizeof(*im));
    if (im == NULL)
        return HERALD_ENOMEM;
    im->srv = srv;
    *out = im;
    return HERALD_OK;
}

void im_free(struct im **im)
{
    if (im && *im) {
        free(*im);
        *im = NULL;
    }
}

bool im_account_exists(struct server *srv, const char *bare)
{
    if (router_sessions_of(srv->router, bare, strlen(bare)))
        return true;
    struct store_txn *t;
    return store_read(srv->store, &t) == HERALD_OK && users_exists(t, bare) == HERALD_OK;
}

void im_presence_outbound(struct server *srv, struct session *from, struct stanza *st)
{
    if (!st->has_to && (st->type == NULL || strcmp(st->type, "unavailable") == 0)) {
        const char *prio = xml_child_text(st->node, XMPP_NS_CLIENT, "priority");
        from->available = st->type == NULL;
        from->priority = prio ? atoi(prio) : 0;
        return;
    }
    router_route(srv, st);
}

void im_presence_inbound(struct server *srv, struct stanza *st)
{
    (void)srv, (void)st;
}

void im_session_bound(struct server *srv, struct session *s)
{
    (void)srv, (void)s;
}

void im_session_ending(struct server *srv, struct session *s)
{
    (void)srv, (void)s;
}

enum herald_rc im_roster_relation(struct server *srv, const char *owner, const char *contact,
                                  enum im_subscription *sub, bool *in_roster)
{
    (void)srv, (void)owner, (void)contact;
    *sub = IM_SUB_NONE;
    *in_roster = false;
    return HERALD_OK;
}

bool im_roster_in_groups(struct server *srv, const char *owner, const char *contact,
                         const char *const *groups, size_t ngroups)
{
    (void)srv, (void)owner, (void)contact, (void)groups, (void)ngroups;
    return false;
}
