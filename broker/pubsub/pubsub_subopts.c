/*
 * pubsub_subopts.c - XEP-0060 subscription options (§6.3, §6.4, §17.4
 * pubsub#subscribe_options) and the XEP-0082 DateTime values they and the meta-data use.
 *
 * Offered in the form: deliver, show-values and expire (digest and include_body are accepted
 * only as false: digests and bodies are not produced)
 * (a lease date-time, or "presence" for a temporary subscription, §12.4). subscription_type and
 * subscription_depth only mean something for XEP-0248 collection nodes, which Herald does not
 * have: they are not offered, a submitted "items" / "1" / "all" is accepted (and stored, it is
 * what a leaf subscription is anyway) and "nodes" is refused. Every refusal is bad-request with
 * <invalid-options/> (§6.3.5.2); an unknown field is one too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pubsub_config_int.h"

#define US_PER_S  INT64_C(1000000)
#define S_PER_DAY INT64_C(86400)
/* The default digest period: the §6.3.2 label says "approx. one per day". */
#define DIGEST_FREQ_DEFAULT UINT64_C(86400000)
/* A year of milliseconds: longer than any sensible digest period. */
#define DIGEST_FREQ_MAX INT64_C(31536000000)

enum so_id {
    SO_DELIVER,
    SO_DIGEST,
    SO_DIGEST_FREQ,
    SO_INCLUDE_BODY,
    SO_SHOW,
    SO_EXPIRE,
    SO_SUB_TYPE,
    SO_SUB_DEPTH,
    SO_COUNT
};

static const char *const SHOW_VALUES[] = {"chat", "online", "away", "xa", "dnd", NULL};
static const char *const SUB_TYPE_VALUES[] = {"items", "nodes", NULL};
static const char *const SUB_DEPTH_VALUES[] = {"1", "all", NULL};

static const struct forms_spec_field SUBOPTS_SPEC[SO_COUNT] = {
    [SO_DELIVER] = {.var = "pubsub#deliver", .type = FORMS_FIELD_BOOLEAN},
    [SO_DIGEST] = {.var = "pubsub#digest", .type = FORMS_FIELD_BOOLEAN},
    [SO_DIGEST_FREQ] = {.var = "pubsub#digest_frequency",
                        .type = FORMS_FIELD_TEXT_SINGLE,
                        .integer = true,
                        .min = 1,
                        .max = DIGEST_FREQ_MAX},
    [SO_INCLUDE_BODY] = {.var = "pubsub#include_body", .type = FORMS_FIELD_BOOLEAN},
    [SO_SHOW] = {.var = "pubsub#show-values",
                 .type = FORMS_FIELD_LIST_MULTI,
                 .options = SHOW_VALUES},
    [SO_EXPIRE] = {.var = "pubsub#expire", .type = FORMS_FIELD_TEXT_SINGLE},
    [SO_SUB_TYPE] = {.var = "pubsub#subscription_type",
                     .type = FORMS_FIELD_LIST_SINGLE,
                     .options = SUB_TYPE_VALUES},
    [SO_SUB_DEPTH] = {.var = "pubsub#subscription_depth",
                      .type = FORMS_FIELD_LIST_SINGLE,
                      .options = SUB_DEPTH_VALUES},
};

/* The §6.3.2 example's options and labels, in its order. */
static const struct {
    const char *value;
    const char *label;
    unsigned bit;
} SHOW_CHOICES[] = {
    {"chat", "Want to Chat", PUBSUB_SHOW_CHAT}, {"online", "Available", PUBSUB_SHOW_ONLINE},
    {"away", "Away", PUBSUB_SHOW_AWAY},         {"xa", "Extended Away", PUBSUB_SHOW_XA},
    {"dnd", "Do Not Disturb", PUBSUB_SHOW_DND},
};

/* ---- XEP-0082 DateTime ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : DAYS[m - 1];
}

/* Exactly n decimal digits at s. */
static bool read_digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

enum herald_rc pubsub_datetime_parse(const char *s, int64_t *us)
{
    int y, mo, d, h, mi, sec;
    if (!read_digits(s, 4, &y) || s[4] != '-' || !read_digits(s + 5, 2, &mo) || s[7] != '-' ||
        !read_digits(s + 8, 2, &d) || s[10] != 'T' || !read_digits(s + 11, 2, &h) || s[13] != ':' ||
        !read_digits(s + 14, 2, &mi) || s[16] != ':' || !read_digits(s + 17, 2, &sec))
        return HERALD_EINVAL;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 59)
        return HERALD_EINVAL;
    const char *p = s + 19;
    int64_t frac = 0;
    if (*p == '.') {
        /* "MAY contain any number of digits": microseconds are kept, the rest ignored. */
        int64_t scale = 100000;
        if (*++p < '0' || *p > '9')
            return HERALD_EINVAL;
        for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
            frac += (*p - '0') * scale;
    }
    int64_t offset = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int th, tm;
        if (!read_digits(p + 1, 2, &th) || p[3] != ':' || !read_digits(p + 4, 2, &tm) || th > 14 ||
            tm > 59 || (th == 14 && tm != 0))
            return HERALD_EINVAL;
        offset = (*p == '+' ? 1 : -1) * ((int64_t)th * 3600 + (int64_t)tm * 60);
        p += 6;
    } else {
        return HERALD_EINVAL; /* the zone is mandatory in the DateTime profile */
    }
    if (*p != '\0')
        return HERALD_EINVAL;
    int64_t secs =
        days_from_civil(y, mo, d) * S_PER_DAY + (int64_t)h * 3600 + (int64_t)mi * 60 + sec - offset;
    *us = secs * US_PER_S + frac;
    return HERALD_OK;
}

char *pubsub_datetime_format(struct arena *a, int64_t us)
{
    int64_t secs = us / US_PER_S, frac = us % US_PER_S;
    if (frac < 0) {
        frac += US_PER_S;
        secs--;
    }
    int64_t days = secs / S_PER_DAY, tod = secs % S_PER_DAY;
    if (tod < 0) {
        tod += S_PER_DAY;
        days--;
    }
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999)
        return NULL;
    char fs[8] = "";
    if (frac != 0) {
        int n = snprintf(fs, sizeof(fs), ".%06" PRId64, frac);
        while (n > 1 && fs[n - 1] == '0')
            fs[--n] = '\0'; /* XML Schema's canonical form: no trailing zeros */
    }
    return arena_printf(a, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d%sZ", y, m, d, (int)(tod / 3600),
                        (int)(tod / 60 % 60), (int)(tod % 60), fs);
}

/* ---- options ---- */

void pubsub_subopts_defaults(struct pubsub_subopts *out)
{
    *out = (struct pubsub_subopts){
        .deliver = true,
        .digest = false,
        .digest_frequency = DIGEST_FREQ_DEFAULT,
        .include_body = false,
        .show_values = PUBSUB_SHOW_ALL,
        .subscription_type = PUBSUB_SUBTYPE_ITEMS,
        .subscription_depth = 1,
    };
}

static enum herald_rc add_field(struct arena *a, struct forms_form *f, enum so_id id,
                                const char *label, const char *value, struct forms_field **out)
{
    struct forms_field *fl = NULL;
    enum herald_rc rc =
        forms_form_add_field(a, f, SUBOPTS_SPEC[id].var, SUBOPTS_SPEC[id].type, label, &fl);
    if (rc == HERALD_OK && value != NULL)
        rc = forms_field_add_value(a, fl, value);
    if (out != NULL)
        *out = fl;
    return rc;
}

enum herald_rc pubsub_subopts_to_form(struct arena *a, const struct pubsub_subopts *o,
                                      struct xml_node **x)
{
    struct forms_form *f = forms_form_new(a, FORMS_TYPE_FORM);
    const char *expire = o->expire_presence     ? "presence"
                         : o->expire_at_us != 0 ? pubsub_datetime_format(a, o->expire_at_us)
                                                : NULL;
    if (f == NULL || (expire == NULL && o->expire_at_us != 0))
        return HERALD_ENOMEM;
    struct forms_field *show = NULL;
    enum herald_rc rc = forms_form_add_form_type(a, f, PUBSUB_NS_SUB_OPTIONS);
    /* Labels of the §6.3.2 example; digest_frequency and expire from §17.4. */
    if (rc == HERALD_OK)
        rc = add_field(a, f, SO_DELIVER, "Enable delivery?", o->deliver ? "1" : "0", NULL);
    /* Digests and message bodies are not produced (bodies would need a payload-to-text
     * mapping, §12.8), so their options are not offered, and asking for them is refused. */
    if (rc == HERALD_OK)
        rc = add_field(a, f, SO_SHOW,
                       "Select the presence types which are allowed to receive event "
                       "notifications",
                       NULL, &show);
    for (size_t i = 0; rc == HERALD_OK && i < HERALD_ARRAY_LEN(SHOW_CHOICES); i++)
        rc = forms_field_add_option(a, show, SHOW_CHOICES[i].label, SHOW_CHOICES[i].value);
    for (size_t i = 0; rc == HERALD_OK && i < HERALD_ARRAY_LEN(SHOW_CHOICES); i++)
        if (o->show_values & SHOW_CHOICES[i].bit)
            rc = forms_field_add_value(a, show, SHOW_CHOICES[i].value);
    if (rc == HERALD_OK)
        rc = add_field(a, f, SO_EXPIRE,
                       "The DateTime at which a leased subscription will end or has ended", expire,
                       NULL);
    if (rc != HERALD_OK)
        return rc;
    return forms_form_to_xml(a, f, x);
}

/* Every refusal is bad-request; a value the service cannot take adds §6.3.5.2's
 * <invalid-options/>. */
static enum herald_rc refuse(struct xmpp_error *err, struct arena *a, bool invalid_options,
                             const char *var, const char *reason)
{
    pubsub_form_refuse(err, a, "bad-request", var, reason);
    if (invalid_options) {
        err->app_ns = NS_PUBSUB_ERRORS;
        err->app_name = "invalid-options";
    }
    return HERALD_EINVAL;
}

static int so_field_id(const char *var)
{
    for (int i = 0; i < SO_COUNT; i++)
        if (strcmp(SUBOPTS_SPEC[i].var, var) == 0)
            return i;
    return -1;
}

/* Apply one validated field onto o. A field without value leaves the option unchanged,
 * except show-values (no restriction) and expire (no lease). */
static enum herald_rc so_apply_field(struct pubsub_subopts *o, enum so_id id,
                                     const struct forms_field *fl, struct arena *a,
                                     struct xmpp_error *err)
{
    const char *v = fl->nvalues > 0 ? fl->values[0] : NULL;
    const char *var = SUBOPTS_SPEC[id].var;
    int64_t n;
    switch (id) {
    case SO_SHOW:
        o->show_values = fl->nvalues == 0 ? PUBSUB_SHOW_ALL : 0;
        for (size_t i = 0; i < fl->nvalues; i++)
            for (size_t j = 0; j < HERALD_ARRAY_LEN(SHOW_CHOICES); j++)
                if (strcmp(fl->values[i], SHOW_CHOICES[j].value) == 0)
                    o->show_values |= SHOW_CHOICES[j].bit;
        return HERALD_OK;
    case SO_EXPIRE:
        o->expire_presence = false;
        o->expire_at_us = 0;
        if (v == NULL)
            return HERALD_OK;
        if (strcmp(v, "presence") == 0) {
            o->expire_presence = true; /* §12.4 temporary subscription */
            return HERALD_OK;
        }
        if (pubsub_datetime_parse(v, &n) != HERALD_OK)
            return refuse(err, a, true, var, "neither \"presence\" nor a XEP-0082 DateTime");
        if (n <= 0)
            return refuse(err, a, true, var, "a lease cannot end before 1970");
        o->expire_at_us = n;
        return HERALD_OK;
    default:
        break;
    }
    if (v == NULL)
        return HERALD_OK;
    switch (id) {
    case SO_DIGEST_FREQ:
        if (forms_value_int(v, 1, DIGEST_FREQ_MAX, &n) != HERALD_OK)
            return refuse(err, a, true, var, "not a number of milliseconds");
        o->digest_frequency = (uint64_t)n;
        return HERALD_OK;
    case SO_SUB_TYPE:
        if (strcmp(v, "items") != 0)
            return refuse(err, a, true, var, "node subscriptions need collection nodes");
        o->subscription_type = PUBSUB_SUBTYPE_ITEMS;
        return HERALD_OK;
    case SO_SUB_DEPTH:
        o->subscription_depth = strcmp(v, "all") == 0 ? 0 : 1;
        return HERALD_OK;
    default: {
        bool b;
        if (forms_value_bool(v, &b) != HERALD_OK)
            return refuse(err, a, true, var, "not a boolean");
        if (id == SO_DELIVER) {
            o->deliver = b;
            return HERALD_OK;
        }
        if (b)
            return refuse(err, a, true, var, "not supported by this service");
        if (id == SO_DIGEST)
            o->digest = false;
        else
            o->include_body = false;
        return HERALD_OK;
    }
    }
}

enum herald_rc pubsub_subopts_apply_form(struct pubsub_subopts *o, const struct xml_node *x,
                                         struct arena *a, struct xmpp_error *err)
{
    struct forms_form *f = NULL;
    const char *why = NULL;
    enum herald_rc rc = forms_form_parse(a, x, NULL, &f, &why);
    if (rc == HERALD_ENOMEM) {
        *err = xmpp_error_of("resource-constraint");
        return rc;
    }
    if (rc != HERALD_OK)
        return refuse(err, a, false, NULL, why ? why : "malformed data form");
    if (f->type == FORMS_TYPE_CANCEL)
        return HERALD_OK;
    const struct forms_spec spec = {
        .form_type = PUBSUB_NS_SUB_OPTIONS, .fields = SUBOPTS_SPEC, .nfields = SO_COUNT};
    struct forms_problem p;
    rc = forms_form_validate(a, f, &spec, 0, &p);
    if (rc == HERALD_ENOMEM) {
        *err = xmpp_error_of("resource-constraint");
        return rc;
    }
    if (rc != HERALD_OK) {
        /* A form of another FORM_TYPE is a group of options this service cannot take
         * (§6.3.5: <invalid-options/>); a form that is no submission is no options at all. */
        bool malformed = p.error == FORMS_ERR_NOT_SUBMIT || p.error == FORMS_ERR_MULTIPLE_VALUES;
        return refuse(err, a, !malformed, p.var, p.reason);
    }
    struct pubsub_subopts tmp = *o;
    for (const struct forms_field *fl = f->fields.first; fl; fl = fl->next) {
        int id = fl->var ? so_field_id(fl->var) : -1;
        if (id >= 0 && (rc = so_apply_field(&tmp, (enum so_id)id, fl, a, err)) != HERALD_OK)
            return rc;
    }
    *o = tmp;
    return HERALD_OK;
}
