/*
 * pubsub_owner.c - owner management of subscriptions (§8.8) and affiliations (§8.9). The
 * changes are stored, applied and notified (§8.8.4, §8.9.4) by pubsub_changes.c.
 *
 * A modification carries several entries, at most PUBSUB_REQ_ENTRIES_MAX. A malformed
 * request (an entry without a JID, an unknown state or affiliation, the same entity twice)
 * changes nothing: <bad-request/>. Otherwise each entry is checked against memory; those that
 * cannot be applied come back in a <not-acceptable/> error with their current, unaltered
 * value, and the others are applied (§8.8.2.4 and §8.9.2.4: entries not returned MUST be
 * treated as successful). All writes of one request go into one nested transaction; memory
 * follows once it merged, and the reply and notifications after the turn's durable commit
 * (pubsub_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/pubsub_store.h"
#include "herald/store.h"
#include "pubsub_int.h"

/* ---- shared request helpers ---- */

/* The number of <name/> entries of the request; false after refusing too many. */
static bool count_entries(struct pubsub_req *r, const char *name, size_t *count)
{
    size_t n = 0;
    for (struct xml_node *e = xml_child(r->op, PUBSUB_NS_OWNER, name); e;
         e = xml_next(e, PUBSUB_NS_OWNER, name))
        n++;
    if (n > PUBSUB_REQ_ENTRIES_MAX) {
        pubsub_reply_text(r, "policy-violation", "too many entries in one request");
        return false;
    }
    *count = n;
    return true;
}

/* A malformed modification (`why`; "" for lack of memory): nothing is changed. */
static void reply_malformed(struct pubsub_req *r, const char *why)
{
    if (*why == '\0')
        pubsub_reply_error(r, "internal-server-error", NULL);
    else
        pubsub_reply_text(r, "bad-request", why);
}

static bool may_be_subscribed(const struct pubsub_node *n, struct arena *a, const char *jid)
{
    const char *slash = strchr(jid, '/');
    const char *bare = slash ? arena_strndup(a, jid, (size_t)(slash - jid)) : jid;
    if (bare == NULL)
        return false;
    enum pubsub_aff aff = pubsub_node_aff(n, bare);
    return aff != PUBSUB_AFF_OUTCAST && aff != PUBSUB_AFF_PUBLISH_ONLY;
}

/* Has this key been seen in the request? Adds it. -1 on ENOMEM. */
static int seen_before(struct hmap *seen, const char *key, size_t len)
{
    if (hmap_get(seen, key, len))
        return 1;
    return hmap_put(seen, key, len, (void *)key, NULL) ? -1 : 0;
}

static struct xml_node *owner_list(struct arena *a, const struct pubsub_node *n, const char *what,
                                   struct xml_node **list)
{
    struct xml_node *ps = xml_elem_new(a, PUBSUB_NS_OWNER, "pubsub");
    *list = ps ? xml_add_child(a, ps, PUBSUB_NS_OWNER, what) : NULL;
    return *list && xml_set_attr(a, *list, "node", n->name) == HERALD_OK ? ps : NULL;
}

/*
 * Store and apply the changes, then reply: a result, or (`failed`, the payload listing the
 * entries that could not be applied) §8.8.2.4 / §8.9.2.4's <not-acceptable/>, which carries
 * its payload first as in the examples. Both wait for the commit when something was written.
 */
static void commit_and_reply(struct pubsub_req *r, struct pubsub_node *n,
                             const struct pubsub_affop *affs, size_t naffs,
                             const struct pubsub_subop *ops, size_t nops, struct xml_node *failed)
{
    struct pubsub_changes *c = pubsub_changes_new(r->svc, n->name);
    struct xml_node *reply = NULL;
    if (failed) {
        struct xmpp_error e = xmpp_error_of("not-acceptable");
        e.text = "the returned entries were not changed; the others were";
        reply = stanza_error_reply(r->a, r->st, r->svc->jid, &e);
        struct xml_node *err = reply ? xml_first_elem(reply) : NULL;
        if (err) {
            xml_remove(err);
            xml_append(reply, failed);
            xml_append(reply, err);
        } else {
            reply = NULL;
        }
    }
    if (c == NULL || (failed && reply == NULL) ||
        pubsub_changes_commit(r->svc, &n, affs, naffs, ops, nops, c)) {
        pubsub_changes_run_cb(r->srv, c, HERALD_ENOMEM);
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    enum herald_rc rc = reply ? pubsub_send_after_commit(r, reply, pubsub_changes_run_cb, c)
                              : pubsub_reply_after_commit(r, NULL, pubsub_changes_run_cb, c);
    if (rc) {
        pubsub_changes_run_cb(r->srv, c, HERALD_ENOMEM);
        pubsub_reply_error(r, "internal-server-error", NULL);
    }
}

/* ---- §8.8 subscriptions ---- */

static struct xml_node *sub_elem(struct arena *a, struct xml_node *parent, const char *jid,
                                 const char *subid, enum pubsub_substate state)
{
    struct xml_node *s = xml_add_child(a, parent, PUBSUB_NS_OWNER, "subscription");
    if (s == NULL || xml_set_attr(a, s, "jid", jid) ||
        xml_set_attr(a, s, "subscription", pubsub_substate_name(state)) ||
        (subid && *subid && xml_set_attr(a, s, "subid", subid)))
        return NULL;
    return s;
}

/* §8.8.1: subscribed and unconfigured subscriptions (pending ones SHOULD NOT be listed: they
 * are the business of §8.6 and §8.7). */
static void subs_retrieve(struct pubsub_req *r, struct pubsub_node *n)
{
    struct xml_node *list;
    struct xml_node *ps = owner_list(r->a, n, "subscriptions", &list);
    for (size_t i = 0; ps && i < n->nsubscribers; i++) {
        const struct pubsub_subscriber *s = n->subscribers[i];
        for (uint32_t j = 0; ps && j < s->nsubs; j++) {
            const struct pubsub_sub *sub = &s->subs[j];
            if ((sub->state == PUBSUB_SUB_SUBSCRIBED || sub->state == PUBSUB_SUB_UNCONFIGURED) &&
                !sub_elem(r->a, list, s->jid, sub->subid, sub->state))
                ps = NULL;
        }
    }
    if (ps == NULL) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    router_reply_result(r->srv, r->st, ps);
}

struct sub_entry {
    struct xml_node *el;
    const char *jid;   /* canonical; NULL when the attribute is not a JID */
    const char *subid; /* NULL: every subscription of the JID */
    enum pubsub_substate target;
    bool change; /* has a 'subscription' attribute (without one nothing changes) */
    bool failed;
};

/*
 * §8.8.2.4: one JID may appear several times only with distinct SubIDs; an entry without a
 * SubID stands for all of them, so it must be alone. Keys: "a" + JID (some entry), "w" + JID
 * (an entry for all), "s" + JID NUL SubID. NULL, "" or the reason the entry is refused.
 */
static const char *sub_entry_seen(struct arena *a, struct hmap *seen, const struct sub_entry *se)
{
    size_t jlen = strlen(se->jid), slen = se->subid ? strlen(se->subid) : 0;
    char *any = arena_printf(a, "a%s", se->jid);
    char *all = arena_printf(a, "w%s", se->jid);
    char *key = se->subid ? arena_alloc(a, jlen + slen + 3) : all;
    size_t klen = se->subid ? jlen + slen + 2 : jlen + 1;
    if (any == NULL || all == NULL || key == NULL)
        return "";
    if (se->subid) {
        key[0] = 's';
        memcpy(key + 1, se->jid, jlen + 1);
        memcpy(key + jlen + 2, se->subid, slen + 1);
    }
    if (se->subid ? hmap_get(seen, key, klen) || hmap_get(seen, all, jlen + 1)
                  : hmap_get(seen, any, jlen + 1) != NULL)
        return "the same subscription twice";
    if (seen_before(seen, any, jlen + 1) < 0 || seen_before(seen, key, klen) < 0)
        return "";
    return NULL;
}

/* The entries of a modification, or NULL after replying. */
static struct sub_entry *subs_parse(struct pubsub_req *r, size_t *count)
{
    struct arena *a = r->a;
    size_t n;
    if (!count_entries(r, "subscription", &n))
        return NULL;
    struct sub_entry *v = arena_calloc(a, n ? n : 1, sizeof(*v));
    struct hmap seen;
    hmap_init(&seen, HERALD_MEM_PUBSUB);
    const char *bad = v ? NULL : "";
    size_t i = 0;
    for (struct xml_node *e = xml_child(r->op, PUBSUB_NS_OWNER, "subscription"); e && !bad;
         e = xml_next(e, PUBSUB_NS_OWNER, "subscription"), i++) {
        struct sub_entry *se = &v[i];
        const char *raw = xml_attr(e, "jid");
        const char *state = xml_attr(e, "subscription");
        struct jid j;
        se->el = e;
        se->subid = xml_attr(e, "subid");
        if (raw == NULL) {
            bad = "a subscription without a 'jid'";
        } else if (state && !pubsub_substate_parse(state, &se->target)) {
            bad = "an unknown subscription state";
        } else if (jid_parse(a, raw, &j) || (se->jid = jid_full_str(a, &j)) == NULL) {
            se->change = state != NULL;
            se->failed = true;
        } else {
            se->change = state != NULL;
            bad = sub_entry_seen(a, &seen, se);
        }
    }
    hmap_cleanup(&seen);
    if (bad) {
        reply_malformed(r, bad);
        return NULL;
    }
    *count = n;
    return v;
}

/* The current value of a failed entry, for the error (§8.8.2.4). */
static bool subs_report(struct arena *a, struct xml_node *list, const struct pubsub_node *n,
                        const struct sub_entry *se)
{
    if (se->jid == NULL)
        return sub_elem(a, list, xml_attr(se->el, "jid"), se->subid, PUBSUB_SUB_NONE) != NULL;
    struct pubsub_subscriber *s = pubsub_node_subscriber(n, se->jid);
    if (se->subid) {
        const struct pubsub_sub *sub = pubsub_sub_find(s, se->subid);
        return sub_elem(a, list, se->jid, se->subid, sub ? sub->state : PUBSUB_SUB_NONE) != NULL;
    }
    if (s == NULL || s->nsubs == 0)
        return sub_elem(a, list, se->jid, NULL, PUBSUB_SUB_NONE) != NULL;
    for (uint32_t i = 0; i < s->nsubs; i++)
        if (!sub_elem(a, list, se->jid, s->subs[i].subid, s->subs[i].state))
            return false;
    return true;
}

/* The subscription writes of one entry into ops, or fails it; *creates counts the
 * subscriptions the request makes. */
static enum herald_rc sub_entry_ops(struct pubsub_req *r, struct pubsub_node *n,
                                    struct sub_entry *se, size_t *creates, struct pubsub_subop *ops,
                                    size_t *nops)
{
    bool allowed = se->target == PUBSUB_SUB_NONE || may_be_subscribed(n, r->a, se->jid);
    struct pubsub_subscriber *s = pubsub_node_subscriber(n, se->jid);
    if (se->subid || (s && s->nsubs)) {
        struct pubsub_sub *one = se->subid ? pubsub_sub_find(s, se->subid) : NULL;
        if ((se->subid && one == NULL) || !allowed) {
            se->failed = true;
            return HERALD_OK;
        }
        for (uint32_t j = 0; j < s->nsubs; j++) {
            struct pubsub_sub *sub = &s->subs[j];
            if ((one && sub != one) || sub->state == se->target)
                continue;
            /* se->jid, not s->jid: removing the last subscription frees s. */
            ops[*nops] = (struct pubsub_subop){
                .jid = se->jid, .from = sub->state, .to = se->target, .opts = sub->opts};
            memcpy(ops[(*nops)++].subid, sub->subid, sizeof(sub->subid));
        }
        return HERALD_OK;
    }
    if (se->target == PUBSUB_SUB_NONE)
        return HERALD_OK; /* nothing to remove */
    /* A new subscription made by the owner (the §8.8.2.1 example adds one). Pending is the
     * subscriber's own request and cannot be made up. */
    if (se->target == PUBSUB_SUB_PENDING || !allowed || !n->cfg.subscribe ||
        n->nsubs + *creates >= r->srv->cfg.pubsub_max_subscriptions ||
        !pubsub_key_fits(r->svc, n->name, se->jid, true)) {
        se->failed = true;
        return HERALD_OK;
    }
    struct pubsub_subop *op = &ops[(*nops)++];
    *op = (struct pubsub_subop){.jid = se->jid, .from = PUBSUB_SUB_NONE, .to = se->target};
    pubsub_subopts_defaults(&op->opts);
    (*creates)++;
    return pubsub_random_hex(op->subid, PUBSUB_SUBID_LEN / 2);
}

static void subs_modify(struct pubsub_req *r, struct pubsub_node *n)
{
    struct arena *a = r->a;
    size_t count, nops = 0, nfailed = 0, creates = 0;
    struct sub_entry *v = subs_parse(r, &count);
    if (v == NULL)
        return;
    /* Entries touch disjoint subscriptions, each at most once, plus one creation each. */
    struct pubsub_subop *ops = arena_calloc(a, count + n->nsubs + 1, sizeof(*ops));
    if (ops == NULL)
        goto fail;
    for (size_t i = 0; i < count; i++)
        if (!v[i].failed && v[i].change && sub_entry_ops(r, n, &v[i], &creates, ops, &nops))
            goto fail;
    struct xml_node *list = NULL, *payload = NULL;
    for (size_t i = 0; i < count; i++) {
        if (!v[i].failed)
            continue;
        if (nfailed++ == 0 && (payload = owner_list(a, n, "subscriptions", &list)) == NULL)
            goto fail;
        if (!subs_report(a, list, n, &v[i]))
            goto fail;
    }
    commit_and_reply(r, n, NULL, 0, ops, nops, payload);
    return;
fail:
    pubsub_reply_error(r, "internal-server-error", NULL);
}

void pubsub_handle_owner_subscriptions(struct pubsub_req *r)
{
    struct pubsub_node *n = pubsub_owner_node(r);
    if (n == NULL)
        return;
    if (strcmp(r->st->type, "set") == 0)
        subs_modify(r, n);
    else
        subs_retrieve(r, n);
}

/* ---- §8.9 affiliations ---- */

static struct xml_node *aff_elem(struct arena *a, struct xml_node *parent, const char *jid,
                                 enum pubsub_aff aff)
{
    struct xml_node *e = xml_add_child(a, parent, PUBSUB_NS_OWNER, "affiliation");
    if (e == NULL || xml_set_attr(a, e, "jid", jid) ||
        xml_set_attr(a, e, "affiliation", pubsub_aff_name(aff)))
        return NULL;
    return e;
}

/* §8.9.1: every affiliation but "none" (which is not stored). */
static void affs_retrieve(struct pubsub_req *r, struct pubsub_node *n)
{
    struct xml_node *list;
    struct xml_node *ps = owner_list(r->a, n, "affiliations", &list);
    size_t pos = 0;
    void *val;
    while (ps && hmap_iter(&n->affs, &pos, NULL, NULL, &val)) {
        const struct pubsub_affentry *e = val;
        if (e->aff != PUBSUB_AFF_NONE && !aff_elem(r->a, list, e->jid, e->aff))
            ps = NULL;
    }
    if (ps == NULL) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    router_reply_result(r->srv, r->st, ps);
}

struct aff_entry {
    struct xml_node *el;
    const char *bare; /* NULL when the attribute is not a JID */
    enum pubsub_aff old, target;
    bool change, failed;
};

static struct aff_entry *affs_parse(struct pubsub_req *r, const struct pubsub_node *n,
                                    size_t *count)
{
    struct arena *a = r->a;
    size_t cnt;
    if (!count_entries(r, "affiliation", &cnt))
        return NULL;
    struct aff_entry *v = arena_calloc(a, cnt ? cnt : 1, sizeof(*v));
    struct hmap seen;
    hmap_init(&seen, HERALD_MEM_PUBSUB);
    const char *bad = v ? NULL : "";
    size_t i = 0;
    for (struct xml_node *e = xml_child(r->op, PUBSUB_NS_OWNER, "affiliation"); e && !bad;
         e = xml_next(e, PUBSUB_NS_OWNER, "affiliation"), i++) {
        struct aff_entry *ae = &v[i];
        const char *raw = xml_attr(e, "jid");
        const char *aff = xml_attr(e, "affiliation");
        struct jid j;
        bool ok = true;
        ae->el = e;
        if (raw == NULL) {
            bad = "an affiliation without a 'jid'";
            break;
        }
        if (aff)
            ae->target = pubsub_aff_parse(aff, &ok);
        if (!ok) {
            bad = "an unknown affiliation";
            break;
        }
        ae->change = aff != NULL; /* without the attribute the value MUST NOT change */
        /* §4.1: affiliations belong to bare JIDs; a full JID stands for its bare JID. */
        if (jid_parse(a, raw, &j) || (ae->bare = jid_bare_str(a, &j)) == NULL) {
            ae->bare = NULL;
            ae->failed = true;
            continue;
        }
        ae->old = pubsub_node_aff(n, ae->bare);
        int dup = seen_before(&seen, ae->bare, strlen(ae->bare));
        if (dup < 0)
            bad = "";
        else if (dup > 0)
            bad = "the same entity twice"; /* §8.9.2.4: MUST be bad-request */
    }
    hmap_cleanup(&seen);
    if (bad) {
        reply_malformed(r, bad);
        return NULL;
    }
    *count = cnt;
    return v;
}

/* The §4.1 state chart (MUST-IMPLEMENT, §8.9.2.4): an owner can only resign (become
 * "none"), and a publisher cannot become a member. */
static bool aff_transition_ok(enum pubsub_aff from, enum pubsub_aff to)
{
    if (from == PUBSUB_AFF_OWNER)
        return to == PUBSUB_AFF_NONE;
    if (from == PUBSUB_AFF_PUBLISHER)
        return to != PUBSUB_AFF_MEMBER;
    return true;
}

/* The subscription writes that follow one affiliation change, collected from the store's
 * reverse index of that entity's subscriptions (its bare and full JIDs), so that the cost
 * is that entity's subscriptions, not the node's subscribers. */
struct side_ctx {
    struct arena *a;
    const struct pubsub_node *n;
    enum pubsub_aff target;
    struct pubsub_subop *ops;
    size_t nops, cap;
    bool oom;
};

static bool side_cb(void *arg, const char *node, const char *jid, const char *subid)
{
    struct side_ctx *x = arg;
    if (strcmp(node, x->n->name) != 0)
        return true;
    const struct pubsub_sub *sub = pubsub_sub_find(pubsub_node_subscriber(x->n, jid), subid);
    if (sub == NULL)
        return true;
    /* Outcasts and publish-only entities may not be subscribed (§4.1), so theirs go (pending
     * requests are rejected, §8.7); a new owner, publisher or member has its pending
     * requests approved (§8.7 note). */
    bool drop = x->target == PUBSUB_AFF_OUTCAST || x->target == PUBSUB_AFF_PUBLISH_ONLY;
    bool approve = x->target >= PUBSUB_AFF_MEMBER && x->target != PUBSUB_AFF_PUBLISH_ONLY;
    enum pubsub_substate to = sub->state;
    if (drop)
        to = PUBSUB_SUB_NONE;
    else if (approve && sub->state == PUBSUB_SUB_PENDING)
        to = PUBSUB_SUB_SUBSCRIBED;
    if (to == sub->state)
        return true;
    /* A copy: the index hands out a buffer of its own, and removing the last subscription
     * frees the subscriber. */
    const char *copy = arena_strdup(x->a, jid);
    if (copy == NULL || x->nops == x->cap) {
        x->oom = true;
        return false;
    }
    x->ops[x->nops] =
        (struct pubsub_subop){.jid = copy, .from = sub->state, .to = to, .opts = sub->opts};
    memcpy(x->ops[x->nops++].subid, sub->subid, sizeof(sub->subid));
    return true;
}

static void affs_modify(struct pubsub_req *r, struct pubsub_node *n)
{
    struct arena *a = r->a;
    size_t count, nfailed = 0, naffs = 0;
    struct aff_entry *v = affs_parse(r, n, &count);
    if (v == NULL)
        return;
    long owners = 0;
    size_t pos = 0;
    while (pubsub_node_next_owner(n, &pos))
        owners++;
    for (size_t i = 0; i < count; i++) {
        struct aff_entry *ae = &v[i];
        if (ae->failed || !ae->change || ae->old == ae->target)
            continue;
        if (!aff_transition_ok(ae->old, ae->target) ||
            (ae->target != PUBSUB_AFF_NONE && !pubsub_key_fits(r->svc, n->name, ae->bare, true))) {
            ae->failed = true;
            continue;
        }
        owners += (ae->target == PUBSUB_AFF_OWNER) - (ae->old == PUBSUB_AFF_OWNER);
    }
    /* §8.9.2.4: the last owner cannot go; the owners' entries fail, the others apply. */
    for (size_t i = 0; owners <= 0 && i < count; i++)
        if (!v[i].failed && v[i].change && v[i].old == PUBSUB_AFF_OWNER &&
            v[i].target != PUBSUB_AFF_OWNER)
            v[i].failed = true;
    struct pubsub_affop *affs = arena_calloc(a, count + 1, sizeof(*affs));
    struct side_ctx side = {.a = a, .n = n, .cap = n->nsubs + 1};
    side.ops = arena_calloc(a, side.cap, sizeof(*side.ops));
    struct xml_node *list = NULL, *payload = NULL;
    struct store_txn *t;
    if (affs == NULL || side.ops == NULL || store_read(r->srv->store, &t))
        goto fail;
    for (size_t i = 0; i < count; i++) {
        struct aff_entry *ae = &v[i];
        if (ae->failed) {
            if (nfailed++ == 0 && (payload = owner_list(a, n, "affiliations", &list)) == NULL)
                goto fail;
            const char *jid = ae->bare ? ae->bare : xml_attr(ae->el, "jid");
            if (!aff_elem(a, list, jid, ae->bare ? ae->old : PUBSUB_AFF_NONE))
                goto fail;
            continue;
        }
        if (!ae->change || ae->old == ae->target)
            continue;
        affs[naffs++] = (struct pubsub_affop){ae->bare, ae->target};
        /* Distinct bare JIDs: their subscriptions are disjoint. */
        side.target = ae->target;
        if (pubsub_store_subs_of_jid(t, r->svc->jid, ae->bare, side_cb, &side) || side.oom)
            goto fail;
    }
    commit_and_reply(r, n, affs, naffs, side.ops, side.nops, payload);
    return;
fail:
    pubsub_reply_error(r, "internal-server-error", NULL);
}

void pubsub_handle_owner_affiliations(struct pubsub_req *r)
{
    struct pubsub_node *n = pubsub_owner_node(r);
    if (n == NULL)
        return;
    if (strcmp(r->st->type, "set") == 0)
        affs_modify(r, n);
    else
        affs_retrieve(r, n);
}
