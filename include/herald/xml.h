/*
 * xml.h - namespace-aware XML trees living in an arena.
 *
 * The stream parser (xml_stream.h) builds one tree per stanza; handlers build reply trees
 * with the constructors below. Every string and node belongs to the arena the tree was
 * built in: pointers are valid until that arena is freed and must not be kept longer.
 *
 * Names are split as the Namespaces in XML recommendation has them: `ns` is the namespace
 * URI (NULL when the name is in no namespace), `name` the local name, `prefix` the prefix
 * the sender wrote (NULL for the default namespace). The writer re-declares namespaces as
 * needed, so a tree can be moved into any context.
 *
 * Text is stored decoded (entities resolved); adjacent character data is merged into one
 * text node.
 */
#ifndef HERALD_XML_H
#define HERALD_XML_H

#include "herald/common.h"
#include "herald/arena.h"
#include "herald/buf.h"

#define XML_NS_XML "http://www.w3.org/XML/1998/namespace"

enum xml_kind { XML_ELEMENT, XML_TEXT };

struct xml_attr {
    struct xml_attr *next;
    const char *ns;     /* NULL: no namespace (the usual case for attributes) */
    const char *prefix; /* as written; "xml" for xml:lang */
    const char *name;
    const char *value;
};

struct xml_node {
    enum xml_kind kind;
    struct xml_node *parent;
    struct xml_node *next; /* next sibling (element or text) */
    /* XML_ELEMENT */
    const char *ns;
    const char *prefix;
    const char *name;
    struct xml_attr *attrs; /* in document order */
    struct xml_node *first_child;
    struct xml_node *last_child;
    /* XML_TEXT */
    const char *text; /* NUL-terminated; XML forbids NUL so len is exact */
    size_t text_len;
};

/* ---- reading (all return borrowed pointers into the tree) ---- */

/* Is `n` an element named {ns}name? ns NULL matches any namespace. */
bool xml_is(const struct xml_node *n, const char *ns, const char *name);
/* First child element named {ns}name (ns NULL = any namespace, name NULL = any name). */
struct xml_node *xml_child(const struct xml_node *n, const char *ns, const char *name);
/* Next sibling element after `c` matching like xml_child. */
struct xml_node *xml_next(const struct xml_node *c, const char *ns, const char *name);
/* First child element whatever its name; NULL if none. */
struct xml_node *xml_first_elem(const struct xml_node *n);
/* Number of child elements. */
size_t xml_count_elems(const struct xml_node *n);
/* Value of the attribute `name` in no namespace, or NULL. */
const char *xml_attr(const struct xml_node *n, const char *name);
/* Value of the attribute {ns}name, or NULL. */
const char *xml_attr_ns(const struct xml_node *n, const char *ns, const char *name);
/*
 * Character data of the element: the text of its first text child if it has no element
 * children between text pieces (the usual case); "" when it has none. Never NULL for an
 * element.
 */
const char *xml_text(const struct xml_node *n);
/* True when the element has text children made only of XML white space, or none. */
bool xml_text_is_blank(const struct xml_node *n);
/* Text of the first child {ns}name, or NULL if there is no such child. */
const char *xml_child_text(const struct xml_node *n, const char *ns, const char *name);

/* ---- building (allocate in `a`; return NULL on arena exhaustion) ---- */

HERALD_MUST_CHECK struct xml_node *xml_elem_new(struct arena *a, const char *ns, const char *name);
/* New element appended as the last child of parent. */
HERALD_MUST_CHECK struct xml_node *xml_add_child(struct arena *a, struct xml_node *parent,
                                                 const char *ns, const char *name);
/* Append a text child (copied). */
HERALD_MUST_CHECK enum herald_rc xml_add_text(struct arena *a, struct xml_node *parent,
                                              const char *text, size_t len);
/* Add or replace an attribute in no namespace (value copied); value NULL removes it. */
HERALD_MUST_CHECK enum herald_rc xml_set_attr(struct arena *a, struct xml_node *n, const char *name,
                                              const char *value);
/* Add an attribute in a namespace (e.g. XML_NS_XML "lang"). */
HERALD_MUST_CHECK enum herald_rc xml_set_attr_ns(struct arena *a, struct xml_node *n,
                                                 const char *ns, const char *prefix,
                                                 const char *name, const char *value);
/* Link an existing node (possibly from the same arena) as the last child of parent. */
void xml_append(struct xml_node *parent, struct xml_node *child);
/* Unlink a node from its parent. */
void xml_remove(struct xml_node *child);
/* Deep copy of a subtree into arena `a` (detached: parent NULL). NULL on failure. */
HERALD_MUST_CHECK struct xml_node *xml_copy(struct arena *a, const struct xml_node *n);

/* ---- writing (xml_writer.c) ---- */

/*
 * Serialise `n` into b. `context_ns` is the default namespace already in force where the
 * bytes will land (e.g. "jabber:client" for a stanza written into a c2s stream, NULL for a
 * standalone document); the element gets an xmlns only if it differs. Prefixed names and
 * namespaced attributes get the declarations they need. Errors are sticky in b->err and
 * also returned.
 */
HERALD_MUST_CHECK enum herald_rc xml_write(struct buf *b, const struct xml_node *n,
                                           const char *context_ns);
/* Serialise only the children of n (its content), in n's namespace context. */
HERALD_MUST_CHECK enum herald_rc xml_write_children(struct buf *b, const struct xml_node *n,
                                                    const char *context_ns);

/*
 * Parse a standalone XML fragment (one root element, e.g. a stored item payload) into
 * arena `a`. The same restrictions as the stream apply (no DTD, PI, comment), `max_depth`
 * bounds nesting. Returns HERALD_EPROTO for malformed or restricted input.
 */
HERALD_MUST_CHECK enum herald_rc xml_parse_fragment(struct arena *a, const char *data, size_t len,
                                                    unsigned max_depth, struct xml_node **root);

#endif
