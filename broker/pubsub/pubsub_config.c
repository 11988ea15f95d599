/*
 * pubsub_config.c - XEP-0060 node configuration: the field table, defaults (§8.3; XEP-0163
 * §4.3 for PEP), the pubsub#node_config form we send (§8.2.1, §8.3, §17.4) and the
 * pubsub#meta-data form (§5.4). The forms we receive are in pubsub_config_apply.c.
 */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "pubsub_config_int.h"

/* Seconds; keeps item_expire * 1e6 (the microsecond clock) far from int64 overflow. */
#define ITEM_EXPIRE_MAX INT32_MAX

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

#define SPEC(v, t, ...) .spec = {.var = "pubsub#" v, .type = FORMS_FIELD_##t, __VA_ARGS__}
#define LIST1(v, vals, ch)                                                                         \
    SPEC(v, LIST_SINGLE, .options = vals), .choices = ch, .nchoices = HERALD_ARRAY_LEN(ch)
#define BOOLF(v, m)   SPEC(v, BOOLEAN), .off = offsetof(struct pubsub_config, m)
#define TEXT(v, t, m) SPEC(v, t), .off = offsetof(struct pubsub_config, m)

const struct cfg_def pubsub_config_fields[CF_COUNT] = {
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

int pubsub_config_enum_of(const struct pubsub_config *c, enum cfg_id id)
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

void pubsub_config_enum_set(struct pubsub_config *c, enum cfg_id id, int v)
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

const struct choice *pubsub_config_choice_find(const struct choice *c, size_t n, const char *value)
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

void pubsub_strlist_clear(struct pubsub_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        herald_free(HERALD_MEM_PUBSUB, l->v[i]);
    herald_free(HERALD_MEM_PUBSUB, l->v);
    l->v = NULL;
    l->n = 0;
}

/* A heap list of copies of v[0..n), in order. *out is untouched on failure. */
enum herald_rc pubsub_strlist_make(struct pubsub_strlist *out, const char *const *v, size_t n)
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
            pubsub_strlist_clear(&l);
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
        pubsub_strlist_make(&c.roster_groups_allowed,
                            (const char *const *)src->roster_groups_allowed.v,
                            src->roster_groups_allowed.n) != HERALD_OK ||
        pubsub_strlist_make(&c.contact, (const char *const *)src->contact.v, src->contact.n) !=
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
    pubsub_strlist_clear(&cfg->roster_groups_allowed);
    pubsub_strlist_clear(&cfg->contact);
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
    const struct forms_spec_field *sf = &pubsub_config_fields[id].spec;
    const struct cfg_def *in = &pubsub_config_fields[id];
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
        if (cfg_str_of(cfg, id) != NULL)
            rc = forms_field_add_value(a, fl, cfg_str_of(cfg, id));
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
            rc = add_bool(a, fl, cfg_bool_of(cfg, id));
        } else if ((rc = add_choices(a, fl, in)) == HERALD_OK) {
            const char *v = choice_name(in->choices, in->nchoices, pubsub_config_enum_of(cfg, id));
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
                        pubsub_config_fields[CF_MAX_ITEMS].label, max_items);
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
