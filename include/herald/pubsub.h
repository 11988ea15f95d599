/*
 * pubsub.h - the XEP-0060 publish-subscribe services: pubsub.<domain> and the others
 * named in pubsub_services. The same service code will serve each account's PEP service
 * (XEP-0163) and the feed worker's publications.
 */
#ifndef HERALD_PUBSUB_H
#define HERALD_PUBSUB_H

#include "herald/common.h"

struct server;
struct session;
struct pubsub_registry;
struct pubsub_service;

/* Create the configured services, register them with the router, make the demo node. */
HERALD_MUST_CHECK enum herald_rc pubsub_init(struct server *srv, struct pubsub_registry **out);
void pubsub_free(struct pubsub_registry **reg);
/* The service with this JID, or NULL. */
struct pubsub_service *pubsub_service_find(struct pubsub_registry *reg, const char *jid);
/* An account was deleted (its pubsub records went with it: accounts_delete). */
void pubsub_account_deleted(struct server *srv, const char *bare);

/*
 * A local session's availability changed (RFC 6121 §4): broker/im calls this after it
 * updated s->available, once the presence is handled and with no store transaction of
 * its own open (after im_ctx_end): this writes in its own nested transaction.
 *   available_now && !was_available: a new presence session. Subscriptions of the bare
 *     JID and of this full JID to nodes with send_last_published_item =
 *     on_sub_and_presence get the node's last item, sent to this session (XEP-0060 §4.3).
 *   !available_now: the session sent unavailable presence or is ending (call it then too,
 *     whatever was_available was). Temporary subscriptions (pubsub#expire = presence, or a
 *     node with pubsub#tempsub, XEP-0060 §12.4) of this full JID end, and those of the bare
 *     JID when no other resource of the account is available.
 * Presence updates of an available session (available_now && was_available) do nothing.
 */
void pubsub_presence_changed(struct server *srv, struct session *s, bool available_now,
                             bool was_available);

#endif
