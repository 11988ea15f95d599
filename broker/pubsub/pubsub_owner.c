/*
 * pubsub_owner.c - owner management of subscriptions (§8.8) and affiliations (§8.9),
 * subscription approval (§8.6) and pending requests (§8.7).
 */
#include <string.h>

#include "pubsub_int.h"

void pubsub_handle_owner_subscriptions(struct pubsub_req *r)
{
    pubsub_reply_unsupported(r, "manage-subscriptions");
}

void pubsub_handle_owner_affiliations(struct pubsub_req *r)
{
    pubsub_reply_unsupported(r, "modify-affiliations");
}

void pubsub_handle_owner_message(struct pubsub_service *svc, struct stanza *st)
{
    (void)svc, (void)st;
}

void pubsub_request_approval(struct pubsub_service *svc, struct pubsub_node *n, const char *jid,
                             const char *subid)
{
    (void)svc, (void)n, (void)jid, (void)subid;
}

void pubsub_handle_command(struct pubsub_req *r, struct xml_node *cmd)
{
    (void)cmd;
    pubsub_reply_unsupported(r, "get-pending");
}
