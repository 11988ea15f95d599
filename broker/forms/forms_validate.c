/*
 * forms_validate.c - checking a submitted XEP-0004 form against a struct forms_spec: the
 * FORM_TYPE, known fields, field types, required fields and value syntax (booleans,
 * integers in range, list options, JIDs canonicalised in place).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "herald/forms.h"
#include "herald/jid.h"

static const char *const error_names[] = {
    "none",          "not-submit",   "form-type",       "unknown-field",
    "type-mismatch", "required",     "multiple-values", "bad-boolean",
    "bad-integer",   "out-of-range", "not-an-option",   "bad-jid",
};

const char *forms_error_str(enum forms_error e)
{
    return (size_t)e < HERALD_ARRAY_LEN(error_names) ? error_names[e] : "unknown";
}

const struct forms_spec_field *forms_spec_find(const struct forms_spec *spec, const char *var)
{
    for (size_t i = 0; var && i < spec->nfields; i++)
        if (strcmp(spec->fields[i].var, var) == 0)
            return &spec->fields[i];
    return NULL;
}

static enum herald_rc problem(struct forms_problem *p, enum forms_error e, const char *var,
                              const char *value, const char *reason)
{
    *p = (struct forms_problem){.error = e, .var = var, .value = value, .reason = reason};
    return HERALD_EPROTO;
}

static bool in_options(const char *const *opts, const char *v)
{
    for (; *opts; opts++)
        if (strcmp(*opts, v) == 0)
            return true;
    return false;
}

/* Replace a JID value by its canonical form. EPROTO with *p filled when it is not a JID. */
static enum herald_rc canon_jid(struct arena *a, struct forms_field *fl, size_t i,
                                struct forms_problem *p)
{
    struct jid j;
    enum herald_rc rc = jid_parse(a, fl->values[i], &j);
    if (rc == HERALD_ENOMEM)
        return rc;
    if (rc != HERALD_OK)
        return problem(p, FORMS_ERR_BAD_JID, fl->var, fl->values[i], "not a valid JID");
    const char *s = jid_full_str(a, &j);
    if (s == NULL)
        return HERALD_ENOMEM;
    fl->values[i] = s;
    return HERALD_OK;
}

static enum herald_rc check_value(struct arena *a, struct forms_field *fl, size_t i,
                                  const struct forms_spec_field *sf, struct forms_problem *p)
{
    const char *v = fl->values[i];
    bool b;
    int64_t n;
    if (sf->type == FORMS_FIELD_BOOLEAN) {
        if (forms_value_bool(v, &b) != HERALD_OK)
            return problem(p, FORMS_ERR_BAD_BOOLEAN, fl->var, v,
                           "not a boolean (0, 1, false or true)");
        return HERALD_OK;
    }
    if (sf->integer) {
        if (!(sf->options && in_options(sf->options, v))) {
            enum herald_rc rc = forms_value_int(v, sf->min, sf->max, &n);
            if (rc == HERALD_EINVAL)
                return problem(p, FORMS_ERR_BAD_INTEGER, fl->var, v, "not an integer");
            if (rc != HERALD_OK)
                return problem(p, FORMS_ERR_OUT_OF_RANGE, fl->var, v, "integer out of range");
        }
    } else if (sf->options && !in_options(sf->options, v)) {
        return problem(p, FORMS_ERR_NOT_AN_OPTION, fl->var, v, "value not among the options");
    }
    if (sf->type == FORMS_FIELD_JID_SINGLE || sf->type == FORMS_FIELD_JID_MULTI)
        return canon_jid(a, fl, i, p);
    return HERALD_OK;
}

/* §3.3: duplicate JIDs in a jid-multi MUST be ignored; keep the first of each. */
static void dedupe_values(struct forms_field *fl)
{
    size_t kept = 0;
    for (size_t i = 0; i < fl->nvalues; i++) {
        size_t j = 0;
        while (j < kept && strcmp(fl->values[j], fl->values[i]) != 0)
            j++;
        if (j == kept)
            fl->values[kept++] = fl->values[i];
    }
    fl->nvalues = kept;
}

static enum herald_rc check_field(struct arena *a, struct forms_field *fl,
                                  const struct forms_spec_field *sf, struct forms_problem *p)
{
    if (fl->nvalues > 1 && !forms_field_type_is_multi(sf->type))
        return problem(p, FORMS_ERR_MULTIPLE_VALUES, fl->var, NULL,
                       "several values in a single-valued field");
    if (fl->nvalues == 0 || (fl->nvalues == 1 && fl->values[0][0] == '\0')) {
        fl->nvalues = 0; /* §3.6: one representation of "unset" for the consumer */
        if (sf->required)
            return problem(p, FORMS_ERR_REQUIRED, fl->var, NULL, "required field is empty");
        return HERALD_OK;
    }
    for (size_t i = 0; i < fl->nvalues; i++) {
        enum herald_rc rc = check_value(a, fl, i, sf, p);
        if (rc != HERALD_OK)
            return rc;
    }
    if (sf->type == FORMS_FIELD_JID_MULTI)
        dedupe_values(fl);
    return HERALD_OK;
}

static enum herald_rc check_form_type(const struct forms_form *f, const struct forms_spec *spec,
                                      unsigned flags, struct forms_problem *p)
{
    if (spec->form_type == NULL)
        return HERALD_OK;
    const char *ft = NULL;
    enum herald_rc rc = forms_form_get_form_type(f, &ft);
    if (rc == HERALD_EPROTO)
        return problem(p, FORMS_ERR_FORM_TYPE, FORMS_FORM_TYPE, NULL, "FORM_TYPE is ill-formed");
    if (rc == HERALD_ENOTFOUND && (flags & FORMS_VALIDATE_REQUIRE_FORM_TYPE))
        return problem(p, FORMS_ERR_FORM_TYPE, FORMS_FORM_TYPE, NULL, "FORM_TYPE is missing");
    if (rc == HERALD_OK && strcmp(ft, spec->form_type) != 0)
        return problem(p, FORMS_ERR_FORM_TYPE, FORMS_FORM_TYPE, ft,
                       "FORM_TYPE is not the expected one");
    return HERALD_OK;
}

enum herald_rc forms_form_validate(struct arena *a, struct forms_form *f,
                                   const struct forms_spec *spec, unsigned flags,
                                   struct forms_problem *p)
{
    struct forms_problem scratch;
    if (p == NULL)
        p = &scratch;
    *p = (struct forms_problem){.error = FORMS_ERR_NONE};
    if (f->type != FORMS_TYPE_SUBMIT)
        return problem(p, FORMS_ERR_NOT_SUBMIT, NULL, NULL, "the form is not of type submit");
    enum herald_rc rc = check_form_type(f, spec, flags, p);
    if (rc != HERALD_OK)
        return rc;
    for (struct forms_field *fl = f->fields.first; fl; fl = fl->next) {
        if (fl->var == NULL || strcmp(fl->var, FORMS_FORM_TYPE) == 0)
            continue;
        const struct forms_spec_field *sf = forms_spec_find(spec, fl->var);
        if (sf == NULL) {
            /* A fixed field describes, it carries no data to reject. */
            if ((flags & FORMS_VALIDATE_IGNORE_UNKNOWN) || fl->type == FORMS_FIELD_FIXED)
                continue;
            return problem(p, FORMS_ERR_UNKNOWN_FIELD, fl->var, NULL, "unknown field");
        }
        if (fl->type != FORMS_FIELD_UNSPECIFIED && fl->type != sf->type &&
            (flags & FORMS_VALIDATE_STRICT_TYPES))
            return problem(p, FORMS_ERR_TYPE_MISMATCH, fl->var, forms_field_type_str(fl->type),
                           "field type differs from the expected type");
        fl->type = sf->type;
        if ((rc = check_field(a, fl, sf, p)) != HERALD_OK)
            return rc;
    }
    for (size_t i = 0; i < spec->nfields; i++) {
        const struct forms_spec_field *sf = &spec->fields[i];
        if (sf->required && forms_form_find_field(f, sf->var) == NULL)
            return problem(p, FORMS_ERR_REQUIRED, sf->var, NULL, "required field is missing");
    }
    return HERALD_OK;
}
