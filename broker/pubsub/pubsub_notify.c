/*
 * pubsub_notify.c - event notifications: serialise once, deliver by reference.
 *
 * A notification is "<message to='JID'" + BODY, where BODY is
 *     " from='service' [type='headline'] id='...'><event ...>...</event></message>"
 * shared by every recipient (one refbuf, referenced from each output buffer: the fan-out
 * of one item to N subscribers copies N short prefixes and no payload). The prefix is
 * cached per subscriber. Only a JID with several subscriptions to the node gets a
 * message of its own, because §13.15 puts its SHIM headers after the event.
 *
 * Recipients follow RFC 6121 §8.5 for messages the server generates: a full JID reaches
 * that session; a bare JID reaches every available resource with non-negative priority
 * (§8.5.2.1.1, as for type headline). Nothing goes to offline storage (§13.7).
 */
#include <stdio.h>
#include <string.h>

#include "herald/log.h"
#include "pubsub_int.h"

#define MESSAGE_END "</message>"

void pubsub_next_msgid(struct pubsub_service *svc, const char *node, char out[40])
{
    uint64_t seq = ++svc->reg->notify_seq;
    snprintf(out, 40, "%s-%llx", svc->reg->boot, (unsigned long long)seq);
    if (node)
        pubsub_sent_note(svc, seq, node);
}

enum herald_rc pubsub_event_build(struct pubsub_service *svc, const struct pubsub_node *n,
                                  const char *event_xml, size_t len, struct pubsub_event *out)
{
    char id[40];
    struct buf head;
    pubsub_next_msgid(svc, n ? n->name : NULL, id);
    buf_init(&head, 0);
    buf_append_str(&head, " from='");
    buf_append_xml_attr_escaped(&head, svc->jid, strlen(svc->jid));
    buf_append_str(&head, "'");
    if (n == NULL || n->cfg.notification_type == PUBSUB_NOTIFY_HEADLINE)
        buf_append_str(&head, " type='headline'");
    buf_printf(&head, " id='%s'>", id);
    if (head.err) {
        buf_cleanup(&head);
        return HERALD_ENOMEM;
    }
    const void *parts[] = {head.data, event_xml, MESSAGE_END};
    const size_t lens[] = {head.len, len, sizeof(MESSAGE_END) - 1};
    out->body = refbuf_concat(parts, lens, 3);
    out->event_end = head.len + len;
    buf_cleanup(&head);
    return out->body ? HERALD_OK : HERALD_ENOMEM;
}

void pubsub_event_release(struct pubsub_event *ev)
{
    refbuf_unref(&ev->body);
}

/* The <show/> of a session's current presence, as a PUBSUB_SHOW_* bit. */
static unsigned session_show(const struct session *s)
{
    const char *p = s->presence ? strstr(s->presence, "<show>") : NULL;
    if (p == NULL)
        return PUBSUB_SHOW_ONLINE;
    p += 6;
    if (strncmp(p, "chat<", 5) == 0)
        return PUBSUB_SHOW_CHAT;
    if (strncmp(p, "away<", 5) == 0)
        return PUBSUB_SHOW_AWAY;
    if (strncmp(p, "xa<", 3) == 0)
        return PUBSUB_SHOW_XA;
    if (strncmp(p, "dnd<", 4) == 0)
        return PUBSUB_SHOW_DND;
    return PUBSUB_SHOW_ONLINE;
}

static size_t deliver(struct session *s, struct refbuf *to_prefix, const struct pubsub_event *ev,
                      const char *headers)
{
    if (headers == NULL)
        return s->ops->send_shared(s, to_prefix, ev->body) == HERALD_OK;
    /* SHIM headers go after the event (§13.15): this recipient gets its own copy. */
    struct buf b;
    buf_init(&b, 0);
    buf_append(&b, to_prefix->data, to_prefix->len);
    buf_append(&b, ev->body->data, ev->event_end);
    buf_append_str(&b, headers);
    buf_append_str(&b, MESSAGE_END);
    size_t n = !b.err && s->ops->send(s, b.data, b.len) == HERALD_OK;
    buf_cleanup(&b);
    return n;
}

struct refbuf *pubsub_to_prefix(const char *jid, size_t len)
{
    struct buf b;
    buf_init(&b, 0);
    buf_append_str(&b, "<message to='");
    buf_append_xml_attr_escaped(&b, jid, len);
    buf_append_byte(&b, '\'');
    struct refbuf *r = b.err ? NULL : refbuf_new(b.data, b.len);
    buf_cleanup(&b);
    return r;
}

size_t pubsub_notify_jid(struct pubsub_service *svc, const char *jid, size_t jid_len,
                         struct refbuf *to_prefix, const struct pubsub_event *ev,
                         const char *headers, bool presence_based, unsigned show_values)
{
    if (to_prefix == NULL) {
        struct refbuf *own = pubsub_to_prefix(jid, jid_len);
        if (own == NULL)
            return 0;
        size_t n =
            pubsub_notify_jid(svc, jid, jid_len, own, ev, headers, presence_based, show_values);
        refbuf_unref(&own);
        return n;
    }
    struct router *router = svc->srv->router;
    const char *slash = memchr(jid, '/', jid_len);
    size_t n = 0;
    if (slash) {
        struct session *s = router_session_by_full(router, jid, jid_len);
        if (s && (!presence_based || (s->available && (session_show(s) & show_values))))
            n += deliver(s, to_prefix, ev, headers);
        return n;
    }
    for (struct session *s = router_sessions_of(router, jid, jid_len); s; s = s->next_res) {
        if (!s->available || s->priority < 0)
            continue;
        if (presence_based && !(session_show(s) & show_values))
            continue;
        n += deliver(s, to_prefix, ev, headers);
    }
    return n;
}

/* Does this subscription want item notifications now? */
static bool sub_wants_items(const struct pubsub_sub *sub, int64_t now_us)
{
    return sub->state == PUBSUB_SUB_SUBSCRIBED && sub->opts.deliver &&
           sub->opts.subscription_type == PUBSUB_SUBTYPE_ITEMS &&
           (sub->opts.expire_at_us == 0 || sub->opts.expire_at_us > now_us);
}

size_t pubsub_notify_node(struct pubsub_service *svc, struct pubsub_node *n,
                          const struct pubsub_event *ev, enum pubsub_notify_kind kind)
{
    size_t delivered = 0;
    int64_t now = kind == PUBSUB_NOTIFY_ITEMS ? herald_wall_us() : 0;
    bool open = n->cfg.access_model == PUBSUB_ACCESS_OPEN;
    for (size_t i = 0; i < n->nsubscribers; i++) {
        struct pubsub_subscriber *s = n->subscribers[i];
        unsigned show = 0, matching = 0;
        for (uint32_t j = 0; j < s->nsubs; j++) {
            const struct pubsub_sub *sub = &s->subs[j];
            bool wants = kind == PUBSUB_NOTIFY_ITEMS    ? sub_wants_items(sub, now)
                         : kind == PUBSUB_NOTIFY_DELETE ? sub->state != PUBSUB_SUB_NONE
                                                        : sub->state == PUBSUB_SUB_SUBSCRIBED;
            if (wants) {
                matching++;
                show |= sub->opts.show_values;
            }
        }
        if (matching == 0)
            continue;
        if (!open && kind != PUBSUB_NOTIFY_DELETE) {
            /* The same decision as subscribe and retrieve (the relationship may have
             * changed since the subscription was made). */
            char bare[PUBSUB_BARE_MAX];
            const char *slash = strchr(s->jid, '/');
            size_t blen = slash ? (size_t)(slash - s->jid) : s->jid_len;
            if (blen >= sizeof(bare))
                continue;
            memcpy(bare, s->jid, blen);
            bare[blen] = '\0';
            if (pubsub_access_check(svc, n, bare, PUBSUB_OP_NOTIFY) != PUBSUB_ALLOW)
                continue;
        }
        const char *headers = NULL;
        struct buf hb;
        buf_init(&hb, 0);
        if (kind == PUBSUB_NOTIFY_ITEMS && matching > 1) {
            buf_append_str(&hb, "<headers xmlns='" NS_SHIM "'>");
            for (uint32_t j = 0; j < s->nsubs; j++)
                if (sub_wants_items(&s->subs[j], now))
                    buf_printf(&hb, "<header name='SubID'>%s</header>", s->subs[j].subid);
            buf_append_str(&hb, "</headers>");
            headers = hb.err ? NULL : hb.data;
        }
        delivered +=
            pubsub_notify_jid(svc, s->jid, s->jid_len, s->to_prefix, ev, headers,
                              n->cfg.presence_based_delivery, show ? show : PUBSUB_SHOW_ALL);
        buf_cleanup(&hb);
    }
    return delivered;
}

void pubsub_send_message(struct pubsub_service *svc, struct xml_node *msg)
{
    router_send(svc->srv, msg);
}
