/*
 * pubsub_config.c - XEP-0060 node configuration: defaults (§8.3; XEP-0163 §4.3 for PEP), the
 * pubsub#node_config form both ways (§8.2, §17.4), publish-options preconditions (§7.1.5) and
 * the pubsub#meta-data form (§5.4).
 *
 * A submitted form is applied to a copy of the configuration, which replaces the original only
 * once every field was accepted: a rejected form changes nothing (§8.2.5.2). Preconditions are
 * checked the same way: the form is applied to a copy and the fields it names are compared, so
 * "1" matches true, "max" matches a max_items configured as "max", and a JID matches its
 * canonical form.
 */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "herald/pubsub_config.h"

#define NS_PUBSUB_ERRORS "http://jabber.org/protocol/pubsub#errors"
/* Seconds; keeps item_expire * 1e6 (the microsecond clock) far from int64 overflow. */
#define ITEM_EXPIRE_MAX INT32_MAX

/* Index of each field in FIELDS, in the order of the §8.2.1 example followed by the
 * registered fields it leaves out; the form shows the fields before CF_SHOWN. */
enum cfg_id {
    CF_TITLE,
    CF_DESCRIPTION,
    CF_DELIVER_NOTIFICATIONS,
    CF_DELIVER_PAYLOADS,
    CF_NOTIFY_CONFIG,
    CF_NOTIFY_DELETE,
    CF_NOTIFY_RETRACT,
    CF_NOTIFY_SUB,
    CF_PERSIST_ITEMS,
    CF_MAX_ITEMS,
    CF_ITEM_EXPIRE,
    CF_SUBSCRIBE,
    CF_ACCESS_MODEL,
    CF_ROSTER_GROUPS,
    CF_PUBLISH_MODEL,
    CF_PURGE_OFFLINE,
    CF_MAX_PAYLOAD,
    CF_SEND_LAST,
    CF_PRESENCE_BASED,
    CF_NOTIFICATION_TYPE,
    CF_TYPE,
    CF_LANGUAGE,
    CF_CONTACT,
    CF_TEMPSUB,
    CF_ITEMREPLY,
    CF_NODE_FULL,
    CF_NODE_TYPE,
    CF_SHOWN,
    /* XEP-0248 collection fields: known only to answer them with <unsupported/>. */
    CF_CHILDREN = CF_SHOWN,
    CF_CHILDREN_POLICY,
    CF_CHILDREN_WHITELIST,
    CF_CHILDREN_MAX,
    CF_COLLECTION,
    CF_COUNT
};

/* One option of a list-single field: its form value, its §17.4 label, its enum value. */
struct choice {
    const char *value;
    const char *label;
    int v;
};

static const struct choice ACCESS_CHOICES[] = {
    {"authorize", "Subscription requests must be approved and only subscribers may retrieve items",
     PUBSUB_ACCESS_AUTHORIZE},
    {"open", "Anyone may subscribe and retrieve items", PUBSUB_ACCESS_OPEN},
    {"presence",
     "Anyone with a presence subscription of both or from may subscribe and retrieve items",
     PUBSUB_ACCESS_PRESENCE},
    {"roster", "Anyone in the specified roster group(s) may subscribe and retrieve items",
     PUBSUB_ACCESS_ROSTER},
    {"whitelist", "Only those on a whitelist may subscribe and retrieve items",
     PUBSUB_ACCESS_WHITELIST},
};
static const struct choice PUBLISH_CHOICES[] = {
    {"publishers", "Only publishers may publish", PUBSUB_PUBLISH_PUBLISHERS},
    {"subscribers", "Subscribers may publish", PUBSUB_PUBLISH_SUBSCRIBERS},
    {"open", "Anyone may publish", PUBSUB_PUBLISH_OPEN},
};
static const struct choice SEND_LAST_CHOICES[] = {
    {"never", "Never", PUBSUB_SEND_LAST_NEVER},
    {"on_sub", "When a new subscription is processed", PUBSUB_SEND_LAST_ON_SUB},
    {"on_sub_and_presence",
     "When a new subscription is processed and whenever a subscriber comes online",
     PUBSUB_SEND_LAST_ON_SUB_AND_PRESENCE},
};
static const struct choice ITEMREPLY_CHOICES[] = {
    {"owner", "Statically specify a replyto of the node owner(s)", PUBSUB_ITEMREPLY_OWNER},
    {"publisher", "Dynamically specify a replyto of the item publisher",
     PUBSUB_ITEMREPLY_PUBLISHER},
};
static const struct choice NOTIFICATION_CHOICES[] = {
    {"normal", "Messages of type normal", PUBSUB_NOTIFY_NORMAL},
    {"headline", "Messages of type headline", PUBSUB_NOTIFY_HEADLINE},
};
static const struct choice NODE_FULL_CHOICES[] = {
    {"retract-oldest", "Retract the oldest item alongside publishing the new item.",
     PUBSUB_FULL_RETRACT_OLDEST},
    {"discard-oldest", "Discard the oldest item alongside publishing the new item.",
     PUBSUB_FULL_DISCARD_OLDEST},
    {"reject", "Reject publication of the new item.", PUBSUB_FULL_REJECT},
};
/* Only leaf nodes exist here; "collection" is accepted by the table so that it gets the
 * XEP-0248 §5.1.3.1 error rather than a generic one. */
static const struct choice NODE_TYPE_CHOICES[] = {
    {"leaf", "The node is a leaf node (default)", 0},
};

/* The NULL-terminated option lists forms_form_validate checks against (same order). */
static const char *const ACCESS_VALUES[] = {"authorize", "open",      "presence",
                                            "roster",    "whitelist", NULL};
static const char *const PUBLISH_VALUES[] = {"publishers", "subscribers", "open", NULL};
static const char *const SEND_LAST_VALUES[] = {"never", "on_sub", "on_sub_and_presence", NULL};
static const char *const ITEMREPLY_VALUES[] = {"owner", "publisher", NULL};
static const char *const NOTIFICATION_VALUES[] = {"normal", "headline", NULL};
static const char *const NODE_FULL_VALUES[] = {"retract-oldest", "discard-oldest", "reject", NULL};
static const char *const NODE_TYPE_VALUES[] = {"leaf", "collection", NULL};
static const char *const MAX_KEYWORD[] = {"max", NULL};

/*
 * One field: how a submitted value is checked (forms_form_validate; the max_items and
 * max_payload_size bounds are set per call from the limits), its label (the §8.2.1 example's
 * where it has the field, else §17.4's), its options for the enum list-single fields, and
 * where the value lives (`off`: the bool, char * or strlist member, by the field's type).
 */
struct cfg_def {
    struct forms_spec_field spec;
    const char *label;
    const struct choice *choices;
    size_t nchoices;
    size_t off;
};

#define SPEC(v, t, ...) .spec = {.var = "pubsub#" v, .type = FORMS_FIELD_##t, __VA_ARGS__}
#define LIST1(v, vals, ch)                                                                         \
    SPEC(v, LIST_SINGLE, .options = vals), .choices = ch, .nchoices = HERALD_ARRAY_LEN(ch)
#define BOOLF(v, m)   SPEC(v, BOOLEAN), .off = offsetof(struct pubsub_config, m)
#define TEXT(v, t, m) SPEC(v, t), .off = offsetof(struct pubsub_config, m)

static const struct cfg_def FIELDS[CF_COUNT] = {
    [CF_TITLE] = {TEXT("title", TEXT_SINGLE, title), .label = "A friendly name for the node"},
    [CF_DESCRIPTION] = {TEXT("description", TEXT_SINGLE, description),
                        .label = "A description of the node"},
    [CF_DELIVER_NOTIFICATIONS] = {BOOLF("deliver_notifications", deliver_notifications),
                                  .label = "Whether to deliver event notifications"},
    [CF_DELIVER_PAYLOADS] = {BOOLF("deliver_payloads", deliver_payloads),
                             .label = "Whether to deliver payloads with event notifications"},
    [CF_NOTIFY_CONFIG] = {BOOLF("notify_config", notify_config),
                          .label = "Notify subscribers when the node configuration changes"},
    [CF_NOTIFY_DELETE] = {BOOLF("notify_delete", notify_delete),
                          .label = "Notify subscribers when the node is deleted"},
    [CF_NOTIFY_RETRACT] = {BOOLF("notify_retract", notify_retract),
                           .label = "Notify subscribers when items are removed from the node"},
    [CF_NOTIFY_SUB] = {BOOLF("notify_sub", notify_sub),
                       .label = "Notify owners about new subscribers and unsubscribes"},
    [CF_PERSIST_ITEMS] = {BOOLF("persist_items", persist_items),
                          .label = "Persist items to storage"},
    [CF_MAX_ITEMS] = {SPEC("max_items", TEXT_SINGLE, .options = MAX_KEYWORD, .integer = true,
                           .min = 1),
                      .label = "Max # of items to persist. `max` for no specific limit other "
                               "than a server imposed maximum."},
    [CF_ITEM_EXPIRE] = {SPEC("item_expire", TEXT_SINGLE, .options = MAX_KEYWORD, .integer = true,
                             .min = 0, .max = ITEM_EXPIRE_MAX),
                        .label = "Time after which to automatically purge items. `max` for no "
                                 "specific limit other than a server imposed maximum."},
    [CF_SUBSCRIBE] = {BOOLF("subscribe", subscribe), .label = "Whether to allow subscriptions"},
    [CF_ACCESS_MODEL] = {LIST1("access_model", ACCESS_VALUES, ACCESS_CHOICES),
                         .label = "Specify the subscriber model"},
    [CF_ROSTER_GROUPS] = {TEXT("roster_groups_allowed", LIST_MULTI, roster_groups_allowed),
                          .label = "Roster groups allowed to subscribe"},
    [CF_PUBLISH_MODEL] = {LIST1("publish_model", PUBLISH_VALUES, PUBLISH_CHOICES),
                          .label = "Specify the publisher model"},
    [CF_PURGE_OFFLINE] = {BOOLF("purge_offline", purge_offline),
                          .label = "Purge all items when the relevant publisher goes offline?"},
    [CF_MAX_PAYLOAD] = {SPEC("max_payload_size", TEXT_SINGLE, .integer = true, .min = 1),
                        .label = "Max Payload size in bytes"},
    [CF_SEND_LAST] = {LIST1("send_last_published_item", SEND_LAST_VALUES, SEND_LAST_CHOICES),
                      .label = "When to send the last published item"},
    [CF_PRESENCE_BASED] = {BOOLF("presence_based_delivery", presence_based_delivery),
                           .label = "Deliver event notifications only to available users"},
    [CF_NOTIFICATION_TYPE] = {LIST1("notification_type", NOTIFICATION_VALUES, NOTIFICATION_CHOICES),
                              .label = "Specify the delivery style for event notifications"},
    [CF_TYPE] = {TEXT("type", TEXT_SINGLE, type),
                 .label = "Specify the semantic type of payload data to be provided at this "
                          "node."},
    [CF_LANGUAGE] = {TEXT("language", LIST_SINGLE, language),
                     .label = "The default language of the node"},
    [CF_CONTACT] = {TEXT("contact", JID_MULTI, contact),
                    .label = "The JIDs of those to contact with questions"},
    [CF_TEMPSUB] = {BOOLF("tempsub", tempsub),
                    .label = "Whether to make all subscriptions temporary, based on subscriber "
                             "presence"},
    [CF_ITEMREPLY] = {LIST1("itemreply", ITEMREPLY_VALUES, ITEMREPLY_CHOICES),
                      .label = "Whether owners or publisher should receive replies to items"},
    [CF_NODE_FULL] = {LIST1("publish_node_full", NODE_FULL_VALUES, NODE_FULL_CHOICES),
                      .label = "Action to be performed by the service when publishing on a "
                               "full node."},
    [CF_NODE_TYPE] = {LIST1("node_type", NODE_TYPE_VALUES, NODE_TYPE_CHOICES),
                      .label = "Whether the node is a leaf (default)"},
    [CF_CHILDREN] = {SPEC("children", TEXT_MULTI)},
    [CF_CHILDREN_POLICY] = {SPEC("children_association_policy", LIST_SINGLE)},
    [CF_CHILDREN_WHITELIST] = {SPEC("children_association_whitelist", JID_MULTI)},
    [CF_CHILDREN_MAX] = {SPEC("children_max", TEXT_SINGLE)},
    [CF_COLLECTION] = {SPEC("collection", TEXT_MULTI)},
};

static bool *bool_at(struct pubsub_config *c, enum cfg_id id)
{
    return (bool *)((char *)c + FIELDS[id].off);
}

static bool bool_of(const struct pubsub_config *c, enum cfg_id id)
{
    return *(const bool *)((const char *)c + FIELDS[id].off);
}

static char **str_at(struct pubsub_config *c, enum cfg_id id)
{
    return (char **)((char *)c + FIELDS[id].off);
}

static const char *str_of(const struct pubsub_config *c, enum cfg_id id)
{
    return *(char *const *)((const char *)c + FIELDS[id].off);
}

static struct pubsub_strlist *list_at(struct pubsub_config *c, enum cfg_id id)
{
    return (struct pubsub_strlist *)((char *)c + FIELDS[id].off);
}

static const struct pubsub_strlist *list_of(const struct pubsub_config *c, enum cfg_id id)
{
    return (const struct pubsub_strlist *)((const char *)c + FIELDS[id].off);
}

static int enum_of(const struct pubsub_config *c, enum cfg_id id)
{
    switch (id) {
    case CF_ACCESS_MODEL:
        return (int)c->access_model;
    case CF_PUBLISH_MODEL:
        return (int)c->publish_model;
    case CF_SEND_LAST:
        return (int)c->send_last_published_item;
    case CF_ITEMREPLY:
        return (int)c->itemreply;
    case CF_NOTIFICATION_TYPE:
        return (int)c->notification_type;
    case CF_NODE_FULL:
        return (int)c->publish_node_full;
    default:
        return 0; /* node_type: always leaf */
    }
}

static void enum_set(struct pubsub_config *c, enum cfg_id id, int v)
{
    switch (id) {
    case CF_ACCESS_MODEL:
        c->access_model = (enum pubsub_access_model)v;
        break;
    case CF_PUBLISH_MODEL:
        c->publish_model = (enum pubsub_publish_model)v;
        break;
    case CF_SEND_LAST:
        c->send_last_published_item = (enum pubsub_send_last)v;
        break;
    case CF_ITEMREPLY:
        c->itemreply = (enum pubsub_itemreply)v;
        break;
    case CF_NOTIFICATION_TYPE:
        c->notification_type = (enum pubsub_notification_type)v;
        break;
    case CF_NODE_FULL:
        c->publish_node_full = (enum pubsub_node_full)v;
        break;
    default:
        break;
    }
}

static const char *choice_name(const struct choice *c, size_t n, int v)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].v == v)
            return c[i].value;
    return NULL;
}

static const struct choice *choice_find(const struct choice *c, size_t n, const char *value)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].value, value) == 0)
            return &c[i];
    return NULL;
}

const char *pubsub_access_model_name(enum pubsub_access_model m)
{
    return choice_name(ACCESS_CHOICES, HERALD_ARRAY_LEN(ACCESS_CHOICES), (int)m);
}

/* ---- values ---- */

void pubsub_config_defaults(const struct pubsub_limits *lim, bool pep, struct pubsub_config *out)
{
    /*
     * XEP-0163 §4.3 for PEP: presence access, on_sub_and_presence; notifications follow
     * presence (§2.3 "Use Presence"). XEP-0163 says nothing of notify_retract, but the PEP
     * profiles (XEP-0277 §4.1, XEP-0472 §4.2.1) require it, so PEP nodes have it on.
     */
    *out = (struct pubsub_config){
        .access_model = pep ? PUBSUB_ACCESS_PRESENCE : PUBSUB_ACCESS_OPEN,
        .publish_model = PUBSUB_PUBLISH_PUBLISHERS,
        .send_last_published_item =
            pep ? PUBSUB_SEND_LAST_ON_SUB_AND_PRESENCE : PUBSUB_SEND_LAST_NEVER,
        .itemreply = PUBSUB_ITEMREPLY_OWNER,
        .notification_type = PUBSUB_NOTIFY_HEADLINE,
        .publish_node_full = PUBSUB_FULL_RETRACT_OLDEST,
        .max_items = pep ? 1 : lim->max_items_default,
        .max_payload_size = lim->max_payload,
        .item_expire = 0,
        .persist_items = true,
        .deliver_payloads = true,
        .deliver_notifications = true,
        /* §8.4.2: subscribers MUST hear of the node's deletion. */
        .notify_delete = true,
        .notify_retract = pep,
        .presence_based_delivery = pep,
        .subscribe = true,
    };
}

static void strlist_clear(struct pubsub_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        herald_free(HERALD_MEM_PUBSUB, l->v[i]);
    herald_free(HERALD_MEM_PUBSUB, l->v);
    l->v = NULL;
    l->n = 0;
}

/* A heap list of copies of v[0..n), in order. *out is untouched on failure. */
static enum herald_rc strlist_make(struct pubsub_strlist *out, const char *const *v, size_t n)
{
    struct pubsub_strlist l = {0};
    if (n == 0) {
        *out = l;
        return HERALD_OK;
    }
    l.v = herald_calloc(HERALD_MEM_PUBSUB, n, sizeof(*l.v));
    if (l.v == NULL)
        return HERALD_ENOMEM;
    for (; l.n < n; l.n++) {
        l.v[l.n] = herald_strdup(HERALD_MEM_PUBSUB, v[l.n]);
        if (l.v[l.n] == NULL) {
            strlist_clear(&l);
            return HERALD_ENOMEM;
        }
    }
    *out = l;
    return HERALD_OK;
}

static enum herald_rc str_copy(char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return HERALD_OK;
    *dst = herald_strdup(HERALD_MEM_PUBSUB, src);
    return *dst ? HERALD_OK : HERALD_ENOMEM;
}

enum herald_rc pubsub_config_copy(struct pubsub_config *dst, const struct pubsub_config *src)
{
    struct pubsub_config c = *src;
    c.title = c.description = c.type = c.language = NULL;
    c.roster_groups_allowed = (struct pubsub_strlist){0};
    c.contact = (struct pubsub_strlist){0};
    if (str_copy(&c.title, src->title) != HERALD_OK ||
        str_copy(&c.description, src->description) != HERALD_OK ||
        str_copy(&c.type, src->type) != HERALD_OK ||
        str_copy(&c.language, src->language) != HERALD_OK ||
        strlist_make(&c.roster_groups_allowed, (const char *const *)src->roster_groups_allowed.v,
                     src->roster_groups_allowed.n) != HERALD_OK ||
        strlist_make(&c.contact, (const char *const *)src->contact.v, src->contact.n) !=
            HERALD_OK) {
        pubsub_config_cleanup(&c);
        return HERALD_ENOMEM;
    }
    *dst = c;
    return HERALD_OK;
}

void pubsub_config_cleanup(struct pubsub_config *cfg)
{
    herald_free(HERALD_MEM_PUBSUB, cfg->title);
    herald_free(HERALD_MEM_PUBSUB, cfg->description);
    herald_free(HERALD_MEM_PUBSUB, cfg->type);
    herald_free(HERALD_MEM_PUBSUB, cfg->language);
    cfg->title = cfg->description = cfg->type = cfg->language = NULL;
    strlist_clear(&cfg->roster_groups_allowed);
    strlist_clear(&cfg->contact);
}

/* ---- the form we send ---- */

static enum herald_rc add_bool(struct arena *a, struct forms_field *fl, bool v)
{
    return forms_field_add_value(a, fl, v ? "1" : "0");
}

static enum herald_rc add_choices(struct arena *a, struct forms_field *fl, const struct cfg_def *in)
{
    for (size_t i = 0; i < in->nchoices; i++) {
        enum herald_rc rc =
            forms_field_add_option(a, fl, in->choices[i].label, in->choices[i].value);
        if (rc != HERALD_OK)
            return rc;
    }
    return HERALD_OK;
}

static enum herald_rc add_list(struct arena *a, struct forms_field *fl,
                               const struct pubsub_strlist *l, bool as_options)
{
    for (size_t i = 0; i < l->n; i++) {
        enum herald_rc rc = as_options ? forms_field_add_option(a, fl, NULL, l->v[i])
                                       : forms_field_add_value(a, fl, l->v[i]);
        if (rc != HERALD_OK)
            return rc;
    }
    return HERALD_OK;
}

static enum herald_rc add_uint(struct arena *a, struct forms_field *fl, uint64_t v)
{
    const char *s = arena_printf(a, "%" PRIu64, v);
    return s ? forms_field_add_value(a, fl, s) : HERALD_ENOMEM;
}

/* One field of the node_config form with its current value(s). */
static enum herald_rc add_config_field(struct arena *a, struct forms_form *f, enum cfg_id id,
                                       const struct pubsub_config *cfg,
                                       const struct pubsub_limits *lim)
{
    const struct forms_spec_field *sf = &FIELDS[id].spec;
    const struct cfg_def *in = &FIELDS[id];
    struct forms_field *fl = NULL;
    enum herald_rc rc = forms_form_add_field(a, f, sf->var, sf->type, in->label, &fl);
    if (rc != HERALD_OK)
        return rc;
    const char *desc = NULL;
    switch (id) {
    case CF_MAX_ITEMS:
        desc = arena_printf(a, "At most %" PRIu64, lim->max_items_limit);
        if (desc == NULL)
            return HERALD_ENOMEM;
        rc = cfg->max_items_is_max ? forms_field_add_value(a, fl, "max")
                                   : add_uint(a, fl, cfg->max_items);
        break;
    case CF_MAX_PAYLOAD:
        desc = arena_printf(a, "At most %" PRIu64, lim->max_payload);
        if (desc == NULL)
            return HERALD_ENOMEM;
        rc = add_uint(a, fl, cfg->max_payload_size);
        break;
    case CF_ITEM_EXPIRE:
        /* 0 is "never": the label's `max`, not a zero-second lifetime. */
        rc = cfg->item_expire == 0 ? forms_field_add_value(a, fl, "max")
                                   : add_uint(a, fl, cfg->item_expire);
        break;
    case CF_TITLE:
    case CF_DESCRIPTION:
    case CF_TYPE:
        if (str_of(cfg, id) != NULL)
            rc = forms_field_add_value(a, fl, str_of(cfg, id));
        break;
    case CF_LANGUAGE:
        /* list-single (§5.4 note), but any language may be set: offer the current one. */
        if (cfg->language == NULL)
            break;
        rc = forms_field_add_option(a, fl, NULL, cfg->language);
        if (rc == HERALD_OK)
            rc = forms_field_add_value(a, fl, cfg->language);
        break;
    case CF_ROSTER_GROUPS:
        /* The owner's roster groups are not known here: offer the ones already allowed. */
        if ((rc = add_list(a, fl, &cfg->roster_groups_allowed, true)) == HERALD_OK)
            rc = add_list(a, fl, &cfg->roster_groups_allowed, false);
        break;
    case CF_CONTACT:
        rc = add_list(a, fl, &cfg->contact, false);
        break;
    default:
        if (sf->type == FORMS_FIELD_BOOLEAN) {
            rc = add_bool(a, fl, bool_of(cfg, id));
        } else if ((rc = add_choices(a, fl, in)) == HERALD_OK) {
            const char *v = choice_name(in->choices, in->nchoices, enum_of(cfg, id));
            rc = v ? forms_field_add_value(a, fl, v) : HERALD_EINVAL;
        }
        break;
    }
    if (rc == HERALD_OK && desc != NULL)
        rc = forms_field_set_desc(a, fl, desc);
    return rc;
}

enum herald_rc pubsub_config_to_form(struct arena *a, const struct pubsub_config *cfg,
                                     const struct pubsub_limits *lim, struct xml_node **x)
{
    struct forms_form *f = forms_form_new(a, FORMS_TYPE_FORM);
    if (f == NULL)
        return HERALD_ENOMEM;
    enum herald_rc rc = forms_form_add_form_type(a, f, PUBSUB_NS_NODE_CONFIG);
    for (int id = 0; rc == HERALD_OK && id < CF_SHOWN; id++)
        rc = add_config_field(a, f, (enum cfg_id)id, cfg, lim);
    if (rc != HERALD_OK)
        return rc;
    return forms_form_to_xml(a, f, x);
}

/* ---- forms we receive ---- */

static enum herald_rc reject(struct xmpp_error *err, struct arena *a, const char *cond,
                             const char *var, const char *reason)
{
    *err = xmpp_error_of(cond);
    err->text = reason;
    if (var != NULL) {
        const char *t = arena_printf(a, "%s: %s", var, reason);
        if (t != NULL)
            err->text = t;
    }
    return HERALD_EINVAL;
}

static enum herald_rc out_of_memory(struct xmpp_error *err)
{
    *err = xmpp_error_of("resource-constraint");
    return HERALD_ENOMEM;
}

/* XEP-0248 §5.1.3.1: collections are not implemented here. */
static enum herald_rc reject_collections(struct xmpp_error *err, struct arena *a, const char *var)
{
    reject(err, a, "feature-not-implemented", var, "collection nodes are not supported");
    err->app_ns = NS_PUBSUB_ERRORS;
    err->app_name = "unsupported";
    err->app_attr = "feature";
    err->app_attr_value = "collections";
    return HERALD_EINVAL;
}

static int field_id(const char *var)
{
    for (int i = 0; i < CF_COUNT; i++)
        if (strcmp(FIELDS[i].spec.var, var) == 0)
            return i;
    return -1;
}

/*
 * Parse x and check it against the spec. *out is NULL for a cancel form (config only).
 * Configuration accepts a node_config or publish-options FORM_TYPE (the latter so that a node
 * auto-created by a publish takes its preconditions, §7.1.5 rule 3), or none; preconditions
 * require publish-options (§7.1.5).
 */
static enum herald_rc parse_submitted(struct arena *a, const struct xml_node *x,
                                      const struct pubsub_limits *lim, bool preconditions,
                                      struct forms_form **out, struct xmpp_error *err)
{
    struct forms_form *f = NULL;
    const char *why = NULL;
    *out = NULL;
    enum herald_rc rc = forms_form_parse(a, x, NULL, &f, &why);
    if (rc == HERALD_ENOMEM)
        return out_of_memory(err);
    if (rc != HERALD_OK)
        return reject(err, a, "bad-request", NULL, why ? why : "malformed data form");
    if (f->type == FORMS_TYPE_CANCEL && !preconditions)
        return HERALD_OK; /* §8.2.4: the existing configuration stays */
    if (f->type != FORMS_TYPE_SUBMIT)
        return reject(err, a, "bad-request", NULL, "the form is not of type submit");
    const char *ft = NULL;
    rc = forms_form_get_form_type(f, &ft);
    if (rc == HERALD_EPROTO)
        return reject(err, a, "bad-request", FORMS_FORM_TYPE, "FORM_TYPE is ill-formed");
    if (rc == HERALD_ENOTFOUND && preconditions)
        return reject(err, a, "bad-request", FORMS_FORM_TYPE, "FORM_TYPE is missing");
    if (rc == HERALD_OK && strcmp(ft, PUBSUB_NS_PUB_OPTIONS) != 0 &&
        (preconditions || strcmp(ft, PUBSUB_NS_NODE_CONFIG) != 0))
        return reject(err, a, "bad-request", FORMS_FORM_TYPE, "FORM_TYPE is not the expected one");

    struct forms_spec_field fields[CF_COUNT];
    for (int i = 0; i < CF_COUNT; i++)
        fields[i] = FIELDS[i].spec;
    fields[CF_MAX_ITEMS].max =
        lim->max_items_limit > INT64_MAX ? INT64_MAX : (int64_t)lim->max_items_limit;
    fields[CF_MAX_PAYLOAD].max =
        lim->max_payload > INT64_MAX ? INT64_MAX : (int64_t)lim->max_payload;
    const struct forms_spec spec = {.form_type = NULL, .fields = fields, .nfields = CF_COUNT};
    struct forms_problem p;
    rc = forms_form_validate(a, f, &spec, 0, &p);
    if (rc == HERALD_ENOMEM)
        return out_of_memory(err);
    if (rc != HERALD_OK) {
        /* §8.2.5.2: values the service cannot take are not-acceptable; a malformed form is a
         * bad request. */
        bool malformed = p.error == FORMS_ERR_NOT_SUBMIT || p.error == FORMS_ERR_FORM_TYPE ||
                         p.error == FORMS_ERR_MULTIPLE_VALUES;
        return reject(err, a, malformed ? "bad-request" : "not-acceptable", p.var, p.reason);
    }
    *out = f;
    return HERALD_OK;
}

/* RFC 5646 §2.1 shape: subtags of 1-8 letters or digits, the first one letters only. */
static bool language_tag_ok(const char *s)
{
    size_t sub = 0;
    bool first = true;
    for (;; s++) {
        char c = *s;
        if (c == '-' || c == '\0') {
            if (sub == 0)
                return false;
            if (c == '\0')
                return true;
            sub = 0;
            first = false;
            continue;
        }
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        bool digit = c >= '0' && c <= '9';
        if (!(alpha || (digit && !first)) || ++sub > 8)
            return false;
    }
}

static enum herald_rc set_string(struct pubsub_config *c, enum cfg_id id, const char *v,
                                 struct arena *a, struct xmpp_error *err)
{
    char **slot = str_at(c, id);
    if (v == NULL) {
        herald_free(HERALD_MEM_PUBSUB, *slot);
        *slot = NULL;
        return HERALD_OK;
    }
    if (strlen(v) > PUBSUB_CONFIG_STR_MAX)
        return reject(err, a, "not-acceptable", FIELDS[id].spec.var, "value too long");
    if (id == CF_LANGUAGE && !language_tag_ok(v))
        return reject(err, a, "not-acceptable", FIELDS[id].spec.var, "not a language tag");
    char *s = herald_strdup(HERALD_MEM_PUBSUB, v);
    if (s == NULL)
        return out_of_memory(err);
    herald_free(HERALD_MEM_PUBSUB, *slot);
    *slot = s;
    return HERALD_OK;
}

/* roster_groups_allowed and contact (the validator already canonicalised and deduplicated
 * the JIDs); duplicate group names are dropped like duplicate JIDs. */
static enum herald_rc set_list(struct pubsub_config *c, enum cfg_id id,
                               const struct forms_field *fl, struct arena *a,
                               struct xmpp_error *err)
{
    const char *var = FIELDS[id].spec.var;
    if (fl->nvalues > PUBSUB_CONFIG_LIST_MAX)
        return reject(err, a, "not-acceptable", var, "too many values");
    const char **kept = arena_calloc(a, fl->nvalues + 1, sizeof(*kept));
    if (kept == NULL)
        return out_of_memory(err);
    size_t n = 0;
    for (size_t i = 0; i < fl->nvalues; i++) {
        const char *v = fl->values[i];
        if (v[0] == '\0')
            return reject(err, a, "not-acceptable", var, "empty value");
        if (strlen(v) > PUBSUB_CONFIG_STR_MAX)
            return reject(err, a, "not-acceptable", var, "value too long");
        size_t j = 0;
        while (j < n && strcmp(kept[j], v) != 0)
            j++;
        if (j == n)
            kept[n++] = v;
    }
    struct pubsub_strlist l;
    if (strlist_make(&l, kept, n) != HERALD_OK)
        return out_of_memory(err);
    strlist_clear(list_at(c, id));
    *list_at(c, id) = l;
    return HERALD_OK;
}

static enum herald_rc set_number(struct pubsub_config *c, enum cfg_id id, const char *v,
                                 const struct pubsub_limits *lim, struct arena *a,
                                 struct xmpp_error *err)
{
    bool is_max = strcmp(v, "max") == 0;
    int64_t n = 0;
    /* The validator checked the range against the same limits; parse to get the number. */
    if (!is_max && forms_value_int(v, 0, INT64_MAX, &n) != HERALD_OK)
        return reject(err, a, "not-acceptable", FIELDS[id].spec.var, "not an integer");
    switch (id) {
    case CF_MAX_ITEMS:
        c->max_items_is_max = is_max;
        c->max_items = is_max ? lim->max_items_limit : (uint64_t)n;
        break;
    case CF_ITEM_EXPIRE:
        c->item_expire = is_max ? 0 : (uint64_t)n;
        break;
    default:
        c->max_payload_size = (uint64_t)n;
        break;
    }
    return HERALD_OK;
}

/* Apply one validated field onto c. A field sent without a value unsets strings and lists;
 * booleans, choices and numbers have no "unset" and keep their value (XEP-0004 §3.6). */
static enum herald_rc apply_field(struct pubsub_config *c, enum cfg_id id,
                                  const struct forms_field *fl, const struct pubsub_limits *lim,
                                  struct arena *a, struct xmpp_error *err)
{
    const char *v = fl->nvalues > 0 ? fl->values[0] : NULL;
    const struct forms_spec_field *sf = &FIELDS[id].spec;
    switch (id) {
    case CF_TITLE:
    case CF_DESCRIPTION:
    case CF_TYPE:
    case CF_LANGUAGE:
        return set_string(c, id, v, a, err);
    case CF_ROSTER_GROUPS:
    case CF_CONTACT:
        return set_list(c, id, fl, a, err);
    case CF_CHILDREN:
    case CF_CHILDREN_POLICY:
    case CF_CHILDREN_WHITELIST:
    case CF_CHILDREN_MAX:
    case CF_COLLECTION:
        return v == NULL ? HERALD_OK : reject_collections(err, a, sf->var);
    default:
        break;
    }
    if (v == NULL)
        return HERALD_OK;
    if (id == CF_NODE_TYPE)
        return strcmp(v, "leaf") == 0 ? HERALD_OK : reject_collections(err, a, sf->var);
    if (id == CF_MAX_ITEMS || id == CF_MAX_PAYLOAD || id == CF_ITEM_EXPIRE)
        return set_number(c, id, v, lim, a, err);
    if (sf->type == FORMS_FIELD_BOOLEAN) {
        if (forms_value_bool(v, bool_at(c, id)) != HERALD_OK)
            return reject(err, a, "not-acceptable", sf->var, "not a boolean");
        return HERALD_OK;
    }
    const struct cfg_def *in = &FIELDS[id];
    const struct choice *ch = choice_find(in->choices, in->nchoices, v);
    if (ch == NULL)
        return reject(err, a, "not-acceptable", sf->var, "value not among the options");
    enum_set(c, id, ch->v);
    return HERALD_OK;
}

static enum herald_rc apply_fields(struct pubsub_config *c, const struct forms_form *f,
                                   const struct pubsub_limits *lim, struct arena *a,
                                   struct xmpp_error *err)
{
    for (const struct forms_field *fl = f->fields.first; fl; fl = fl->next) {
        int id = fl->var ? field_id(fl->var) : -1;
        if (id < 0)
            continue; /* FORM_TYPE and fixed fields: the validator let only these through */
        enum herald_rc rc = apply_field(c, (enum cfg_id)id, fl, lim, a, err);
        if (rc != HERALD_OK)
            return rc;
    }
    return HERALD_OK;
}

enum herald_rc pubsub_config_apply_form(struct pubsub_config *cfg, const struct xml_node *x,
                                        const struct pubsub_limits *lim, struct arena *a,
                                        struct xmpp_error *err)
{
    struct forms_form *f = NULL;
    enum herald_rc rc = parse_submitted(a, x, lim, false, &f, err);
    if (rc != HERALD_OK || f == NULL)
        return rc;
    struct pubsub_config tmp;
    if (pubsub_config_copy(&tmp, cfg) != HERALD_OK)
        return out_of_memory(err);
    rc = apply_fields(&tmp, f, lim, a, err);
    if (rc != HERALD_OK) {
        pubsub_config_cleanup(&tmp);
        return rc;
    }
    pubsub_config_cleanup(cfg);
    *cfg = tmp;
    return HERALD_OK;
}

static bool strlist_same_set(const struct pubsub_strlist *x, const struct pubsub_strlist *y)
{
    if (x->n != y->n)
        return false;
    for (size_t i = 0; i < x->n; i++) {
        size_t j = 0;
        while (j < y->n && strcmp(x->v[i], y->v[j]) != 0)
            j++;
        if (j == y->n)
            return false;
    }
    return true; /* both lists are free of duplicates */
}

/* Does field `id` have the same value in both configurations? */
static bool field_same(enum cfg_id id, const struct pubsub_config *x, const struct pubsub_config *y)
{
    switch (id) {
    case CF_MAX_ITEMS:
        return x->max_items == y->max_items && x->max_items_is_max == y->max_items_is_max;
    case CF_MAX_PAYLOAD:
        return x->max_payload_size == y->max_payload_size;
    case CF_ITEM_EXPIRE:
        return x->item_expire == y->item_expire;
    case CF_TITLE:
    case CF_DESCRIPTION:
    case CF_TYPE:
    case CF_LANGUAGE: {
        const char *p = str_of(x, id), *q = str_of(y, id);
        return p == NULL || q == NULL ? p == q : strcmp(p, q) == 0;
    }
    case CF_ROSTER_GROUPS:
    case CF_CONTACT:
        return strlist_same_set(list_of(x, id), list_of(y, id));
    default:
        break;
    }
    if (FIELDS[id].spec.type == FORMS_FIELD_BOOLEAN)
        return bool_of(x, id) == bool_of(y, id);
    return enum_of(x, id) == enum_of(y, id); /* node_type and collection fields: always same */
}

enum herald_rc pubsub_config_check_preconditions(const struct pubsub_config *cfg,
                                                 const struct xml_node *x,
                                                 const struct pubsub_limits *lim, struct arena *a,
                                                 struct xmpp_error *err)
{
    struct forms_form *f = NULL;
    enum herald_rc rc = parse_submitted(a, x, lim, true, &f, err);
    if (rc != HERALD_OK)
        return rc;
    struct pubsub_config want;
    if (pubsub_config_copy(&want, cfg) != HERALD_OK)
        return out_of_memory(err);
    rc = apply_fields(&want, f, lim, a, err);
    for (const struct forms_field *fl = f->fields.first; rc == HERALD_OK && fl; fl = fl->next) {
        int id = fl->var ? field_id(fl->var) : -1;
        if (id >= 0 && !field_same((enum cfg_id)id, &want, cfg)) {
            reject(err, a, "conflict", fl->var, "precondition not met");
            err->app_ns = NS_PUBSUB_ERRORS;
            err->app_name = "precondition-not-met";
            rc = HERALD_ECONFLICT;
        }
    }
    pubsub_config_cleanup(&want);
    return rc;
}

/* ---- §5.4 meta-data ---- */

static enum herald_rc meta_field(struct arena *a, struct forms_form *f, const char *var,
                                 enum forms_field_type type, const char *label, const char *value)
{
    struct forms_field *fl = NULL;
    enum herald_rc rc = forms_form_add_field(a, f, var, type, label, &fl);
    if (rc == HERALD_OK && value != NULL)
        rc = forms_field_add_value(a, fl, value);
    return rc;
}

static enum herald_rc meta_jids(struct arena *a, struct forms_form *f, const char *var,
                                const char *label, const char *const *v, size_t n)
{
    struct forms_field *fl = NULL;
    enum herald_rc rc = forms_form_add_field(a, f, var, FORMS_FIELD_JID_MULTI, label, &fl);
    for (size_t i = 0; rc == HERALD_OK && i < n; i++)
        rc = forms_field_add_value(a, fl, v[i]);
    return rc;
}

enum herald_rc pubsub_config_meta_form(struct arena *a, const struct pubsub_config *cfg,
                                       const struct pubsub_meta *meta, struct xml_node **x)
{
    struct forms_form *f = forms_form_new(a, FORMS_TYPE_RESULT);
    if (f == NULL)
        return HERALD_ENOMEM;
    const char *created = pubsub_datetime_format(a, meta->creation_us);
    const char *nsubs = arena_printf(a, "%" PRIu64, meta->num_subscribers);
    const char *max_items =
        cfg->max_items_is_max ? "max" : arena_printf(a, "%" PRIu64, cfg->max_items);
    if (created == NULL || nsubs == NULL || max_items == NULL)
        return HERALD_ENOMEM;
    /* The §5.4 example's fields and labels, in its order; unset texts are left out. */
    enum herald_rc rc = forms_form_add_form_type(a, f, PUBSUB_NS_META_DATA);
    if (rc == HERALD_OK && cfg->type)
        rc = meta_field(a, f, "pubsub#type", FORMS_FIELD_TEXT_SINGLE,
                        "Payload semantic type information", cfg->type);
    if (rc == HERALD_OK && meta->creator)
        rc = meta_field(a, f, "pubsub#creator", FORMS_FIELD_JID_SINGLE, "Node creator",
                        meta->creator);
    if (rc == HERALD_OK)
        rc = meta_field(a, f, "pubsub#creation_date", FORMS_FIELD_TEXT_SINGLE, "Creation date",
                        created);
    if (rc == HERALD_OK && cfg->title)
        rc = meta_field(a, f, "pubsub#title", FORMS_FIELD_TEXT_SINGLE, "A short name for the node",
                        cfg->title);
    if (rc == HERALD_OK && cfg->description)
        rc = meta_field(a, f, "pubsub#description", FORMS_FIELD_TEXT_SINGLE,
                        "A description of the node", cfg->description);
    if (rc == HERALD_OK && cfg->language)
        rc = meta_field(a, f, "pubsub#language", FORMS_FIELD_LIST_SINGLE, "Default language",
                        cfg->language);
    if (rc == HERALD_OK && cfg->contact.n > 0)
        rc = meta_jids(a, f, "pubsub#contact", "People to contact with questions",
                       (const char *const *)cfg->contact.v, cfg->contact.n);
    if (rc == HERALD_OK)
        rc = meta_field(a, f, "pubsub#access_model", FORMS_FIELD_LIST_SINGLE, "Access model",
                        pubsub_access_model_name(cfg->access_model));
    if (rc == HERALD_OK)
        rc = meta_field(a, f, "pubsub#publish_model", FORMS_FIELD_LIST_SINGLE, "Publish model",
                        choice_name(PUBLISH_CHOICES, HERALD_ARRAY_LEN(PUBLISH_CHOICES),
                                    (int)cfg->publish_model));
    if (rc == HERALD_OK)
        rc = meta_field(a, f, "pubsub#max_items", FORMS_FIELD_TEXT_SINGLE,
                        FIELDS[CF_MAX_ITEMS].label, max_items);
    if (rc == HERALD_OK)
        rc = meta_jids(a, f, "pubsub#owner", "Node owners", meta->owners, meta->nowners);
    if (rc == HERALD_OK)
        rc = meta_jids(a, f, "pubsub#publisher", "Publishers to this node", meta->publishers,
                       meta->npublishers);
    if (rc == HERALD_OK)
        rc = meta_field(a, f, "pubsub#num_subscribers", FORMS_FIELD_TEXT_SINGLE,
                        "Number of subscribers to this node", nsubs);
    if (rc != HERALD_OK)
        return rc;
    return forms_form_to_xml(a, f, x);
}
