/*
 * forms.c - XEP-0004 data forms: parser, builder and serialiser (the validator against a
 * spec is forms_validate.c).
 *
 * Parsing is two passes over each field (count, then fill) so the value and option arrays
 * are allocated once at their exact size; the builder grows its arrays by doubling in the
 * arena, wasting at most half. Uniqueness checks are quadratic, which the limits in
 * struct forms_limits keep small.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "herald/forms.h"
#include "herald/jid.h"

static const char *const form_type_names[] = {"form", "submit", "cancel", "result"};

static const char *const field_type_names[] = {
    NULL,         "boolean",     "fixed",      "hidden",       "jid-multi",   "jid-single",
    "list-multi", "list-single", "text-multi", "text-private", "text-single",
};

/* ---- names ---- */

const char *forms_type_str(enum forms_type t)
{
    return (size_t)t < HERALD_ARRAY_LEN(form_type_names) ? form_type_names[t] : NULL;
}

/* Index of s in names[from..n), or -1. */
static int name_index(const char *const *names, size_t from, size_t n, const char *s)
{
    for (size_t i = from; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

enum herald_rc forms_type_parse(const char *s, enum forms_type *out)
{
    int i = name_index(form_type_names, 0, HERALD_ARRAY_LEN(form_type_names), s);
    if (i < 0)
        return HERALD_EINVAL;
    *out = (enum forms_type)i;
    return HERALD_OK;
}

const char *forms_field_type_str(enum forms_field_type t)
{
    return (size_t)t < HERALD_ARRAY_LEN(field_type_names) ? field_type_names[t] : NULL;
}

enum herald_rc forms_field_type_parse(const char *s, enum forms_field_type *out)
{
    int i = name_index(field_type_names, 1, HERALD_ARRAY_LEN(field_type_names), s);
    if (i < 0)
        return HERALD_EINVAL;
    *out = (enum forms_field_type)i;
    return HERALD_OK;
}

bool forms_field_type_is_multi(enum forms_field_type t)
{
    return t == FORMS_FIELD_LIST_MULTI || t == FORMS_FIELD_JID_MULTI ||
           t == FORMS_FIELD_TEXT_MULTI || t == FORMS_FIELD_HIDDEN;
}

static bool is_list(enum forms_field_type t)
{
    return t == FORMS_FIELD_LIST_SINGLE || t == FORMS_FIELD_LIST_MULTI;
}

/* A known type that allows one value at most. */
static bool is_single(enum forms_field_type t)
{
    return t != FORMS_FIELD_UNSPECIFIED && !forms_field_type_is_multi(t);
}

/* ---- small helpers ---- */

/* Room for one more element in an arena array: returns the (possibly new) array or NULL. */
static void *grow(struct arena *a, void *arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : 4;
    if (ncap > SIZE_MAX / size)
        return NULL;
    void *p = arena_alloc(a, ncap * size);
    if (p == NULL)
        return NULL;
    if (n)
        memcpy(p, arr, n * size);
    *cap = ncap;
    return p;
}

static void fields_append(struct forms_fields *l, struct forms_field *fl)
{
    fl->next = NULL;
    if (l->last)
        l->last->next = fl;
    else
        l->first = fl;
    l->last = fl;
    l->count++;
}

struct forms_field *forms_fields_find(const struct forms_fields *l, const char *var)
{
    if (var == NULL)
        return NULL;
    for (struct forms_field *fl = l->first; fl; fl = fl->next)
        if (fl->var && strcmp(fl->var, var) == 0)
            return fl;
    return NULL;
}

struct forms_field *forms_form_find_field(const struct forms_form *f, const char *var)
{
    return forms_fields_find(&f->fields, var);
}

const char *forms_field_first_value(const struct forms_field *fl)
{
    return fl && fl->nvalues ? fl->values[0] : NULL;
}

enum herald_rc forms_form_get_form_type(const struct forms_form *f, const char **out)
{
    const struct forms_field *fl = forms_form_find_field(f, FORMS_FORM_TYPE);
    if (fl == NULL || (fl->type != FORMS_FIELD_HIDDEN && fl->type != FORMS_FIELD_UNSPECIFIED))
        return HERALD_ENOTFOUND;
    if (fl->nvalues == 0)
        return HERALD_EPROTO;
    for (size_t i = 1; i < fl->nvalues; i++)
        if (strcmp(fl->values[i], fl->values[0]) != 0)
            return HERALD_EPROTO;
    *out = fl->values[0];
    return HERALD_OK;
}

/* ---- values ---- */

enum herald_rc forms_value_bool(const char *s, bool *out)
{
    if (s && (strcmp(s, "1") == 0 || strcmp(s, "true") == 0)) {
        *out = true;
        return HERALD_OK;
    }
    if (s && (strcmp(s, "0") == 0 || strcmp(s, "false") == 0)) {
        *out = false;
        return HERALD_OK;
    }
    return HERALD_EINVAL;
}

enum herald_rc forms_value_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (s == NULL)
        return HERALD_EINVAL;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (*s == '\0')
        return HERALD_EINVAL;
    uint64_t mag = 0;
    bool over = false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return HERALD_EINVAL; /* scan on: "99...9x" is not an integer at all */
        unsigned d = (unsigned)(*s - '0');
        if (mag > (UINT64_MAX - d) / 10)
            over = true;
        else
            mag = mag * 10 + d;
    }
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (over || mag > lim)
        return HERALD_ELIMIT;
    int64_t v = neg ? (mag == lim ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
    if (v < min || v > max)
        return HERALD_ELIMIT;
    *out = v;
    return HERALD_OK;
}

/* ---- parsing ---- */

struct parse_ctx {
    struct arena *a;
    struct forms_limits lim;
    enum forms_type type;
    size_t nfields;
    const char *reason;
};

static enum herald_rc fail(struct parse_ctx *c, enum herald_rc rc, const char *why)
{
    c->reason = why;
    return rc;
}

static enum herald_rc nomem(struct parse_ctx *c)
{
    return fail(c, HERALD_ENOMEM, "out of memory");
}

static bool is_x(const struct xml_node *n, const char *name)
{
    return xml_is(n, FORMS_NS, name);
}

/* The character data of an element that may hold nothing but text, copied. */
static enum herald_rc parse_text(struct parse_ctx *c, const struct xml_node *n, const char **out)
{
    if (xml_first_elem(n))
        return fail(c, HERALD_EPROTO, "element inside character data");
    size_t len = 0;
    for (const struct xml_node *t = n->first_child; t; t = t->next)
        len += t->text_len;
    char *s = arena_alloc(c->a, len + 1);
    if (s == NULL)
        return nomem(c);
    size_t off = 0;
    for (const struct xml_node *t = n->first_child; t; t = t->next) {
        memcpy(s + off, t->text, t->text_len);
        off += t->text_len;
    }
    s[off] = '\0';
    *out = s;
    return HERALD_OK;
}

static enum herald_rc parse_option(struct parse_ctx *c, const struct xml_node *n,
                                   struct forms_option *opt)
{
    const char *label = xml_attr(n, "label");
    if (label && (opt->label = arena_strdup(c->a, label)) == NULL)
        return nomem(c);
    for (const struct xml_node *ch = xml_first_elem(n); ch; ch = xml_next(ch, NULL, NULL)) {
        if (!is_x(ch, NULL))
            continue;
        if (!is_x(ch, "value"))
            return fail(c, HERALD_EPROTO, "unknown element in option");
        if (opt->value)
            return fail(c, HERALD_EPROTO, "option with several values");
        enum herald_rc rc = parse_text(c, ch, &opt->value);
        if (rc != HERALD_OK)
            return rc;
    }
    if (opt->value == NULL)
        return fail(c, HERALD_EPROTO, "option without value");
    return HERALD_OK;
}

/* §3.3: option values and labels must both be unique. */
static bool options_unique(const struct forms_field *fl)
{
    for (size_t i = 0; i < fl->noptions; i++) {
        for (size_t j = 0; j < i; j++) {
            const struct forms_option *x = &fl->options[i], *y = &fl->options[j];
            if (strcmp(x->value, y->value) == 0 ||
                (x->label && y->label && strcmp(x->label, y->label) == 0))
                return false;
        }
    }
    return true;
}

/* Count the children of a field, take desc and required, reject unknown elements. */
static enum herald_rc scan_field(struct parse_ctx *c, const struct xml_node *n,
                                 struct forms_field *fl, size_t *nv, size_t *no)
{
    enum herald_rc rc;
    for (const struct xml_node *ch = xml_first_elem(n); ch; ch = xml_next(ch, NULL, NULL)) {
        if (!is_x(ch, NULL))
            continue;
        if (is_x(ch, "value")) {
            if (++*nv > c->lim.max_values)
                return fail(c, HERALD_ELIMIT, "too many values in a field");
        } else if (is_x(ch, "option")) {
            if (++*no > c->lim.max_options)
                return fail(c, HERALD_ELIMIT, "too many options in a field");
        } else if (is_x(ch, "desc")) {
            if (fl->desc)
                return fail(c, HERALD_EPROTO, "field with several desc");
            if ((rc = parse_text(c, ch, &fl->desc)) != HERALD_OK)
                return rc;
        } else if (is_x(ch, "required")) {
            if (fl->required)
                return fail(c, HERALD_EPROTO, "field with several required");
            if (xml_first_elem(ch) || !xml_text_is_blank(ch))
                return fail(c, HERALD_EPROTO, "required is not empty");
            fl->required = true;
        } else {
            return fail(c, HERALD_EPROTO, "unknown element in field");
        }
    }
    return HERALD_OK;
}

static enum herald_rc parse_field(struct parse_ctx *c, const struct xml_node *n,
                                  enum forms_field_type dflt, struct forms_field **out)
{
    if (++c->nfields > c->lim.max_fields)
        return fail(c, HERALD_ELIMIT, "too many fields");
    struct forms_field *fl = arena_calloc(c->a, 1, sizeof(*fl));
    if (fl == NULL)
        return nomem(c);
    const char *type = xml_attr(n, "type");
    fl->type = dflt;
    if (type && forms_field_type_parse(type, &fl->type) != HERALD_OK) {
        if (c->type != FORMS_TYPE_FORM)
            return fail(c, HERALD_EPROTO, "unknown field type");
        fl->type = FORMS_FIELD_TEXT_SINGLE; /* §3.3: assumed for types not understood */
    }
    const char *var = xml_attr(n, "var"), *label = xml_attr(n, "label");
    if (var == NULL && fl->type != FORMS_FIELD_FIXED)
        return fail(c, HERALD_EPROTO, "field without var");
    if (var && *var == '\0')
        return fail(c, HERALD_EPROTO, "field with an empty var");
    if ((var && (fl->var = arena_strdup(c->a, var)) == NULL) ||
        (label && (fl->label = arena_strdup(c->a, label)) == NULL))
        return nomem(c);

    size_t nv = 0, no = 0;
    enum herald_rc rc = scan_field(c, n, fl, &nv, &no);
    if (rc != HERALD_OK)
        return rc;
    if (no && fl->type != FORMS_FIELD_UNSPECIFIED && !is_list(fl->type))
        return fail(c, HERALD_EPROTO, "option in a field that is not a list");
    if (nv > 1 && is_single(fl->type))
        return fail(c, HERALD_EPROTO, "several values in a single-valued field");
    if ((nv && (fl->values = arena_calloc(c->a, nv, sizeof(*fl->values))) == NULL) ||
        (no && (fl->options = arena_calloc(c->a, no, sizeof(*fl->options))) == NULL))
        return nomem(c);
    fl->values_cap = nv;
    fl->options_cap = no;
    for (const struct xml_node *ch = xml_first_elem(n); ch; ch = xml_next(ch, NULL, NULL)) {
        if (is_x(ch, "value"))
            rc = parse_text(c, ch, &fl->values[fl->nvalues++]);
        else if (is_x(ch, "option"))
            rc = parse_option(c, ch, &fl->options[fl->noptions++]);
        if (rc != HERALD_OK)
            return rc;
    }
    if (!options_unique(fl))
        return fail(c, HERALD_EPROTO, "duplicate option");
    *out = fl;
    return HERALD_OK;
}

static enum herald_rc add_parsed(struct parse_ctx *c, struct forms_fields *l,
                                 struct forms_field *fl)
{
    if (fl->var && forms_fields_find(l, fl->var))
        return fail(c, HERALD_EPROTO, "duplicate field var");
    fields_append(l, fl);
    return HERALD_OK;
}

/* The fields of <reported/> or <item/>: nothing else, at least one. */
static enum herald_rc parse_table(struct parse_ctx *c, const struct xml_node *n,
                                  struct forms_fields *l)
{
    for (const struct xml_node *ch = xml_first_elem(n); ch; ch = xml_next(ch, NULL, NULL)) {
        if (!is_x(ch, NULL))
            continue;
        if (!is_x(ch, "field"))
            return fail(c, HERALD_EPROTO, "unknown element in reported or item");
        struct forms_field *fl;
        enum herald_rc rc = parse_field(c, ch, FORMS_FIELD_UNSPECIFIED, &fl);
        if (rc == HERALD_OK)
            rc = add_parsed(c, l, fl);
        if (rc != HERALD_OK)
            return rc;
    }
    if (l->count == 0)
        return fail(c, HERALD_EPROTO, "empty reported or item");
    return HERALD_OK;
}

/* §3.4: every item carries each reported field; item fields take the reported types. */
static enum herald_rc check_items(struct parse_ctx *c, struct forms_form *f)
{
    if (f->items && !f->has_reported)
        return fail(c, HERALD_EPROTO, "items without reported");
    for (struct forms_item *it = f->items; it; it = it->next) {
        for (const struct forms_field *r = f->reported.first; r; r = r->next) {
            if (r->var == NULL)
                continue;
            struct forms_field *fl = forms_fields_find(&it->fields, r->var);
            if (fl == NULL)
                return fail(c, HERALD_EPROTO, "item lacks a reported field");
            if (fl->type == FORMS_FIELD_UNSPECIFIED)
                fl->type = r->type;
            if (fl->nvalues > 1 && is_single(fl->type))
                return fail(c, HERALD_EPROTO, "several values in a single-valued field");
        }
    }
    return HERALD_OK;
}

static enum herald_rc parse_child(struct parse_ctx *c, const struct xml_node *ch,
                                  struct forms_form *f)
{
    enum herald_rc rc;
    if (is_x(ch, "title")) {
        if (f->title)
            return fail(c, HERALD_EPROTO, "several titles");
        return parse_text(c, ch, &f->title);
    }
    if (is_x(ch, "instructions")) {
        if (f->ninstructions >= c->lim.max_instructions)
            return fail(c, HERALD_ELIMIT, "too many instructions");
        const char **arr =
            grow(c->a, f->instructions, f->ninstructions, &f->instructions_cap, sizeof(*arr));
        if (arr == NULL)
            return nomem(c);
        f->instructions = arr;
        return parse_text(c, ch, &f->instructions[f->ninstructions++]);
    }
    if (is_x(ch, "field")) {
        struct forms_field *fl;
        enum forms_field_type dflt =
            c->type == FORMS_TYPE_FORM ? FORMS_FIELD_TEXT_SINGLE : FORMS_FIELD_UNSPECIFIED;
        if ((rc = parse_field(c, ch, dflt, &fl)) != HERALD_OK)
            return rc;
        return add_parsed(c, &f->fields, fl);
    }
    if (is_x(ch, "reported")) {
        if (c->type != FORMS_TYPE_RESULT)
            return fail(c, HERALD_EPROTO, "reported outside a result form");
        if (f->has_reported)
            return fail(c, HERALD_EPROTO, "several reported");
        f->has_reported = true;
        return parse_table(c, ch, &f->reported);
    }
    if (is_x(ch, "item")) {
        if (c->type != FORMS_TYPE_RESULT)
            return fail(c, HERALD_EPROTO, "item outside a result form");
        struct forms_item *it;
        if (forms_form_add_item(c->a, f, &it) != HERALD_OK)
            return nomem(c);
        return parse_table(c, ch, &it->fields);
    }
    return fail(c, HERALD_EPROTO, "unknown element in form");
}

static enum herald_rc parse_form(struct parse_ctx *c, const struct xml_node *x,
                                 struct forms_form **out)
{
    if (!is_x(x, "x"))
        return fail(c, HERALD_EPROTO, "not a jabber:x:data form");
    const char *type = xml_attr(x, "type");
    if (type == NULL)
        return fail(c, HERALD_EPROTO, "form without type");
    if (forms_type_parse(type, &c->type) != HERALD_OK)
        return fail(c, HERALD_EPROTO, "unknown form type");
    struct forms_form *f = forms_form_new(c->a, c->type);
    if (f == NULL)
        return nomem(c);
    for (const struct xml_node *ch = xml_first_elem(x); ch; ch = xml_next(ch, NULL, NULL)) {
        if (!is_x(ch, NULL))
            continue; /* extensions such as XEP-0141 layout live in other namespaces */
        enum herald_rc rc = parse_child(c, ch, f);
        if (rc != HERALD_OK)
            return rc;
    }
    enum herald_rc rc = check_items(c, f);
    if (rc != HERALD_OK)
        return rc;
    *out = f;
    return HERALD_OK;
}

enum herald_rc forms_form_parse(struct arena *a, const struct xml_node *x,
                                const struct forms_limits *limits, struct forms_form **out,
                                const char **reason)
{
    struct parse_ctx c = {.a = a, .lim = limits ? *limits : FORMS_LIMITS_DEFAULT};
    enum herald_rc rc = parse_form(&c, x, out);
    if (rc != HERALD_OK && reason)
        *reason = c.reason;
    return rc;
}

/* ---- building ---- */

struct forms_form *forms_form_new(struct arena *a, enum forms_type type)
{
    struct forms_form *f = arena_calloc(a, 1, sizeof(*f));
    if (f)
        f->type = type;
    return f;
}

enum herald_rc forms_form_set_title(struct arena *a, struct forms_form *f, const char *title)
{
    const char *t = arena_strdup(a, title ? title : "");
    if (t == NULL)
        return HERALD_ENOMEM;
    f->title = t;
    return HERALD_OK;
}

enum herald_rc forms_form_add_instructions(struct arena *a, struct forms_form *f, const char *text)
{
    if (text == NULL)
        return HERALD_EINVAL;
    const char **arr =
        grow(a, f->instructions, f->ninstructions, &f->instructions_cap, sizeof(*arr));
    const char *t = arena_strdup(a, text);
    if (arr == NULL || t == NULL)
        return HERALD_ENOMEM;
    f->instructions = arr;
    f->instructions[f->ninstructions++] = t;
    return HERALD_OK;
}

static enum herald_rc field_new(struct arena *a, struct forms_fields *l, const char *var,
                                enum forms_field_type type, const char *label,
                                struct forms_field **out)
{
    if ((var == NULL && type != FORMS_FIELD_FIXED) || (var && *var == '\0') ||
        (type != FORMS_FIELD_UNSPECIFIED && forms_field_type_str(type) == NULL))
        return HERALD_EINVAL;
    if (var && forms_fields_find(l, var))
        return HERALD_ECONFLICT;
    struct forms_field *fl = arena_calloc(a, 1, sizeof(*fl));
    if (fl == NULL || (var && (fl->var = arena_strdup(a, var)) == NULL) ||
        (label && (fl->label = arena_strdup(a, label)) == NULL))
        return HERALD_ENOMEM;
    fl->type = type;
    fields_append(l, fl);
    if (out)
        *out = fl;
    return HERALD_OK;
}

enum herald_rc forms_form_add_field(struct arena *a, struct forms_form *f, const char *var,
                                    enum forms_field_type type, const char *label,
                                    struct forms_field **out)
{
    return field_new(a, &f->fields, var, type, label, out);
}

enum herald_rc forms_form_add_form_type(struct arena *a, struct forms_form *f,
                                        const char *form_type)
{
    struct forms_field *fl;
    enum herald_rc rc = forms_form_add_field(a, f, FORMS_FORM_TYPE, FORMS_FIELD_HIDDEN, NULL, &fl);
    return rc != HERALD_OK ? rc : forms_field_add_value(a, fl, form_type);
}

enum herald_rc forms_form_add_reported(struct arena *a, struct forms_form *f, const char *var,
                                       enum forms_field_type type, const char *label,
                                       struct forms_field **out)
{
    if (f->type != FORMS_TYPE_RESULT)
        return HERALD_EINVAL;
    enum herald_rc rc = field_new(a, &f->reported, var, type, label, out);
    if (rc == HERALD_OK)
        f->has_reported = true;
    return rc;
}

enum herald_rc forms_form_add_item(struct arena *a, struct forms_form *f, struct forms_item **out)
{
    if (f->type != FORMS_TYPE_RESULT)
        return HERALD_EINVAL;
    struct forms_item *it = arena_calloc(a, 1, sizeof(*it));
    if (it == NULL)
        return HERALD_ENOMEM;
    if (f->items_last)
        f->items_last->next = it;
    else
        f->items = it;
    f->items_last = it;
    f->nitems++;
    *out = it;
    return HERALD_OK;
}

enum herald_rc forms_item_add_field(struct arena *a, struct forms_item *it, const char *var,
                                    struct forms_field **out)
{
    if (var == NULL)
        return HERALD_EINVAL;
    return field_new(a, &it->fields, var, FORMS_FIELD_UNSPECIFIED, NULL, out);
}

enum herald_rc forms_field_add_value(struct arena *a, struct forms_field *fl, const char *value)
{
    if (value == NULL || (fl->nvalues >= 1 && is_single(fl->type)))
        return HERALD_EINVAL;
    const char **arr = grow(a, fl->values, fl->nvalues, &fl->values_cap, sizeof(*arr));
    const char *v = arena_strdup(a, value);
    if (arr == NULL || v == NULL)
        return HERALD_ENOMEM;
    fl->values = arr;
    fl->values[fl->nvalues++] = v;
    return HERALD_OK;
}

enum herald_rc forms_field_add_int(struct arena *a, struct forms_field *fl, int64_t value)
{
    char tmp[24]; /* "-9223372036854775808" is 20 characters */
    snprintf(tmp, sizeof(tmp), "%" PRId64, value);
    return forms_field_add_value(a, fl, tmp);
}

enum herald_rc forms_field_add_option(struct arena *a, struct forms_field *fl, const char *label,
                                      const char *value)
{
    if (value == NULL || !is_list(fl->type))
        return HERALD_EINVAL;
    for (size_t i = 0; i < fl->noptions; i++)
        if (strcmp(fl->options[i].value, value) == 0 ||
            (label && fl->options[i].label && strcmp(fl->options[i].label, label) == 0))
            return HERALD_ECONFLICT;
    struct forms_option *arr = grow(a, fl->options, fl->noptions, &fl->options_cap, sizeof(*arr));
    if (arr == NULL)
        return HERALD_ENOMEM;
    fl->options = arr;
    struct forms_option *o = &fl->options[fl->noptions];
    o->value = arena_strdup(a, value);
    o->label = label ? arena_strdup(a, label) : NULL;
    if (o->value == NULL || (label && o->label == NULL))
        return HERALD_ENOMEM;
    fl->noptions++;
    return HERALD_OK;
}

enum herald_rc forms_field_set_desc(struct arena *a, struct forms_field *fl, const char *desc)
{
    const char *d = desc ? arena_strdup(a, desc) : NULL;
    if (desc && d == NULL)
        return HERALD_ENOMEM;
    fl->desc = d;
    return HERALD_OK;
}

/* ---- serialising ---- */

static enum herald_rc add_text_child(struct arena *a, struct xml_node *parent, const char *name,
                                     const char *text)
{
    struct xml_node *n = xml_add_child(a, parent, FORMS_NS, name);
    if (n == NULL)
        return HERALD_ENOMEM;
    return text && *text ? xml_add_text(a, n, text, strlen(text)) : HERALD_OK;
}

static enum herald_rc field_to_xml(struct arena *a, struct xml_node *parent,
                                   const struct forms_field *fl)
{
    if (fl->var == NULL && fl->type != FORMS_FIELD_FIXED)
        return HERALD_EINVAL;
    struct xml_node *n = xml_add_child(a, parent, FORMS_NS, "field");
    if (n == NULL)
        return HERALD_ENOMEM;
    enum herald_rc rc = HERALD_OK;
    if (fl->var)
        rc = xml_set_attr(a, n, "var", fl->var);
    if (rc == HERALD_OK && fl->type != FORMS_FIELD_UNSPECIFIED)
        rc = xml_set_attr(a, n, "type", forms_field_type_str(fl->type));
    if (rc == HERALD_OK && fl->label)
        rc = xml_set_attr(a, n, "label", fl->label);
    if (rc == HERALD_OK && fl->desc)
        rc = add_text_child(a, n, "desc", fl->desc);
    if (rc == HERALD_OK && fl->required)
        rc = add_text_child(a, n, "required", NULL);
    for (size_t i = 0; rc == HERALD_OK && i < fl->nvalues; i++)
        rc = add_text_child(a, n, "value", fl->values[i]);
    for (size_t i = 0; rc == HERALD_OK && i < fl->noptions; i++) {
        struct xml_node *o = xml_add_child(a, n, FORMS_NS, "option");
        if (o == NULL)
            return HERALD_ENOMEM;
        if (fl->options[i].label)
            rc = xml_set_attr(a, o, "label", fl->options[i].label);
        if (rc == HERALD_OK)
            rc = add_text_child(a, o, "value", fl->options[i].value);
    }
    return rc;
}

static enum herald_rc fields_to_xml(struct arena *a, struct xml_node *parent,
                                    const struct forms_fields *l)
{
    for (const struct forms_field *fl = l->first; fl; fl = fl->next) {
        enum herald_rc rc = field_to_xml(a, parent, fl);
        if (rc != HERALD_OK)
            return rc;
    }
    return HERALD_OK;
}

enum herald_rc forms_form_to_xml(struct arena *a, const struct forms_form *f, struct xml_node **out)
{
    const char *type = forms_type_str(f->type);
    if (type == NULL)
        return HERALD_EINVAL;
    struct xml_node *x = xml_elem_new(a, FORMS_NS, "x");
    if (x == NULL)
        return HERALD_ENOMEM;
    enum herald_rc rc = xml_set_attr(a, x, "type", type);
    if (rc == HERALD_OK && f->title)
        rc = add_text_child(a, x, "title", f->title);
    for (size_t i = 0; rc == HERALD_OK && i < f->ninstructions; i++)
        rc = add_text_child(a, x, "instructions", f->instructions[i]);
    if (rc == HERALD_OK)
        rc = fields_to_xml(a, x, &f->fields);
    if (rc == HERALD_OK && f->has_reported) {
        struct xml_node *r = xml_add_child(a, x, FORMS_NS, "reported");
        rc = r ? fields_to_xml(a, r, &f->reported) : HERALD_ENOMEM;
    }
    for (const struct forms_item *it = f->items; rc == HERALD_OK && it; it = it->next) {
        struct xml_node *n = xml_add_child(a, x, FORMS_NS, "item");
        rc = n ? fields_to_xml(a, n, &it->fields) : HERALD_ENOMEM;
    }
    if (rc == HERALD_OK)
        *out = x;
    return rc;
}
