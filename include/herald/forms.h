/*
 * forms.h - XEP-0004 Data Forms: parse, build, serialise and validate.
 *
 * Used by pubsub node configuration and subscription options (XEP-0060 §17.4), publish
 * options, disco extensions (XEP-0128) and ad-hoc commands (XEP-0050). The module is pure:
 * no I/O, no globals.
 *
 * Memory: a struct forms_form and everything it points to (fields, values, strings) lives in
 * the arena the caller passes; parsing copies every string out of the XML tree, so the form
 * does not depend on the tree's arena. Nothing is freed individually; the form dies with
 * its arena.
 *
 * Errors: parse failures are HERALD_EPROTO (the XEP forbids the input) or HERALD_ELIMIT (a
 * struct forms_limits bound was passed), each with a static English reason string; arena
 * exhaustion is HERALD_ENOMEM. Builder misuse (an option on a text field, a duplicate var)
 * is HERALD_EINVAL / HERALD_ECONFLICT, never an assertion.
 */
#ifndef HERALD_FORMS_H
#define HERALD_FORMS_H

#include "herald/common.h"
#include "herald/arena.h"
#include "herald/xml.h"

#define FORMS_NS        "jabber:x:data"
#define FORMS_FORM_TYPE "FORM_TYPE" /* the var of the XEP-0068 hidden field */

/* The 'type' attribute of <x/> (XEP-0004 §3.1). */
enum forms_type {
    FORMS_TYPE_FORM = 0,
    FORMS_TYPE_SUBMIT,
    FORMS_TYPE_CANCEL,
    FORMS_TYPE_RESULT,
};

/* The 'type' attribute of <field/> (XEP-0004 §3.3). UNSPECIFIED: absent and not inferred. */
enum forms_field_type {
    FORMS_FIELD_UNSPECIFIED = 0,
    FORMS_FIELD_BOOLEAN,
    FORMS_FIELD_FIXED,
    FORMS_FIELD_HIDDEN,
    FORMS_FIELD_JID_MULTI,
    FORMS_FIELD_JID_SINGLE,
    FORMS_FIELD_LIST_MULTI,
    FORMS_FIELD_LIST_SINGLE,
    FORMS_FIELD_TEXT_MULTI,
    FORMS_FIELD_TEXT_PRIVATE,
    FORMS_FIELD_TEXT_SINGLE,
};

struct forms_option {
    const char *label; /* NULL when absent */
    const char *value; /* never NULL */
};

struct forms_field {
    struct forms_field *next;   /* document order */
    const char *var;            /* NULL only for a fixed field without var */
    enum forms_field_type type; /* see forms_form_parse for defaults and inference */
    const char *label;          /* NULL when absent */
    const char *desc;           /* NULL when absent */
    bool required;
    const char **values; /* nvalues strings, "" for <value/> */
    size_t nvalues;
    struct forms_option *options;
    size_t noptions;
    size_t values_cap, options_cap; /* builder bookkeeping */
};

/* An ordered list of fields with unique vars. */
struct forms_fields {
    struct forms_field *first;
    struct forms_field *last;
    size_t count;
};

/* One <item/> of a multi-item result (XEP-0004 §3.4). */
struct forms_item {
    struct forms_item *next;
    struct forms_fields fields;
};

struct forms_form {
    enum forms_type type;
    const char *title; /* NULL when absent */
    const char **instructions;
    size_t ninstructions, instructions_cap;
    struct forms_fields fields;   /* top-level fields */
    bool has_reported;            /* a <reported/> was present (result forms only) */
    struct forms_fields reported; /* the table header */
    struct forms_item *items;     /* table rows, in order */
    struct forms_item *items_last;
    size_t nitems;
};

/* ---- names ---- */

/* "form", "submit", "cancel", "result"; NULL for a value outside the enum. */
const char *forms_type_str(enum forms_type t);
/* HERALD_EINVAL for anything else (matching is exact and case-sensitive). */
HERALD_MUST_CHECK enum herald_rc forms_type_parse(const char *s, enum forms_type *out);
/* "boolean" ... "text-single"; NULL for FORMS_FIELD_UNSPECIFIED or outside the enum. */
const char *forms_field_type_str(enum forms_field_type t);
HERALD_MUST_CHECK enum herald_rc forms_field_type_parse(const char *s, enum forms_field_type *out);
/* list-multi, jid-multi, text-multi and hidden may carry several values (XEP-0004 §3.2). */
bool forms_field_type_is_multi(enum forms_field_type t);

/* ---- parsing ---- */

/* Bounds on peer input beyond the arena's byte limit; they also keep the checks linear. */
struct forms_limits {
    size_t max_fields;       /* fields in the whole form: top level + reported + items */
    size_t max_values;       /* <value/> per field */
    size_t max_options;      /* <option/> per field */
    size_t max_instructions; /* <instructions/> per form */
};
#define FORMS_LIMITS_DEFAULT                                                                       \
    ((struct forms_limits){                                                                        \
        .max_fields = 256, .max_values = 256, .max_options = 256, .max_instructions = 16})

/*
 * Parse a {jabber:x:data}x element into *out (allocated in `a`). `limits` NULL means
 * FORMS_LIMITS_DEFAULT. On failure *reason (if reason is non-NULL) gets a static string.
 *
 * Field types: in a form of type "form" an absent type is text-single (§3.2) and a type not
 * in the XEP is taken as text-single (§3.3); in the other form types an absent type stays
 * FORMS_FIELD_UNSPECIFIED (the receiver infers it, see forms_form_validate) and an unknown
 * type is rejected. Item fields without a type take the type of the reported field.
 *
 * HERALD_EPROTO for: not {jabber:x:data}x; a missing or unknown form type; several <title/>;
 * an unknown element in the jabber:x:data namespace; an element inside character data;
 * a field without var that is not fixed, or with an empty var; two fields with the same
 * var in one context (top level, reported, one item); several <desc/> or <required/>; a
 * non-empty <required/>; several values in a field whose type is single-valued; an option
 * in a field whose type is not a list; an option without exactly one <value/>; two options
 * with the same value or the same label; <reported/> or <item/> outside a result form;
 * several <reported/>; an empty <reported/> or <item/>; items without <reported/>; an item
 * lacking a reported field. Elements in other namespaces (XEP-0122, XEP-0221 ...) are
 * ignored. <reported/> may follow items and may sit beside top-level fields (§3.4 asks
 * receivers to be flexible about both).
 * HERALD_ELIMIT when a limit is passed; HERALD_ENOMEM when the arena is exhausted.
 */
HERALD_MUST_CHECK enum herald_rc forms_form_parse(struct arena *a, const struct xml_node *x,
                                                  const struct forms_limits *limits,
                                                  struct forms_form **out, const char **reason);

/* ---- lookups (borrowed pointers) ---- */

/* The field with this var in a list / at the top level of a form; NULL if none. */
struct forms_field *forms_fields_find(const struct forms_fields *l, const char *var);
struct forms_field *forms_form_find_field(const struct forms_form *f, const char *var);
/* The first value of a field, NULL when it has none. */
const char *forms_field_first_value(const struct forms_field *fl);

/*
 * The FORM_TYPE of a form (XEP-0068): HERALD_OK with *out pointing at the value;
 * HERALD_ENOTFOUND when there is no FORM_TYPE field or it is declared with a type other than
 * hidden (XEP-0068: such a field is ignored as a context indicator); HERALD_EPROTO when it has no
 * value or several different values (XEP-0115 §5.4 calls that ill-formed).
 */
HERALD_MUST_CHECK enum herald_rc forms_form_get_form_type(const struct forms_form *f,
                                                          const char **out);

/* ---- value parsing ---- */

/* xs:boolean, strictly: "1"/"true" and "0"/"false" only. HERALD_EINVAL otherwise. */
HERALD_MUST_CHECK enum herald_rc forms_value_bool(const char *s, bool *out);
/*
 * A decimal integer ([+-]?[0-9]+, no spaces) within [min, max]. HERALD_EINVAL when it is
 * not an integer, HERALD_ELIMIT when it is one but out of range (overflow included).
 */
HERALD_MUST_CHECK enum herald_rc forms_value_int(const char *s, int64_t min, int64_t max,
                                                 int64_t *out);

/* ---- building (strings are copied into `a`) ---- */

/* NULL on ENOMEM. */
HERALD_MUST_CHECK struct forms_form *forms_form_new(struct arena *a, enum forms_type type);
HERALD_MUST_CHECK enum herald_rc forms_form_set_title(struct arena *a, struct forms_form *f,
                                                      const char *title);
HERALD_MUST_CHECK enum herald_rc forms_form_add_instructions(struct arena *a, struct forms_form *f,
                                                             const char *text);
/*
 * Append a top-level field. var may be NULL only for FORMS_FIELD_FIXED (else HERALD_EINVAL);
 * label may be NULL. HERALD_ECONFLICT if the var is already used. *out may be NULL.
 */
HERALD_MUST_CHECK enum herald_rc forms_form_add_field(struct arena *a, struct forms_form *f,
                                                      const char *var, enum forms_field_type type,
                                                      const char *label, struct forms_field **out);
/* Append the hidden FORM_TYPE field with its value. */
HERALD_MUST_CHECK enum herald_rc forms_form_add_form_type(struct arena *a, struct forms_form *f,
                                                          const char *form_type);
/* Reported fields and items: HERALD_EINVAL unless the form is a result form. */
HERALD_MUST_CHECK enum herald_rc
forms_form_add_reported(struct arena *a, struct forms_form *f, const char *var,
                        enum forms_field_type type, const char *label, struct forms_field **out);
HERALD_MUST_CHECK enum herald_rc forms_form_add_item(struct arena *a, struct forms_form *f,
                                                     struct forms_item **out);
/* An item field has no type of its own (the reported field gives it). */
HERALD_MUST_CHECK enum herald_rc forms_item_add_field(struct arena *a, struct forms_item *it,
                                                      const char *var, struct forms_field **out);
/* HERALD_EINVAL for a second value in a single-valued type. */
HERALD_MUST_CHECK enum herald_rc forms_field_add_value(struct arena *a, struct forms_field *fl,
                                                       const char *value);
HERALD_MUST_CHECK enum herald_rc forms_field_add_int(struct arena *a, struct forms_field *fl,
                                                     int64_t value);
/* label may be NULL. HERALD_EINVAL unless the field is list-single or list-multi. */
HERALD_MUST_CHECK enum herald_rc forms_field_add_option(struct arena *a, struct forms_field *fl,
                                                        const char *label, const char *value);
HERALD_MUST_CHECK enum herald_rc forms_field_set_desc(struct arena *a, struct forms_field *fl,
                                                      const char *desc);

/*
 * Serialise into a detached {jabber:x:data}x tree allocated in `a` (write it with
 * xml_write). Order: title, instructions, fields, reported, items; within a field: desc,
 * required, values, options. An UNSPECIFIED type writes no type attribute.
 * HERALD_ENOMEM, or HERALD_EINVAL for a non-fixed field without var.
 */
HERALD_MUST_CHECK enum herald_rc forms_form_to_xml(struct arena *a, const struct forms_form *f,
                                                   struct xml_node **out);

/* ---- validation of a submitted form ---- */

/* One entry of the caller's static table, e.g. the pubsub#node_config fields. */
struct forms_spec_field {
    const char *var;
    enum forms_field_type type;
    bool required; /* the form must carry a non-empty value */
    /*
     * NULL-terminated list of allowed values, or NULL for any. For an integer field these
     * are extra keywords accepted besides integers (e.g. "max" for pubsub#max_items).
     * Not applied to boolean fields.
     */
    const char *const *options;
    bool integer; /* the value must be a decimal integer in [min, max] */
    int64_t min, max;
};

struct forms_spec {
    const char *form_type; /* the FORM_TYPE expected, or NULL not to check it */
    const struct forms_spec_field *fields;
    size_t nfields;
};

/* Flags for forms_form_validate. */
#define FORMS_VALIDATE_IGNORE_UNKNOWN    0x1u /* skip fields not in the spec (else reject) */
#define FORMS_VALIDATE_STRICT_TYPES      0x2u /* reject a declared type that differs */
#define FORMS_VALIDATE_REQUIRE_FORM_TYPE 0x4u /* reject a form without FORM_TYPE */

/*
 * What was wrong. Suggested XMPP mapping: NOT_SUBMIT, FORM_TYPE and MULTIPLE_VALUES are
 * malformed requests (bad-request); the others are values the service does not accept
 * (not-acceptable) - but the using protocol decides (XEP-0060 §6.3.6.2 says bad-request for
 * subscription options).
 */
enum forms_error {
    FORMS_ERR_NONE = 0,
    FORMS_ERR_NOT_SUBMIT,      /* the form is not of type submit */
    FORMS_ERR_FORM_TYPE,       /* FORM_TYPE wrong, ill-formed, or missing when required */
    FORMS_ERR_UNKNOWN_FIELD,   /* a var the spec does not know */
    FORMS_ERR_TYPE_MISMATCH,   /* declared type differs from the spec (strict mode) */
    FORMS_ERR_REQUIRED,        /* a required field is absent or empty */
    FORMS_ERR_MULTIPLE_VALUES, /* several values in a single-valued field */
    FORMS_ERR_BAD_BOOLEAN,
    FORMS_ERR_BAD_INTEGER,
    FORMS_ERR_OUT_OF_RANGE,
    FORMS_ERR_NOT_AN_OPTION, /* a value outside the spec's options */
    FORMS_ERR_BAD_JID,
};

struct forms_problem {
    enum forms_error error;
    const char *var;    /* the field at fault (borrowed from the form or the spec); NULL for
                           NOT_SUBMIT */
    const char *value;  /* the value at fault, or NULL */
    const char *reason; /* static English text, fit for an XMPP <text/> */
};

/* Static name of an error, e.g. "not-an-option". */
const char *forms_error_str(enum forms_error e);

/*
 * Check a submitted form against spec; the first problem in document order (then missing
 * required fields in spec order) goes to *problem and the call returns HERALD_EPROTO.
 *
 * The form is completed in place (so `a` should be the form's arena): a field without a type
 * takes the spec's type (XEP-0004 §3.2 inference; also a mismatching declared type unless
 * STRICT_TYPES); jid-single/jid-multi values are replaced by their canonical form (jid_parse)
 * and duplicate JIDs in a jid-multi are dropped (§3.3: they MUST be ignored).
 *
 * A field with no value, or with a single empty <value/>, is unset (§3.6): its values are
 * dropped (nvalues = 0) and only `required` is checked on it. FORM_TYPE and fixed fields the spec
 * does not know are skipped. If the form has a FORM_TYPE it must equal spec->form_type (when set).
 * HERALD_OK when valid, HERALD_EPROTO with *problem filled (problem may be NULL),
 * HERALD_ENOMEM.
 */
HERALD_MUST_CHECK enum herald_rc forms_form_validate(struct arena *a, struct forms_form *f,
                                                     const struct forms_spec *spec, unsigned flags,
                                                     struct forms_problem *problem);

/* The spec entry for var, or NULL. */
const struct forms_spec_field *forms_spec_find(const struct forms_spec *spec, const char *var);

#endif
