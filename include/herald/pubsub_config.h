/*
 * pubsub_config.h - XEP-0060 node configuration (§17.4 pubsub#node_config), subscription
 * options (§17.4 pubsub#subscribe_options), publish-options preconditions (§7.1.5) and
 * node meta-data (§5.4 pubsub#meta-data): the values, their data forms, and their
 * stored records.
 *
 * struct pubsub_config and struct pubsub_subopts own their strings (heap);
 * pubsub_config_cleanup()/pubsub_subopts_cleanup() free them, pubsub_config_copy() deep
 * copies. Forms are built in and parsed from arenas (include/herald/forms.h).
 */
#ifndef HERALD_PUBSUB_CONFIG_H
#define HERALD_PUBSUB_CONFIG_H

#include "herald/arena.h"
#include "herald/buf.h"
#include "herald/common.h"
#include "herald/forms.h"
#include "herald/stanza.h"

#define PUBSUB_NS_NODE_CONFIG "http://jabber.org/protocol/pubsub#node_config"
#define PUBSUB_NS_SUB_OPTIONS "http://jabber.org/protocol/pubsub#subscribe_options"
#define PUBSUB_NS_PUB_OPTIONS "http://jabber.org/protocol/pubsub#publish-options"
#define PUBSUB_NS_META_DATA   "http://jabber.org/protocol/pubsub#meta-data"

enum pubsub_access_model {
    PUBSUB_ACCESS_OPEN,
    PUBSUB_ACCESS_PRESENCE,
    PUBSUB_ACCESS_ROSTER,
    PUBSUB_ACCESS_AUTHORIZE,
    PUBSUB_ACCESS_WHITELIST,
};
enum pubsub_publish_model {
    PUBSUB_PUBLISH_PUBLISHERS,
    PUBSUB_PUBLISH_SUBSCRIBERS,
    PUBSUB_PUBLISH_OPEN,
};
enum pubsub_send_last {
    PUBSUB_SEND_LAST_NEVER,
    PUBSUB_SEND_LAST_ON_SUB,
    PUBSUB_SEND_LAST_ON_SUB_AND_PRESENCE,
};
enum pubsub_itemreply { PUBSUB_ITEMREPLY_OWNER, PUBSUB_ITEMREPLY_PUBLISHER };
enum pubsub_notification_type { PUBSUB_NOTIFY_HEADLINE, PUBSUB_NOTIFY_NORMAL };
enum pubsub_node_full {
    PUBSUB_FULL_RETRACT_OLDEST, /* the oldest item is retracted (default, §7.1.2) */
    PUBSUB_FULL_DISCARD_OLDEST, /* dropped without a retract notification */
    PUBSUB_FULL_REJECT,         /* the publish fails with <conflict/><node-full/> */
};

struct pubsub_strlist {
    char **v;
    size_t n;
};

/* Bounds on stored strings and lists; forms and records beyond them are rejected. */
#define PUBSUB_CONFIG_STR_MAX  3071 /* bytes of one string (a full JID fits: RFC 7622 §3.1) */
#define PUBSUB_CONFIG_LIST_MAX 256  /* entries of roster_groups_allowed or contact */

/* One node's configuration: every leaf-node field of §17.4 that Herald supports. */
struct pubsub_config {
    enum pubsub_access_model access_model;
    enum pubsub_publish_model publish_model;
    enum pubsub_send_last send_last_published_item;
    enum pubsub_itemreply itemreply;
    enum pubsub_notification_type notification_type;
    enum pubsub_node_full publish_node_full;
    uint64_t max_items;        /* the stored limit (after "max" was resolved) */
    bool max_items_is_max;     /* configured as "max": follows the service limit */
    uint64_t max_payload_size; /* bytes of the serialised payload */
    uint64_t item_expire;      /* seconds; 0 = items do not expire */
    bool persist_items;
    bool deliver_payloads;
    bool deliver_notifications;
    bool notify_config;
    bool notify_delete;
    bool notify_retract;
    bool notify_sub;
    bool presence_based_delivery;
    bool purge_offline;
    bool subscribe; /* pubsub#subscribe: whether subscriptions are allowed */
    bool tempsub;
    char *title; /* NULL when unset */
    char *description;
    char *type; /* payload namespace (pubsub#type); NULL = any */
    char *language;
    struct pubsub_strlist roster_groups_allowed;
    struct pubsub_strlist contact; /* canonical JIDs */
};

/* Limits and defaults the service applies (from herald.conf). */
struct pubsub_limits {
    uint64_t max_items_default;
    uint64_t max_items_limit;
    uint64_t max_payload; /* default and maximum of max_payload_size */
};

/* Subscription options (§6.3, §17.4 pubsub#subscribe_options). */
enum pubsub_sub_type { PUBSUB_SUBTYPE_ITEMS, PUBSUB_SUBTYPE_NODES };
#define PUBSUB_SHOW_ONLINE 0x01 /* available with no <show/> */
#define PUBSUB_SHOW_CHAT   0x02
#define PUBSUB_SHOW_AWAY   0x04
#define PUBSUB_SHOW_XA     0x08
#define PUBSUB_SHOW_DND    0x10
#define PUBSUB_SHOW_ALL    0x1f

struct pubsub_subopts {
    bool deliver;
    bool digest;
    uint64_t digest_frequency; /* milliseconds */
    bool include_body;
    unsigned show_values; /* PUBSUB_SHOW_* bits; ALL when not restricted */
    bool expire_presence; /* pubsub#expire = "presence": temporary subscription */
    int64_t expire_at_us; /* pubsub#expire as a date-time; 0 = never */
    enum pubsub_sub_type subscription_type;
    unsigned subscription_depth; /* 0 = "all" */
};

/* ---- node configuration ---- */

/* Defaults for a new node: pubsub.<domain> nodes or PEP nodes (XEP-0163 §4.3). */
void pubsub_config_defaults(const struct pubsub_limits *lim, bool pep, struct pubsub_config *out);
HERALD_MUST_CHECK enum herald_rc pubsub_config_copy(struct pubsub_config *dst,
                                                    const struct pubsub_config *src);
void pubsub_config_cleanup(struct pubsub_config *cfg);

/*
 * The pubsub#node_config form (type "form") describing `cfg`, with every supported field,
 * its type, label and options (§8.2.1, §8.3 for the default configuration).
 */
HERALD_MUST_CHECK enum herald_rc pubsub_config_to_form(struct arena *a,
                                                       const struct pubsub_config *cfg,
                                                       const struct pubsub_limits *lim,
                                                       struct xml_node **x);
/*
 * Apply a submitted pubsub#node_config form (type "submit") onto cfg (§8.2.5). On any
 * invalid field nothing is changed and *err is the error to return (not-acceptable,
 * bad-request...), with a text naming the field. A "cancel" form changes nothing.
 * Returns HERALD_EINVAL for a refused form (also feature-not-implemented + <unsupported
 * feature='collections'/> for pubsub#node_type "collection" and XEP-0248 fields) and
 * HERALD_ENOMEM (*err = resource-constraint). FORM_TYPE may be node_config, absent, or
 * publish-options (so an auto-created node can take its preconditions, §7.1.5 rule 3).
 * `a` holds the parsed form and the error text.
 */
HERALD_MUST_CHECK enum herald_rc pubsub_config_apply_form(struct pubsub_config *cfg,
                                                          const struct xml_node *x,
                                                          const struct pubsub_limits *lim,
                                                          struct arena *a, struct xmpp_error *err);
/*
 * Publish-options (§7.1.5): HERALD_OK if every precondition field of the submitted form
 * equals the node's configuration; HERALD_ECONFLICT with *err = <conflict/>
 * <precondition-not-met/> otherwise; HERALD_EINVAL for an ill-formed form or an unknown
 * field (*err = bad-request / not-acceptable).
 */
HERALD_MUST_CHECK enum herald_rc pubsub_config_check_preconditions(const struct pubsub_config *cfg,
                                                                   const struct xml_node *x,
                                                                   const struct pubsub_limits *lim,
                                                                   struct arena *a,
                                                                   struct xmpp_error *err);

/* What §5.4 meta-data shows besides the configuration. */
struct pubsub_meta {
    int64_t creation_us;
    const char *creator;
    const char *const *owners;
    size_t nowners;
    const char *const *publishers;
    size_t npublishers;
    uint64_t num_subscribers;
};
/* The pubsub#meta-data form (type "result") for disco#info on a node (§5.4). */
HERALD_MUST_CHECK enum herald_rc pubsub_config_meta_form(struct arena *a,
                                                         const struct pubsub_config *cfg,
                                                         const struct pubsub_meta *meta,
                                                         struct xml_node **x);

/* ---- subscription options ---- */

void pubsub_subopts_defaults(struct pubsub_subopts *out);
/* The pubsub#subscribe_options form (type "form") for §6.3.2 / §6.4. */
HERALD_MUST_CHECK enum herald_rc
pubsub_subopts_to_form(struct arena *a, const struct pubsub_subopts *o, struct xml_node **x);
/* Apply a submitted form (§6.3.5); on error nothing changes and HERALD_EINVAL comes with
 * *err = bad-request (+ <invalid-options/> for values, §6.3.5.2). A cancel form is a no-op. */
HERALD_MUST_CHECK enum herald_rc pubsub_subopts_apply_form(struct pubsub_subopts *o,
                                                           const struct xml_node *x,
                                                           struct arena *a, struct xmpp_error *err);

/* ---- stored records (versioned binary; layout in schemas/store.md) ---- */

HERALD_MUST_CHECK enum herald_rc pubsub_config_encode(const struct pubsub_config *cfg,
                                                      struct buf *out);
/* The encoders append to `out` (HERALD_EINVAL for a value the decoder would refuse).
 * Decoding: HERALD_EPROTO for an unknown version or a malformed record, and then *cfg is
 * untouched. On success cfg owns heap strings (pubsub_config_cleanup). */
HERALD_MUST_CHECK enum herald_rc pubsub_config_decode(const void *data, size_t len,
                                                      struct pubsub_config *cfg);
HERALD_MUST_CHECK enum herald_rc pubsub_subopts_encode(const struct pubsub_subopts *o,
                                                       struct buf *out);
HERALD_MUST_CHECK enum herald_rc pubsub_subopts_decode(const void *data, size_t len,
                                                       struct pubsub_subopts *o);

/* Names used in forms, e.g. "authorize" for PUBSUB_ACCESS_AUTHORIZE. */
const char *pubsub_access_model_name(enum pubsub_access_model m);

/*
 * XEP-0082 DateTime (pubsub#expire, pubsub#creation_date, lease expiry attributes):
 * "CCYY-MM-DDThh:mm:ss[.sss](Z|(+|-)hh:mm)" <-> microseconds since the epoch, UTC.
 * Parsing is strict (a four-digit year, real calendar dates, a mandatory zone); digits of
 * the fraction beyond microseconds are ignored. HERALD_EINVAL otherwise.
 */
HERALD_MUST_CHECK enum herald_rc pubsub_datetime_parse(const char *s, int64_t *us);
/* In UTC with "Z", with a fraction only when us is not whole seconds. NULL on ENOMEM or
 * for a time outside the years 0001-9999. */
HERALD_MUST_CHECK char *pubsub_datetime_format(struct arena *a, int64_t us);

#endif
