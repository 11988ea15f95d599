/*
 * pubsub_events.c - event notifications that wait for the turn's commit: nobody hears of a
 * change a crash could take back (pubsub_int.h, "State model"). An event is serialised once
 * while the request is handled (pubsub_event_build) and fanned out after the commit
 * (pubsub_notify_node), to the node as it is then: the callback keeps only the node's name
 * and looks it up again, unless it owns the node (a deletion's, detached from the cache).
 */
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/store.h"
#include "pubsub_int.h"

struct pubsub_deferred_event {
    struct pubsub_service *svc;
    char *node;
    struct pubsub_event ev;
    enum pubsub_notify_kind kind;
    struct pubsub_node *detached; /* a deleted node, out of the cache, for its fan-out */
};

struct pubsub_deferred_event *pubsub_deferred_event_new(struct pubsub_service *svc,
                                                        const struct pubsub_node *n,
                                                        const char *event_xml, size_t len,
                                                        enum pubsub_notify_kind kind)
{
    struct pubsub_deferred_event *e = calloc(1, sizeof(*e));
    if (e == NULL || (e->node = strdup(n->name)) == NULL ||
        pubsub_event_build(svc, n, event_xml, len, &e->ev)) {
        if (e)
            free(e->node);
        free(e);
        log_warn("pubsub %s: out of memory, an event notification is dropped", n->name);
        return NULL;
    }
    e->svc = svc;
    e->kind = kind;
    return e;
}

struct pubsub_deferred_event *pubsub_deferred_event_of(struct pubsub_service *svc,
                                                       const struct pubsub_node *n,
                                                       const struct xml_node *event,
                                                       enum pubsub_notify_kind kind)
{
    struct buf b;
    buf_init(&b, 0);
    struct pubsub_deferred_event *e =
        xml_write(&b, event, NULL) ? NULL : pubsub_deferred_event_new(svc, n, b.data, b.len, kind);
    buf_cleanup(&b);
    return e;
}

void pubsub_deferred_event_detach(struct pubsub_deferred_event *e, struct pubsub_node *n)
{
    e->detached = n;
}

void pubsub_deferred_event_cb(struct server *srv, void *ctx, enum herald_rc rc)
{
    struct pubsub_deferred_event *e = ctx;
    (void)srv;
    if (e == NULL)
        return;
    struct pubsub_node *n = e->detached;
    if (rc == HERALD_OK && (n || pubsub_node_get(e->svc, e->node, &n) == HERALD_OK) &&
        (e->kind != PUBSUB_NOTIFY_ITEMS || n->cfg.deliver_notifications))
        pubsub_notify_node(e->svc, n, &e->ev, e->kind);
    pubsub_node_free(e->detached);
    pubsub_event_release(&e->ev);
    free(e->node);
    free(e);
}

static void deferred_event_commit_cb(void *arg, enum herald_rc rc)
{
    pubsub_deferred_event_cb(NULL, arg, rc);
}

bool pubsub_deferred_event_queue(struct pubsub_deferred_event *e)
{
    if (e == NULL)
        return false;
    if (store_on_commit(e->svc->srv->store, deferred_event_commit_cb, e) == HERALD_OK)
        return true;
    log_warn("pubsub %s: out of memory, an event notification is dropped", e->node);
    pubsub_deferred_event_cb(NULL, e, HERALD_ENOMEM);
    return false;
}

void pubsub_items_event_open(struct buf *b, const char *node)
{
    buf_append_str(b, "<event xmlns='" PUBSUB_NS_EVENT "'><items node='");
    buf_append_xml_attr_escaped(b, node, strlen(node));
    buf_append_str(b, "'>");
}

void pubsub_items_event_close(struct buf *b)
{
    buf_append_str(b, "</items></event>");
}

void pubsub_retract_write(struct buf *b, const char *id, size_t idlen)
{
    buf_append_str(b, "<retract id='");
    buf_append_xml_attr_escaped(b, id, idlen);
    buf_append_str(b, "'/>");
}

void pubsub_retractions_queue(struct pubsub_service *svc, const struct pubsub_node *n,
                              const struct pubsub_names *ids)
{
    if (ids->n == 0 || !n->cfg.notify_retract || !n->cfg.deliver_notifications ||
        n->nsubscribers == 0)
        return;
    /* §7.2.2.1 as for a retraction by the publisher: one event with every <retract/>. */
    struct buf b;
    buf_init(&b, 0);
    pubsub_items_event_open(&b, n->name);
    for (size_t i = 0; i < ids->n; i++)
        pubsub_retract_write(&b, ids->v[i], strlen(ids->v[i]));
    pubsub_items_event_close(&b);
    if (b.err)
        log_warn("pubsub %s: out of memory, a retraction notification is dropped", n->name);
    else
        pubsub_deferred_event_queue(
            pubsub_deferred_event_new(svc, n, b.data, b.len, PUBSUB_NOTIFY_ITEMS));
    buf_cleanup(&b);
}
