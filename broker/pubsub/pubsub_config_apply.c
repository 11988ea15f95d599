/*
 * pubsub_config_apply.c - the node configuration forms we receive: a submitted
 * pubsub#node_config form (§8.1.3 create-and-configure, §8.2.5 configure) and publish-options
 * preconditions (§7.1.5).
 *
 * A submitted form is applied to a copy of the configuration, which replaces the original only
 * once every field was accepted: a rejected form changes nothing (§8.2.5.2). Preconditions are
 * checked the same way: the form is applied to a copy and the fields it names are compared, so
 * "1" matches true, "max" matches a max_items configured as "max", and a JID matches its
 * canonical form.
 */
#include <inttypes.h>
#include <string.h>

#include "pubsub_config_int.h"

enum herald_rc pubsub_form_refuse(struct xmpp_error *err, struct arena *a, const char *cond,
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
    pubsub_form_refuse(err, a, "feature-not-implemented", var,
                       "collection nodes are not supported");
    err->app_ns = NS_PUBSUB_ERRORS;
    err->app_name = "unsupported";
    err->app_attr = "feature";
    err->app_attr_value = "collections";
    return HERALD_EINVAL;
}

static int field_id(const char *var)
{
    for (int i = 0; i < CF_COUNT; i++)
        if (strcmp(pubsub_config_fields[i].spec.var, var) == 0)
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
        return pubsub_form_refuse(err, a, "bad-request", NULL, why ? why : "malformed data form");
    if (f->type == FORMS_TYPE_CANCEL && !preconditions)
        return HERALD_OK; /* §8.2.4: the existing configuration stays */
    if (f->type != FORMS_TYPE_SUBMIT)
        return pubsub_form_refuse(err, a, "bad-request", NULL, "the form is not of type submit");
    const char *ft = NULL;
    rc = forms_form_get_form_type(f, &ft);
    if (rc == HERALD_EPROTO)
        return pubsub_form_refuse(err, a, "bad-request", FORMS_FORM_TYPE,
                                  "FORM_TYPE is ill-formed");
    if (rc == HERALD_ENOTFOUND && preconditions)
        return pubsub_form_refuse(err, a, "bad-request", FORMS_FORM_TYPE, "FORM_TYPE is missing");
    if (rc == HERALD_OK && strcmp(ft, PUBSUB_NS_PUB_OPTIONS) != 0 &&
        (preconditions || strcmp(ft, PUBSUB_NS_NODE_CONFIG) != 0))
        return pubsub_form_refuse(err, a, "bad-request", FORMS_FORM_TYPE,
                                  "FORM_TYPE is not the expected one");

    struct forms_spec_field fields[CF_COUNT];
    for (int i = 0; i < CF_COUNT; i++)
        fields[i] = pubsub_config_fields[i].spec;
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
        pubsub_form_refuse(err, a, malformed ? "bad-request" : "not-acceptable", p.var, p.reason);
        if (p.error == FORMS_ERR_NOT_AN_OPTION && p.var &&
            strcmp(p.var, pubsub_config_fields[CF_ACCESS_MODEL].spec.var) == 0) {
            /* §8.1.2: an access model the service does not know. */
            err->app_ns = NS_PUBSUB_ERRORS;
            err->app_name = "unsupported-access-model";
        }
        return HERALD_EINVAL;
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
    char **slot = cfg_str_at(c, id);
    if (v == NULL) {
        herald_free(HERALD_MEM_PUBSUB, *slot);
        *slot = NULL;
        return HERALD_OK;
    }
    if (strlen(v) > PUBSUB_CONFIG_STR_MAX)
        return pubsub_form_refuse(err, a, "not-acceptable", pubsub_config_fields[id].spec.var,
                                  "value too long");
    if (id == CF_LANGUAGE && !language_tag_ok(v))
        return pubsub_form_refuse(err, a, "not-acceptable", pubsub_config_fields[id].spec.var,
                                  "not a language tag");
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
    const char *var = pubsub_config_fields[id].spec.var;
    if (fl->nvalues > PUBSUB_CONFIG_LIST_MAX)
        return pubsub_form_refuse(err, a, "not-acceptable", var, "too many values");
    const char **kept = arena_calloc(a, fl->nvalues + 1, sizeof(*kept));
    if (kept == NULL)
        return out_of_memory(err);
    size_t n = 0;
    for (size_t i = 0; i < fl->nvalues; i++) {
        const char *v = fl->values[i];
        if (v[0] == '\0')
            return pubsub_form_refuse(err, a, "not-acceptable", var, "empty value");
        if (strlen(v) > PUBSUB_CONFIG_STR_MAX)
            return pubsub_form_refuse(err, a, "not-acceptable", var, "value too long");
        size_t j = 0;
        while (j < n && strcmp(kept[j], v) != 0)
            j++;
        if (j == n)
            kept[n++] = v;
    }
    struct pubsub_strlist l;
    if (pubsub_strlist_make(&l, kept, n) != HERALD_OK)
        return out_of_memory(err);
    pubsub_strlist_clear(cfg_list_at(c, id));
    *cfg_list_at(c, id) = l;
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
        return pubsub_form_refuse(err, a, "not-acceptable", pubsub_config_fields[id].spec.var,
                                  "not an integer");
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
    const struct forms_spec_field *sf = &pubsub_config_fields[id].spec;
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
        if (forms_value_bool(v, cfg_bool_at(c, id)) != HERALD_OK)
            return pubsub_form_refuse(err, a, "not-acceptable", sf->var, "not a boolean");
        return HERALD_OK;
    }
    const struct cfg_def *in = &pubsub_config_fields[id];
    const struct choice *ch = pubsub_config_choice_find(in->choices, in->nchoices, v);
    if (ch == NULL)
        return pubsub_form_refuse(err, a, "not-acceptable", sf->var, "value not among the options");
    pubsub_config_enum_set(c, id, ch->v);
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
        const char *p = cfg_str_of(x, id), *q = cfg_str_of(y, id);
        return p == NULL || q == NULL ? p == q : strcmp(p, q) == 0;
    }
    case CF_ROSTER_GROUPS:
    case CF_CONTACT:
        return strlist_same_set(cfg_list_of(x, id), cfg_list_of(y, id));
    default:
        break;
    }
    if (pubsub_config_fields[id].spec.type == FORMS_FIELD_BOOLEAN)
        return cfg_bool_of(x, id) == cfg_bool_of(y, id);
    return pubsub_config_enum_of(x, id) ==
           pubsub_config_enum_of(y, id); /* node_type and collection fields: always same */
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
            pubsub_form_refuse(err, a, "conflict", fl->var, "precondition not met");
            err->app_ns = NS_PUBSUB_ERRORS;
            err->app_name = "precondition-not-met";
            rc = HERALD_ECONFLICT;
        }
    }
    pubsub_config_cleanup(&want);
    return rc;
}
