/*
 * outbox.c - the request context and its output batch (see im_int.h).
 *
 * A batch is a list of deliveries, each a target (a session, a full JID, or the available
 * or interested resources of an account) and a stanza serialised once. Targets are
 * resolved when the batch is sent, so a session that ended meanwhile is simply skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "im_int.h"

#define NO_JID UINT32_MAX

struct out_entry {
    uint8_t target; /* enum im_target */
    uint8_t flags;  /* IM_OUT_* */
    struct session_ref ref;
    uint32_t jid_off, jid_len; /* in the batch's strings */
    const char *elem;          /* static element name, or NULL */
    struct refbuf *rest;       /* one reference owned */
};

struct im_batch {
    struct im *im; /* NULL once im_free() ran: the commit callback only frees */
    struct im_batch *prev, *next;
    bool wrote;   /* the request's writes are part of the commit this waits for */
    bool aborted; /* the request's writes were abandoned before the commit */
    struct out_entry *e;
    size_t n, cap;
    struct buf strings;
};

static void batch_free(struct im_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        refbuf_unref(&b->e[i].rest);
    free(b->e);
    buf_cleanup(&b->strings);
    herald_free(HERALD_MEM_MISC, b);
}

/* ---- sending ---- */

/*
 * One stanza to one session, written as one contiguous piece: the envelope, then the
 * shared rest copied after it. Handing the rest over by reference (send_shared) would
 * put the stanza in two TLS records, and expat 2.5 as Debian patches it (reparse
 * deferral, CVE-2023-52425) then holds back a short split tag until more data comes:
 * Python clients (slixmpp) would not see a lone presence. Presence stanzas are small.
 */
static void send_one(struct im_batch *b, const struct out_entry *e, struct session *s,
                     struct buf *out)
{
    buf_reset(out);
    if (e->elem) {
        buf_append_byte(out, '<');
        buf_append_str(out, e->elem);
        const char *to = NULL;
        size_t tolen = 0;
        if (e->flags & IM_OUT_TO_SESSION) {
            to = s->full;
            tolen = strlen(s->full);
        } else if ((e->flags & IM_OUT_TO_JID) && e->jid_off != NO_JID) {
            to = b->strings.data + e->jid_off;
            tolen = e->jid_len;
        }
        if (to) {
            buf_append_str(out, " to='");
            buf_append_xml_attr_escaped(out, to, tolen);
            buf_append_byte(out, '\'');
        }
        if (e->flags & IM_OUT_PUSH_ID)
            buf_printf(out, " id='push%llu'", (unsigned long long)++b->im->push_seq);
    }
    buf_append(out, e->rest->data, e->rest->len);
    if (out->err) {
        log_error("im: cannot build a stanza: %s", herald_rc_str(out->err));
        return;
    }
    /* A failed send means that stream is already being closed (slow reader or gone). */
    (void)s->ops->send(s, out->data, out->len);
}

static void send_entry(struct im_batch *b, const struct out_entry *e, struct buf *prefix)
{
    struct router *r = b->im->srv->router;
    const char *jid = e->jid_off == NO_JID ? NULL : b->strings.data + e->jid_off;
    struct session *s;
    switch ((enum im_target)e->target) {
    case IM_TO_SESSION:
        if ((s = router_session_get(r, e->ref)) != NULL)
            send_one(b, e, s, prefix);
        return;
    case IM_TO_FULL:
        if (jid && (s = router_session_by_full(r, jid, e->jid_len)) != NULL)
            send_one(b, e, s, prefix);
        return;
    case IM_TO_AVAILABLE:
    case IM_TO_INTERESTED:
        if (jid == NULL)
            return;
        for (s = router_sessions_of(r, jid, e->jid_len); s; s = s->next_res) {
            bool want = e->target == IM_TO_AVAILABLE ? s->available : s->interested;
            if (want)
                send_one(b, e, s, prefix);
        }
        return;
    }
}

/* failed: the request's writes did not commit; only IM_OUT_FAIL_ONLY entries go out. */
static void batch_send(struct im_batch *b, bool failed)
{
    struct buf prefix;
    buf_init(&prefix, 0); /* bounded by what is queued: stanzas we made, JIDs */
    for (size_t i = 0; i < b->n; i++) {
        const struct out_entry *e = &b->e[i];
        if (((e->flags & IM_OUT_FAIL_ONLY) != 0) == failed)
            send_entry(b, e, &prefix);
    }
    buf_cleanup(&prefix);
}

static void batch_unlink(struct im_batch *b)
{
    if (b->im == NULL)
        return;
    if (b->prev)
        b->prev->next = b->next;
    else
        b->im->waiting = b->next;
    if (b->next)
        b->next->prev = b->prev;
    b->prev = b->next = NULL;
}

static void batch_commit_cb(void *arg, enum herald_rc rc)
{
    struct im_batch *b = arg;
    if (b->im) {
        batch_unlink(b);
        if (rc && b->wrote)
            log_warn("im: a roster change was not stored (%s); its notifications are dropped",
                     herald_rc_str(rc));
        batch_send(b, b->aborted || (rc != HERALD_OK && b->wrote));
    }
    batch_free(b);
}

static void batch_turn_cb(struct server *srv, void *arg)
{
    (void)srv;
    batch_commit_cb(arg, HERALD_OK);
}

void im_orphan_batches(struct im *im)
{
    for (struct im_batch *b = im->waiting, *next; b; b = next) {
        next = b->next;
        b->im = NULL;
        b->prev = b->next = NULL;
    }
    im->waiting = NULL;
}

/* ---- the context ---- */

enum herald_rc im_ctx_begin(struct im_ctx *c, struct server *srv)
{
    memset(c, 0, sizeof(*c));
    c->srv = srv;
    c->im = srv->im;
    c->a = arena_new(0);
    c->out = herald_calloc(HERALD_MEM_MISC, 1, sizeof(*c->out));
    if (c->a == NULL || c->out == NULL) {
        arena_free(&c->a);
        herald_free(HERALD_MEM_MISC, c->out);
        c->out = NULL;
        return HERALD_ENOMEM;
    }
    c->out->im = c->im;
    buf_init(&c->out->strings, 0);
    return HERALD_OK;
}

struct store_txn *im_ctx_read(struct im_ctx *c)
{
    if (c->txn)
        return c->txn;
    struct store_txn *t;
    enum herald_rc rc = store_read(c->srv->store, &t);
    if (rc) {
        /* Only the step that needed it fails; what the request wrote so far stands. */
        log_error("im: storage read failed: %s", herald_rc_str(rc));
        return NULL;
    }
    return t;
}

struct store_txn *im_ctx_write(struct im_ctx *c)
{
    if (c->failed)
        return NULL;
    if (c->txn == NULL) {
        enum herald_rc rc = store_begin(c->srv->store, &c->txn);
        if (rc) {
            c->txn = NULL;
            im_ctx_fail(c, "begin", rc);
            return NULL;
        }
    }
    return c->txn;
}

void im_ctx_fail(struct im_ctx *c, const char *what, enum herald_rc rc)
{
    log_error("im: storage %s failed: %s", what, herald_rc_str(rc));
    c->failed = true;
}

void im_ctx_end(struct im_ctx *c)
{
    struct im_batch *b = c->out;
    bool failed = c->failed;
    if (c->txn) {
        if (failed) {
            store_abort(&c->txn);
        } else {
            enum herald_rc rc = store_commit(&c->txn);
            if (rc) {
                log_error("im: cannot merge a request's writes: %s", herald_rc_str(rc));
                failed = true;
            } else {
                b->wrote = true;
            }
        }
    }
    b->aborted = failed;
    c->failed = failed;
    arena_free(&c->a);
    c->out = NULL;
    /* Output waits for the turn's commit when it depends on it, or to stay behind output
     * already waiting (order). At shutdown nothing more is committed before the streams
     * close, so what does not depend on a write goes out at once. */
    bool wait = b->wrote || (store_dirty(c->srv->store) && !c->srv->stopping);
    bool later = !wait && c->next_turn && !c->srv->stopping;
    if ((wait || later) && b->n > 0) {
        enum herald_rc rc = wait ? store_on_commit(c->srv->store, batch_commit_cb, b)
                                 : server_defer(c->srv, batch_turn_cb, b);
        if (rc == HERALD_OK) {
            b->next = c->im->waiting;
            if (b->next)
                b->next->prev = b;
            c->im->waiting = b;
            return;
        }
        log_error("im: cannot queue output for the commit; sending it now");
    }
    batch_send(b, failed);
    batch_free(b);
}

/* ---- queueing ---- */

enum herald_rc im_share_str(const char *elem, const char *s, size_t len, struct im_shared *out)
{
    size_t el = elem ? strlen(elem) : 0;
    out->elem = NULL;
    out->rest = NULL;
    if (elem) {
        /* The element must open s exactly ("<presence" then a space, '/' or '>'). */
        if (len < el + 2 || s[0] != '<' || memcmp(s + 1, elem, el) != 0 ||
            !(s[el + 1] == ' ' || s[el + 1] == '/' || s[el + 1] == '>'))
            return HERALD_EINVAL;
        s += el + 1;
        len -= el + 1;
    }
    out->rest = refbuf_new(s, len);
    if (out->rest == NULL)
        return HERALD_ENOMEM;
    out->elem = elem;
    return HERALD_OK;
}

enum herald_rc im_share_node(const struct xml_node *n, struct im_shared *out)
{
    static const char *const names[] = {"presence", "iq", "message"};
    const char *elem = NULL;
    for (size_t i = 0; i < HERALD_ARRAY_LEN(names) && !elem; i++)
        if (strcmp(n->name, names[i]) == 0)
            elem = names[i];
    struct buf b;
    buf_init(&b, 0);
    enum herald_rc rc =
        elem && n->prefix == NULL ? xml_write(&b, n, XMPP_NS_CLIENT) : HERALD_EINVAL;
    if (rc == HERALD_OK)
        rc = im_share_str(elem, b.data, b.len, out);
    buf_cleanup(&b);
    return rc;
}

void im_shared_release(struct im_shared *sh)
{
    refbuf_unref(&sh->rest);
}

void im_out(struct im_ctx *c, enum im_target t, const char *jid, size_t jlen,
            struct session_ref ref, const struct im_shared *sh, unsigned flags)
{
    struct im_batch *b = c->out;
    if (sh->rest == NULL)
        return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        struct out_entry *e = realloc(b->e, cap * sizeof(*e));
        if (e == NULL) {
            log_error("im: out of memory queueing a stanza");
            return;
        }
        b->e = e;
        b->cap = cap;
    }
    struct out_entry *e = &b->e[b->n];
    *e = (struct out_entry){.target = (uint8_t)t,
                            .flags = (uint8_t)flags,
                            .ref = ref,
                            .jid_off = NO_JID,
                            .elem = sh->elem};
    if (jid) {
        size_t off = b->strings.len;
        if (jlen > UINT32_MAX || off > UINT32_MAX - jlen - 1 ||
            buf_append(&b->strings, jid, jlen) || buf_append_byte(&b->strings, '\0')) {
            log_error("im: out of memory queueing a stanza");
            return;
        }
        e->jid_off = (uint32_t)off;
        e->jid_len = (uint32_t)jlen;
    }
    e->rest = refbuf_ref(sh->rest);
    b->n++;
}

void im_out_node(struct im_ctx *c, enum im_target t, const char *jid, struct session_ref ref,
                 const struct xml_node *n, unsigned flags)
{
    struct im_shared sh;
    enum herald_rc rc = n ? im_share_node(n, &sh) : HERALD_ENOMEM;
    if (rc) {
        log_error("im: cannot serialise a stanza: %s", herald_rc_str(rc));
        return;
    }
    im_out(c, t, jid, jid ? strlen(jid) : 0, ref, &sh, flags);
    im_shared_release(&sh);
}

/* The session a stanza came from, if it is a local one. */
static struct session *sender_of(struct im_ctx *c, const struct stanza *st)
{
    return st->from_str ? router_session_by_full(c->srv->router, st->from_str, strlen(st->from_str))
                        : NULL;
}

/* The address that answers: the stanza's 'to', or the sender's bare JID (no 'to'). */
static const char *answering(struct im_ctx *c, const struct stanza *st)
{
    return st->has_to ? xml_attr(st->node, "to") : jid_bare_str(c->a, &st->from);
}

static void reply(struct im_ctx *c, const struct stanza *st, struct xml_node *r, unsigned flags)
{
    struct session *s = sender_of(c, st);
    if (r == NULL) {
        log_error("im: out of memory building a reply");
        return;
    }
    if (s) {
        im_out_node(c, IM_TO_SESSION, NULL, s->ref, r, flags);
        return;
    }
    /* Not from a local session (a service): the router knows the way. */
    if (!(flags & IM_OUT_FAIL_ONLY))
        router_send(c->srv, r);
}

void im_out_error(struct im_ctx *c, const struct stanza *st, const char *cond, const char *text,
                  unsigned flags)
{
    if ((st->type && strcmp(st->type, "error") == 0) ||
        (st->kind == STANZA_IQ && st->type && strcmp(st->type, "result") == 0))
        return; /* RFC 6120 §8.3.1: never answer an error */
    struct xmpp_error e = xmpp_error_of(cond);
    e.text = text;
    reply(c, st, stanza_error_reply(c->a, st, answering(c, st), &e), flags);
}

void im_out_result(struct im_ctx *c, const struct stanza *st, struct xml_node *payload)
{
    reply(c, st, stanza_iq_result(c->a, st, answering(c, st), payload), 0);
}
