/*
 * xml_writer.c - serialise arena trees with correct escaping and namespace declarations.
 *
 * The writer keeps the namespace bindings it has emitted on the C stack (a chain of
 * scopes, one per element written) and declares a namespace only where the output would
 * otherwise not carry it. Elements keep the prefix they were parsed with; unprefixed
 * elements use the default namespace. Attributes in a namespace other than xml: keep their
 * prefix when it is free, else get a generated one (ns0, ns1...). Recursion depth equals
 * the tree depth, which the parser bounds by configuration.
 */
#include <stdio.h>
#include <string.h>

#include "herald/xml.h"

struct ns_scope {
    const struct ns_scope *up;
    const char *prefix; /* NULL = the default namespace */
    const char *ns;
};

static bool str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* The namespace bound to prefix (NULL prefix = default) in scope; NULL when unbound. */
static const char *scope_lookup(const struct ns_scope *s, const char *prefix)
{
    for (; s; s = s->up)
        if (str_eq(s->prefix, prefix))
            return s->ns;
    return NULL;
}

static bool scope_has(const struct ns_scope *s, const char *prefix)
{
    for (; s; s = s->up)
        if (str_eq(s->prefix, prefix))
            return true;
    return false;
}

#define MAX_DECLS 32

static void write_decl(struct buf *b, const char *prefix, const char *ns)
{
    if (prefix) {
        buf_append_str(b, " xmlns:");
        buf_append_str(b, prefix);
    } else {
        buf_append_str(b, " xmlns");
    }
    buf_append_str(b, "='");
    buf_append_xml_attr_escaped(b, ns ? ns : "", ns ? strlen(ns) : 0);
    buf_append_byte(b, '\'');
}

static void write_node(struct buf *b, const struct xml_node *n, const struct ns_scope *up);

static void write_children(struct buf *b, const struct xml_node *n, const struct ns_scope *s)
{
    for (const struct xml_node *c = n->first_child; c && !b->err; c = c->next)
        write_node(b, c, s);
}

static void write_node(struct buf *b, const struct xml_node *n, const struct ns_scope *up)
{
    if (n->kind == XML_TEXT) {
        buf_append_xml_escaped(b, n->text, n->text_len);
        return;
    }
    struct ns_scope decl[MAX_DECLS];
    size_t ndecl = 0;
    const struct ns_scope *s = up;
    char genbuf[MAX_DECLS][8];

    buf_append_byte(b, '<');
    /* A prefix without a namespace cannot be written, and one for the namespace the default
     * already names is dropped: a server must not pass on stanzas with a prefixed content
     * namespace (RFC 6120 §4.8.5), so <foo:message xmlns:foo='jabber:client'/> leaves as
     * <message/>. */
    const char *eprefix = n->prefix;
    if (eprefix && (n->ns == NULL || str_eq(scope_lookup(s, NULL), n->ns)))
        eprefix = NULL;
    if (eprefix) {
        buf_append_str(b, eprefix);
        buf_append_byte(b, ':');
    }
    buf_append_str(b, n->name);
    bool need = eprefix ? !str_eq(scope_lookup(s, eprefix), n->ns)
                        : !str_eq(scope_lookup(s, NULL), n->ns) &&
                              (n->ns != NULL || scope_lookup(s, NULL) != NULL);
    if (need) {
        decl[ndecl] = (struct ns_scope){s, eprefix, n->ns};
        s = &decl[ndecl++];
        write_decl(b, eprefix, n->ns);
    }
    for (const struct xml_attr *a = n->attrs; a && !b->err; a = a->next) {
        buf_append_byte(b, ' ');
        if (a->ns && strcmp(a->ns, XML_NS_XML) == 0) {
            buf_append_str(b, "xml:");
        } else if (a->ns) {
            const char *p = a->prefix;
            if (p == NULL || (scope_has(s, p) && !str_eq(scope_lookup(s, p), a->ns))) {
                /* Find a prefix already bound to this namespace, or make one. */
                p = NULL;
                for (const struct ns_scope *k = s; k && !p; k = k->up)
                    if (k->prefix && str_eq(k->ns, a->ns) &&
                        str_eq(scope_lookup(s, k->prefix), a->ns))
                        p = k->prefix;
                for (unsigned g = 0; p == NULL && ndecl < MAX_DECLS; g++) {
                    snprintf(genbuf[ndecl], sizeof(genbuf[0]), "ns%u", g);
                    if (!scope_has(s, genbuf[ndecl]))
                        p = genbuf[ndecl];
                }
            }
            if (p == NULL) {
                b->err = HERALD_ELIMIT;
                return;
            }
            if (!str_eq(scope_lookup(s, p), a->ns)) {
                if (ndecl >= MAX_DECLS) {
                    b->err = HERALD_ELIMIT;
                    return;
                }
                /* Declarations must precede use only logically; order within a tag is free. */
                write_decl(b, p, a->ns);
                buf_append_byte(b, ' ');
                decl[ndecl] = (struct ns_scope){s, p, a->ns};
                s = &decl[ndecl++];
            }
            buf_append_str(b, p);
            buf_append_byte(b, ':');
        }
        buf_append_str(b, a->name);
        buf_append_str(b, "='");
        buf_append_xml_attr_escaped(b, a->value, strlen(a->value));
        buf_append_byte(b, '\'');
    }
    if (n->first_child == NULL) {
        buf_append_str(b, "/>");
        return;
    }
    buf_append_byte(b, '>');
    write_children(b, n, s);
    buf_append_str(b, "</");
    if (eprefix) {
        buf_append_str(b, eprefix);
        buf_append_byte(b, ':');
    }
    buf_append_str(b, n->name);
    buf_append_byte(b, '>');
}

enum herald_rc xml_write(struct buf *b, const struct xml_node *n, const char *context_ns)
{
    struct ns_scope root = {NULL, NULL, context_ns};
    write_node(b, n, context_ns ? &root : NULL);
    return b->err;
}

enum herald_rc xml_write_children(struct buf *b, const struct xml_node *n, const char *context_ns)
{
    struct ns_scope root = {NULL, NULL, context_ns};
    struct ns_scope self = {&root, NULL, n->ns};
    write_children(b, n, n->prefix ? &root : &self);
    return b->err;
}
