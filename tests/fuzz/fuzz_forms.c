/*
 * fuzz_forms.c - libFuzzer target for the XEP-0004 parser, serialiser and validator.
 *
 * Input: XML text. It is parsed as a fragment, then with forms_form_parse. Whatever parses
 * must survive forms_form_to_xml -> xml_write -> xml_parse_fragment -> forms_form_parse and
 * come back identical (the round trip is the oracle, besides the sanitizers), and then go
 * through forms_form_validate without crashing. Seeds: tests/fuzz/corpus/fuzz_forms/.
 */
#include <stdlib.h>
#include <string.h>

#include "herald/forms.h"
#include "herald/xml.h"

#define ARENA_LIMIT (64u << 20)
#define MAX_DEPTH   32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool str_same(const char *x, const char *y)
{
    return x == NULL || y == NULL ? x == y : strcmp(x, y) == 0;
}

static bool fields_same(const struct forms_fields *x, const struct forms_fields *y)
{
    if (x->count != y->count)
        return false;
    const struct forms_field *p = x->first, *q = y->first;
    for (; p && q; p = p->next, q = q->next) {
        if (!str_same(p->var, q->var) || p->type != q->type || !str_same(p->label, q->label) ||
            !str_same(p->desc, q->desc) || p->required != q->required || p->nvalues != q->nvalues ||
            p->noptions != q->noptions)
            return false;
        for (size_t i = 0; i < p->nvalues; i++)
            if (strcmp(p->values[i], q->values[i]) != 0)
                return false;
        for (size_t i = 0; i < p->noptions; i++)
            if (!str_same(p->options[i].label, q->options[i].label) ||
                strcmp(p->options[i].value, q->options[i].value) != 0)
                return false;
    }
    return p == NULL && q == NULL;
}

static bool forms_same(const struct forms_form *x, const struct forms_form *y)
{
    if (x->type != y->type || !str_same(x->title, y->title) ||
        x->ninstructions != y->ninstructions || x->has_reported != y->has_reported ||
        x->nitems != y->nitems || !fields_same(&x->fields, &y->fields) ||
        !fields_same(&x->reported, &y->reported))
        return false;
    for (size_t i = 0; i < x->ninstructions; i++)
        if (strcmp(x->instructions[i], y->instructions[i]) != 0)
            return false;
    const struct forms_item *p = x->items, *q = y->items;
    for (; p && q; p = p->next, q = q->next)
        if (!fields_same(&p->fields, &q->fields))
            return false;
    return p == NULL && q == NULL;
}

static const char *const models[] = {"open", "presence", NULL};
static const char *const max_kw[] = {"max", NULL};
static const struct forms_spec_field spec_fields[] = {
    {.var = "pubsub#access_model", .type = FORMS_FIELD_LIST_SINGLE, .options = models},
    {.var = "pubsub#contact", .type = FORMS_FIELD_JID_MULTI},
    {.var = "pubsub#owner", .type = FORMS_FIELD_JID_SINGLE, .required = true},
    {.var = "pubsub#deliver_payloads", .type = FORMS_FIELD_BOOLEAN},
    {.var = "pubsub#max_items",
     .type = FORMS_FIELD_TEXT_SINGLE,
     .integer = true,
     .min = 1,
     .max = 1000,
     .options = max_kw},
    {.var = "pubsub#roster_groups_allowed", .type = FORMS_FIELD_LIST_MULTI},
    {.var = "pubsub#title", .type = FORMS_FIELD_TEXT_SINGLE},
};
static const struct forms_spec spec = {
    .form_type = "http://jabber.org/protocol/pubsub#node_config",
    .fields = spec_fields,
    .nfields = sizeof(spec_fields) / sizeof(spec_fields[0]),
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new(ARENA_LIMIT);
    if (a == NULL)
        return 0;
    struct xml_node *root = NULL;
    struct forms_form *f = NULL, *g = NULL;
    const char *why = NULL;
    struct buf b;
    buf_init(&b, ARENA_LIMIT);
    if (xml_parse_fragment(a, (const char *)data, size, MAX_DEPTH, &root) != HERALD_OK)
        goto out;
    enum herald_rc rc = forms_form_parse(a, root, NULL, &f, &why);
    if (rc != HERALD_OK) {
        if (why == NULL)
            abort(); /* every failure names its reason */
        goto out;
    }

    struct xml_node *x = NULL;
    if (forms_form_to_xml(a, f, &x) != HERALD_OK || xml_write(&b, x, NULL) != HERALD_OK)
        goto out; /* only ENOMEM / ELIMIT can get here */
    struct xml_node *root2 = NULL;
    rc = xml_parse_fragment(a, b.data, b.len, MAX_DEPTH, &root2);
    if (rc == HERALD_ENOMEM)
        goto out;
    if (rc != HERALD_OK)
        abort(); /* we wrote XML that does not parse */
    rc = forms_form_parse(a, root2, NULL, &g, &why);
    if (rc == HERALD_ENOMEM)
        goto out;
    if (rc != HERALD_OK || !forms_same(f, g))
        abort(); /* the serialised form means something else */

    struct forms_problem p;
    for (unsigned flags = 0; flags < 8; flags++) {
        rc = forms_form_validate(a, flags & 1 ? f : g, &spec, flags, &p);
        if (rc == HERALD_EPROTO && (p.reason == NULL || p.error == FORMS_ERR_NONE))
            abort();
        if (rc == HERALD_OK && p.error != FORMS_ERR_NONE)
            abort();
    }
out:
    buf_cleanup(&b);
    arena_free(&a);
    return 0;
}
