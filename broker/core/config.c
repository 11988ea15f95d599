/*
 * config.c - parse herald.conf and -o overrides through config_table.
 *
 * Defaults are parsed by the same code as file values, so a default in the table can
 * never be one the parser would reject.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core_int.h"

static void *field_ptr(struct herald_config *cfg, const struct config_def *d)
{
    return (char *)cfg + d->offset;
}

static const void *field_cptr(const struct herald_config *cfg, const struct config_def *d)
{
    return (const char *)cfg + d->offset;
}

static const struct config_def *config_find(const char *name, size_t len)
{
    for (const struct config_def *d = config_table; d->name; d++)
        if (strlen(d->name) == len && strncmp(d->name, name, len) == 0)
            return d;
    return NULL;
}

static void list_free(struct config_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static const char *parse_uint(const char *v, bool size, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*v))
        return "expected a number";
    unsigned long long x = strtoull(v, &end, 10);
    if (errno)
        return "number out of range";
    uint64_t mult = 1;
    if (size && *end) {
        switch (tolower((unsigned char)*end)) {
        case 'k':
            mult = 1024;
            break;
        case 'm':
            mult = 1024ULL * 1024;
            break;
        case 'g':
            mult = 1024ULL * 1024 * 1024;
            break;
        default:
            return "unknown size suffix (use k, m or g)";
        }
        end++;
    }
    if (*end)
        return "trailing characters after the number";
    if (x > UINT64_MAX / mult)
        return "number out of range";
    *out = (uint64_t)x * mult;
    return NULL;
}

/* Set one setting from text. Returns NULL or a static error message. */
static const char *config_set(struct herald_config *cfg, const struct config_def *d,
                              const char *value)
{
    void *p = field_ptr(cfg, d);
    switch (d->type) {
    case CONFIG_STR: {
        char *s = strdup(value);
        if (s == NULL)
            return "out of memory";
        free(*(char **)p);
        *(char **)p = s;
        return NULL;
    }
    case CONFIG_BOOL: {
        static const char *const yes[] = {"true", "on", "yes", "1"};
        static const char *const no[] = {"false", "off", "no", "0"};
        for (size_t i = 0; i < HERALD_ARRAY_LEN(yes); i++) {
            if (strcasecmp(value, yes[i]) == 0) {
                *(bool *)p = true;
                return NULL;
            }
            if (strcasecmp(value, no[i]) == 0) {
                *(bool *)p = false;
                return NULL;
            }
        }
        return "expected true or false";
    }
    case CONFIG_UINT:
    case CONFIG_SIZE: {
        uint64_t x;
        const char *err = parse_uint(value, d->type == CONFIG_SIZE, &x);
        if (err)
            return err;
        if (x < d->min || x > d->max)
            return "value outside the allowed range (see herald config-template)";
        *(uint64_t *)p = x;
        return NULL;
    }
    case CONFIG_ENUM:
        for (int i = 0; d->names[i]; i++) {
            if (strcasecmp(value, d->names[i]) == 0) {
                *(int *)p = i;
                return NULL;
            }
        }
        return "unknown value (see herald config-template)";
    case CONFIG_LIST: {
        struct config_list l = {0};
        char *copy = strdup(value);
        if (copy == NULL)
            return "out of memory";
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            char *t = trim(tok);
            if (*t == '\0')
                continue;
            char **items = realloc(l.items, (l.n + 1) * sizeof(*items));
            if (items == NULL || (items[l.n] = strdup(t)) == NULL) {
                l.items = items ? items : l.items;
                list_free(&l);
                free(copy);
                return "out of memory";
            }
            l.items = items;
            l.n++;
        }
        free(copy);
        list_free(p);
        *(struct config_list *)p = l;
        return NULL;
    }
    }
    return "unknown setting type";
}

static enum herald_rc config_assign(struct herald_config *cfg, const char *name, size_t nlen,
                                    const char *value, const char *where, unsigned line, FILE *err)
{
    const struct config_def *d = config_find(name, nlen);
    if (d == NULL) {
        fprintf(err, "%s:%u: unknown setting '%.*s'\n", where, line, (int)nlen, name);
        return HERALD_EINVAL;
    }
    const char *msg = config_set(cfg, d, value);
    if (msg) {
        fprintf(err, "%s:%u: %s: %s\n", where, line, d->name, msg);
        return HERALD_EINVAL;
    }
    return HERALD_OK;
}

static enum herald_rc config_read_file(struct herald_config *cfg, const char *path, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
        return HERALD_EIO;
    }
    enum herald_rc rc = HERALD_OK;
    char line[4096];
    unsigned lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            fprintf(err, "%s:%u: line too long\n", path, lineno);
            rc = HERALD_EINVAL;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            fprintf(err, "%s:%u: expected 'name = value'\n", path, lineno);
            rc = HERALD_EINVAL;
            continue;
        }
        *eq = '\0';
        char *name = trim(s);
        if (config_assign(cfg, name, strlen(name), trim(eq + 1), path, lineno, err))
            rc = HERALD_EINVAL;
    }
    fclose(f);
    return rc;
}

/* Checks across settings that the table cannot express. */
static enum herald_rc config_validate(const struct herald_config *cfg, FILE *err)
{
    enum herald_rc rc = HERALD_OK;
    if (cfg->domain[0] == '\0') {
        fprintf(err, "config: domain must not be empty\n");
        rc = HERALD_EINVAL;
    }
    if (cfg->data_dir[0] == '\0') {
        fprintf(err, "config: data_dir must not be empty\n");
        rc = HERALD_EINVAL;
    }
    if (cfg->pubsub_max_items > cfg->pubsub_max_items_limit) {
        fprintf(err, "config: pubsub_max_items exceeds pubsub_max_items_limit\n");
        rc = HERALD_EINVAL;
    }
    if (cfg->max_xml_token > cfg->max_stanza_size) {
        fprintf(err, "config: max_xml_token exceeds max_stanza_size\n");
        rc = HERALD_EINVAL;
    }
    return rc;
}

enum herald_rc config_load(struct herald_config *cfg, const char *path,
                           const char *const *overrides, size_t noverrides, FILE *err)
{
    memset(cfg, 0, sizeof(*cfg));
    for (const struct config_def *d = config_table; d->name; d++) {
        const char *msg = config_set(cfg, d, d->def);
        herald_assert(msg == NULL || strcmp(msg, "out of memory") == 0);
        if (msg) {
            config_free(cfg);
            return HERALD_ENOMEM;
        }
    }
    enum herald_rc rc = path ? config_read_file(cfg, path, err) : HERALD_OK;
    for (size_t i = 0; i < noverrides; i++) {
        const char *eq = strchr(overrides[i], '=');
        if (eq == NULL) {
            fprintf(err, "-o %s: expected name=value\n", overrides[i]);
            rc = HERALD_EINVAL;
            continue;
        }
        if (config_assign(cfg, overrides[i], (size_t)(eq - overrides[i]), eq + 1, "-o",
                          (unsigned)i + 1, err))
            rc = HERALD_EINVAL;
    }
    if (rc == HERALD_OK)
        rc = config_validate(cfg, err);
    if (rc)
        config_free(cfg);
    return rc;
}

void config_free(struct herald_config *cfg)
{
    for (const struct config_def *d = config_table; d->name; d++) {
        void *p = field_ptr(cfg, d);
        if (d->type == CONFIG_STR) {
            free(*(char **)p);
            *(char **)p = NULL;
        } else if (d->type == CONFIG_LIST) {
            list_free(p);
        }
    }
}

enum herald_rc config_reload_into(struct herald_config *dst, const struct herald_config *src)
{
    for (const struct config_def *d = config_table; d->name; d++) {
        if (!d->reloadable)
            continue;
        void *p = field_ptr(dst, d);
        const void *q = field_cptr(src, d);
        switch (d->type) {
        case CONFIG_STR: {
            char *s = strdup(*(char *const *)q);
            if (s == NULL)
                return HERALD_ENOMEM;
            free(*(char **)p);
            *(char **)p = s;
            break;
        }
        case CONFIG_LIST: {
            const struct config_list *from = q;
            struct config_list l = {calloc(from->n ? from->n : 1, sizeof(char *)), 0};
            if (l.items == NULL)
                return HERALD_ENOMEM;
            for (; l.n < from->n; l.n++) {
                if ((l.items[l.n] = strdup(from->items[l.n])) == NULL) {
                    list_free(&l);
                    return HERALD_ENOMEM;
                }
            }
            list_free(p);
            *(struct config_list *)p = l;
            break;
        }
        case CONFIG_BOOL:
            *(bool *)p = *(const bool *)q;
            break;
        case CONFIG_ENUM:
            *(int *)p = *(const int *)q;
            break;
        case CONFIG_UINT:
        case CONFIG_SIZE:
            *(uint64_t *)p = *(const uint64_t *)q;
            break;
        }
    }
    return HERALD_OK;
}

/* Word-wrap documentation into '# ' comment lines. */
static void write_doc(FILE *out, const char *doc)
{
    const char *p = doc;
    while (*p) {
        size_t n = strlen(p);
        if (n > 88) {
            n = 88;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0)
                n = 88;
        }
        fprintf(out, "# %.*s\n", (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
}

void config_write_template(FILE *out)
{
    fprintf(out, "# herald.conf - every setting of the Herald broker, with its default.\n"
                 "# Syntax: name = value; lists are comma-separated; sizes take k/m/g.\n"
                 "# Settings marked 'reloadable' take effect on SIGHUP.\n"
                 "# This file is generated by `herald config-template`; a test checks it.\n");
    for (const struct config_def *d = config_table; d->name; d++) {
        fprintf(out, "\n");
        write_doc(out, d->doc);
        if (d->type == CONFIG_ENUM) {
            fprintf(out, "# Values:");
            for (int i = 0; d->names[i]; i++)
                fprintf(out, " %s", d->names[i]);
            fprintf(out, ".\n");
        }
        if (d->unit)
            fprintf(out, "# Unit: %s. Range: %llu to %llu.\n", d->unit, (unsigned long long)d->min,
                    (unsigned long long)d->max);
        if (d->reloadable)
            fprintf(out, "# Reloadable.\n");
        fprintf(out, "%s = %s\n", d->name, d->def);
    }
}

enum herald_rc config_store_dir(const struct herald_config *cfg, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/db", cfg->data_dir);
    return n >= 0 && (size_t)n < len ? HERALD_OK : HERALD_ELIMIT;
}

bool config_is_admin(const struct herald_config *cfg, const char *bare_jid)
{
    for (size_t i = 0; i < cfg->admins.n; i++)
        if (strcmp(cfg->admins.items[i], bare_jid) == 0)
            return true;
    return false;
}
