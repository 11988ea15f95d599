/*
 * xml_tree.c - lookups and constructors over arena-allocated XML trees.
 */
#include <string.h>

#include "herald/xml.h"

static bool str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

bool xml_is(const struct xml_node *n, const char *ns, const char *name)
{
    return n != NULL && n->kind == XML_ELEMENT && (ns == NULL || str_eq(n->ns, ns)) &&
           (name == NULL || strcmp(n->name, name) == 0);
}

struct xml_node *xml_next(const struct xml_node *c, const char *ns, const char *name)
{
    for (c = c ? c->next : NULL; c; c = c->next)
        if (xml_is(c, ns, name))
            return (struct xml_node *)c;
    return NULL;
}

struct xml_node *xml_child(const struct xml_node *n, const char *ns, const char *name)
{
    if (n == NULL)
        return NULL;
    for (struct xml_node *c = n->first_child; c; c = c->next)
        if (xml_is(c, ns, name))
            return c;
    return NULL;
}

struct xml_node *xml_first_elem(const struct xml_node *n)
{
    return xml_child(n, NULL, NULL);
}

size_t xml_count_elems(const struct xml_node *n)
{
    size_t k = 0;
    for (struct xml_node *c = n ? n->first_child : NULL; c; c = c->next)
        k += c->kind == XML_ELEMENT;
    return k;
}

const char *xml_attr_ns(const struct xml_node *n, const char *ns, const char *name)
{
    if (n == NULL || n->kind != XML_ELEMENT)
        return NULL;
    for (const struct xml_attr *a = n->attrs; a; a = a->next)
        if (str_eq(a->ns, ns) && strcmp(a->name, name) == 0)
            return a->value;
    return NULL;
}

const char *xml_attr(const struct xml_node *n, const char *name)
{
    return xml_attr_ns(n, NULL, name);
}

const char *xml_text(const struct xml_node *n)
{
    for (const struct xml_node *c = n ? n->first_child : NULL; c; c = c->next)
        if (c->kind == XML_TEXT)
            return c->text;
    return "";
}

bool xml_text_is_blank(const struct xml_node *n)
{
    for (const struct xml_node *c = n ? n->first_child : NULL; c; c = c->next) {
        if (c->kind != XML_TEXT)
            continue;
        for (size_t i = 0; i < c->text_len; i++)
            if (!strchr(" \t\r\n", c->text[i]))
                return false;
    }
    return true;
}

const char *xml_child_text(const struct xml_node *n, const char *ns, const char *name)
{
    struct xml_node *c = xml_child(n, ns, name);
    return c ? xml_text(c) : NULL;
}

struct xml_node *xml_elem_new(struct arena *a, const char *ns, const char *name)
{
    struct xml_node *n = arena_calloc(a, 1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->kind = XML_ELEMENT;
    n->name = arena_strdup(a, name);
    if (n->name == NULL)
        return NULL;
    if (ns && (n->ns = arena_strdup(a, ns)) == NULL)
        return NULL;
    return n;
}

void xml_append(struct xml_node *parent, struct xml_node *child)
{
    child->parent = parent;
    child->next = NULL;
    if (parent->last_child)
        parent->last_child->next = child;
    else
        parent->first_child = child;
    parent->last_child = child;
}

void xml_remove(struct xml_node *child)
{
    struct xml_node *p = child->parent;
    if (p == NULL)
        return;
    struct xml_node *prev = NULL;
    for (struct xml_node *c = p->first_child; c; prev = c, c = c->next) {
        if (c != child)
            continue;
        if (prev)
            prev->next = c->next;
        else
            p->first_child = c->next;
        if (p->last_child == c)
            p->last_child = prev;
        break;
    }
    child->parent = NULL;
    child->next = NULL;
}

struct xml_node *xml_add_child(struct arena *a, struct xml_node *parent, const char *ns,
                               const char *name)
{
    struct xml_node *n = xml_elem_new(a, ns, name);
    if (n)
        xml_append(parent, n);
    return n;
}

enum herald_rc xml_add_text(struct arena *a, struct xml_node *parent, const char *text, size_t len)
{
    struct xml_node *t = arena_calloc(a, 1, sizeof(*t));
    if (t == NULL || (t->text = arena_strndup(a, text, len)) == NULL)
        return HERALD_ENOMEM;
    t->kind = XML_TEXT;
    t->text_len = len;
    xml_append(parent, t);
    return HERALD_OK;
}

enum herald_rc xml_set_attr_ns(struct arena *a, struct xml_node *n, const char *ns,
                               const char *prefix, const char *name, const char *value)
{
    struct xml_attr **pp = &n->attrs;
    for (; *pp; pp = &(*pp)->next) {
        if (str_eq((*pp)->ns, ns) && strcmp((*pp)->name, name) == 0) {
            if (value == NULL) {
                *pp = (*pp)->next;
                return HERALD_OK;
            }
            const char *v = arena_strdup(a, value);
            if (v == NULL)
                return HERALD_ENOMEM;
            (*pp)->value = v;
            return HERALD_OK;
        }
    }
    if (value == NULL)
        return HERALD_OK;
    struct xml_attr *at = arena_calloc(a, 1, sizeof(*at));
    if (at == NULL)
        return HERALD_ENOMEM;
    at->name = arena_strdup(a, name);
    at->value = arena_strdup(a, value);
    at->ns = ns ? arena_strdup(a, ns) : NULL;
    at->prefix = prefix ? arena_strdup(a, prefix) : NULL;
    if (!at->name || !at->value || (ns && !at->ns) || (prefix && !at->prefix))
        return HERALD_ENOMEM;
    *pp = at;
    return HERALD_OK;
}

enum herald_rc xml_set_attr(struct arena *a, struct xml_node *n, const char *name,
                            const char *value)
{
    return xml_set_attr_ns(a, n, NULL, NULL, name, value);
}

struct xml_node *xml_copy(struct arena *a, const struct xml_node *n)
{
    struct xml_node *c = arena_calloc(a, 1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->kind = n->kind;
    if (n->kind == XML_TEXT) {
        c->text = arena_strndup(a, n->text, n->text_len);
        c->text_len = n->text_len;
        return c->text ? c : NULL;
    }
    c->name = arena_strdup(a, n->name);
    if (c->name == NULL || (n->ns && !(c->ns = arena_strdup(a, n->ns))) ||
        (n->prefix && !(c->prefix = arena_strdup(a, n->prefix))))
        return NULL;
    struct xml_attr **tail = &c->attrs;
    for (const struct xml_attr *at = n->attrs; at; at = at->next) {
        struct xml_attr *x = arena_calloc(a, 1, sizeof(*x));
        if (x == NULL)
            return NULL;
        x->name = arena_strdup(a, at->name);
        x->value = arena_strdup(a, at->value);
        if (!x->name || !x->value || (at->ns && !(x->ns = arena_strdup(a, at->ns))) ||
            (at->prefix && !(x->prefix = arena_strdup(a, at->prefix))))
            return NULL;
        *tail = x;
        tail = &x->next;
    }
    for (const struct xml_node *k = n->first_child; k; k = k->next) {
        struct xml_node *kc = xml_copy(a, k);
        if (kc == NULL)
            return NULL;
        xml_append(c, kc);
    }
    return c;
}
