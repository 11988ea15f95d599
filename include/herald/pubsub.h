/*
 * pubsub.h - the XEP-0060 publish-subscribe services: pubsub.<domain> and the others
 * named in pubsub_services. The same service code will serve each account's PEP service
 * (XEP-0163) and the feed worker's publications.
 */
#ifndef HERALD_PUBSUB_H
#define HERALD_PUBSUB_H

#include "herald/common.h"

struct server;
struct pubsub_registry;
struct pubsub_service;

/* Create the configured services, register them with the router, make the demo node. */
HERALD_MUST_CHECK enum herald_rc pubsub_init(struct server *srv, struct pubsub_registry **out);
void pubsub_free(struct pubsub_registry **reg);
/* The service with this JID, or NULL. */
struct pubsub_service *pubsub_service_find(struct pubsub_registry *reg, const char *jid);

#endif
