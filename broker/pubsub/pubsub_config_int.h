/*
 * pubsub_config_int.h - the node configuration field table shared by pubsub_config.c (the
 * defaults, and the forms we send) and pubsub_config_apply.c (the forms we receive), and the
 * refusal helper the subscription options share (pubsub_subopts.c).
 */
#ifndef HERALD_PUBSUB_CONFIG_INT_H
#define HERALD_PUBSUB_CONFIG_INT_H

#include <stddef.h>

#include "herald/pubsub_config.h"

#define NS_PUBSUB_ERRORS "http://jabber.org/protocol/pubsub#errors"

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

extern const struct cfg_def pubsub_config_fields[CF_COUNT];

/* Where field id's value lives in a configuration, by the field's type. */
static inline bool *cfg_bool_at(struct pubsub_config *c, enum cfg_id id)
{
    return (bool *)((char *)c + pubsub_config_fields[id].off);
}

static inline bool cfg_bool_of(const struct pubsub_config *c, enum cfg_id id)
{
    return *(const bool *)((const char *)c + pubsub_config_fields[id].off);
}

static inline char **cfg_str_at(struct pubsub_config *c, enum cfg_id id)
{
    return (char **)((char *)c + pubsub_config_fields[id].off);
}

static inline const char *cfg_str_of(const struct pubsub_config *c, enum cfg_id id)
{
    return *(char *const *)((const char *)c + pubsub_config_fields[id].off);
}

static inline struct pubsub_strlist *cfg_list_at(struct pubsub_config *c, enum cfg_id id)
{
    return (struct pubsub_strlist *)((char *)c + pubsub_config_fields[id].off);
}

static inline const struct pubsub_strlist *cfg_list_of(const struct pubsub_config *c,
                                                       enum cfg_id id)
{
    return (const struct pubsub_strlist *)((const char *)c + pubsub_config_fields[id].off);
}

/* The value of an enum list-single field (0 for node_type, always leaf), and its setter. */
int pubsub_config_enum_of(const struct pubsub_config *c, enum cfg_id id);
void pubsub_config_enum_set(struct pubsub_config *c, enum cfg_id id, int v);
/* The option of a list-single field with this form value, or NULL. */
const struct choice *pubsub_config_choice_find(const struct choice *c, size_t n, const char *value);
/* A heap list of copies of v[0..n), in order; *out is untouched on failure. */
HERALD_MUST_CHECK enum herald_rc pubsub_strlist_make(struct pubsub_strlist *out,
                                                     const char *const *v, size_t n);
void pubsub_strlist_clear(struct pubsub_strlist *l);

/* *err = cond with the text "VAR: reason" (or reason alone without var); HERALD_EINVAL. */
enum herald_rc pubsub_form_refuse(struct xmpp_error *err, struct arena *a, const char *cond,
                                  const char *var, const char *reason);

#endif
