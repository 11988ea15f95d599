/*
 * store_pubsub_codec.c - node configuration and subscription option records (the layout is in
 * schemas/store.md, "pubsub node configuration and subscription option records").
 *
 * A record is a version byte, tagged fields (a u8 tag, then a value whose shape the tag
 * fixes; integers big-endian), and the end tag 0 as its last byte. Tags may come in any order
 * but at most once; every scalar field is mandatory, strings and lists are optional (absent:
 * NULL / empty). The decoder refuses everything else - an unknown version or tag, a repeated
 * or missing tag, an enum or boolean out of range, a string over PUBSUB_CONFIG_STR_MAX bytes
 * or not UTF-8 or holding a NUL, a list over PUBSUB_CONFIG_LIST_MAX entries, a record cut
 * short or with bytes after the end tag - so a damaged record is never half-understood.
 * The encoder refuses (HERALD_EINVAL) a value the decoder would refuse.
 */
#include <string.h>
#include <unistr.h>

#include "herald/buf.h"
#include "herald/pubsub_config.h"

#define CONFIG_RECORD_V1  1
#define SUBOPTS_RECORD_V1 1
#define TAG_END           0

enum kind { K_ENUM, K_BOOL, K_U64, K_STR, K_LIST };

struct field_def {
    size_t off; /* of the bool, uint64_t, char * or strlist member */
    enum kind kind;
    uint8_t tag;
    uint8_t enum_max; /* K_ENUM: the largest valid value */
};

#define AT(m) offsetof(struct pubsub_config, m)

/* Tags are part of the stored format: never renumber, only add. */
static const struct field_def CONFIG_FIELDS[] = {
    {0, K_ENUM, 1, PUBSUB_ACCESS_WHITELIST},
    {0, K_ENUM, 2, PUBSUB_PUBLISH_OPEN},
    {0, K_ENUM, 3, PUBSUB_SEND_LAST_ON_SUB_AND_PRESENCE},
    {0, K_ENUM, 4, PUBSUB_ITEMREPLY_PUBLISHER},
    {0, K_ENUM, 5, PUBSUB_NOTIFY_NORMAL},
    {0, K_ENUM, 6, PUBSUB_FULL_REJECT},
    {AT(max_items), K_U64, 7, 0},
    {AT(max_items_is_max), K_BOOL, 8, 0},
    {AT(max_payload_size), K_U64, 9, 0},
    {AT(item_expire), K_U64, 10, 0},
    {AT(persist_items), K_BOOL, 11, 0},
    {AT(deliver_payloads), K_BOOL, 12, 0},
    {AT(deliver_notifications), K_BOOL, 13, 0},
    {AT(notify_config), K_BOOL, 14, 0},
    {AT(notify_delete), K_BOOL, 15, 0},
    {AT(notify_retract), K_BOOL, 16, 0},
    {AT(notify_sub), K_BOOL, 17, 0},
    {AT(presence_based_delivery), K_BOOL, 18, 0},
    {AT(purge_offline), K_BOOL, 19, 0},
    {AT(subscribe), K_BOOL, 20, 0},
    {AT(tempsub), K_BOOL, 21, 0},
    {AT(title), K_STR, 32, 0},
    {AT(description), K_STR, 33, 0},
    {AT(type), K_STR, 34, 0},
    {AT(language), K_STR, 35, 0},
    {AT(roster_groups_allowed), K_LIST, 48, 0},
    {AT(contact), K_LIST, 49, 0},
};

static unsigned enum_get(const struct pubsub_config *c, uint8_t tag)
{
    switch (tag) {
    case 1:
        return (unsigned)c->access_model;
    case 2:
        return (unsigned)c->publish_model;
    case 3:
        return (unsigned)c->send_last_published_item;
    case 4:
        return (unsigned)c->itemreply;
    case 5:
        return (unsigned)c->notification_type;
    default:
        return (unsigned)c->publish_node_full;
    }
}

static void enum_set(struct pubsub_config *c, uint8_t tag, uint8_t v)
{
    switch (tag) {
    case 1:
        c->access_model = (enum pubsub_access_model)v;
        break;
    case 2:
        c->publish_model = (enum pubsub_publish_model)v;
        break;
    case 3:
        c->send_last_published_item = (enum pubsub_send_last)v;
        break;
    case 4:
        c->itemreply = (enum pubsub_itemreply)v;
        break;
    case 5:
        c->notification_type = (enum pubsub_notification_type)v;
        break;
    default:
        c->publish_node_full = (enum pubsub_node_full)v;
        break;
    }
}

/* What a stored string may be: bounded, UTF-8, no NUL (it becomes a C string and XML). */
static bool str_ok(const char *s, size_t len)
{
    return len <= PUBSUB_CONFIG_STR_MAX && memchr(s, '\0', len) == NULL &&
           u8_check((const uint8_t *)s, len) == NULL;
}

static bool list_ok(const struct pubsub_strlist *l)
{
    if (l->n > PUBSUB_CONFIG_LIST_MAX)
        return false;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == NULL || !str_ok(l->v[i], strlen(l->v[i])))
            return false;
    return true;
}

/* ---- node configuration ---- */

enum herald_rc pubsub_config_encode(const struct pubsub_config *cfg, struct buf *out)
{
    const char *base = (const char *)cfg;
    for (size_t i = 0; i < HERALD_ARRAY_LEN(CONFIG_FIELDS); i++) {
        const struct field_def *d = &CONFIG_FIELDS[i];
        const char *s = d->kind == K_STR ? *(char *const *)(base + d->off) : NULL;
        if ((d->kind == K_ENUM && enum_get(cfg, d->tag) > d->enum_max) ||
            (s != NULL && !str_ok(s, strlen(s))) ||
            (d->kind == K_LIST && !list_ok((const struct pubsub_strlist *)(base + d->off))))
            return HERALD_EINVAL;
    }
    buf_append_byte(out, CONFIG_RECORD_V1);
    for (size_t i = 0; i < HERALD_ARRAY_LEN(CONFIG_FIELDS); i++) {
        const struct field_def *d = &CONFIG_FIELDS[i];
        const void *p = base + d->off;
        switch (d->kind) {
        case K_ENUM:
            buf_append_byte(out, d->tag);
            buf_append_byte(out, (uint8_t)enum_get(cfg, d->tag));
            break;
        case K_BOOL:
            buf_append_byte(out, d->tag);
            buf_append_byte(out, *(const bool *)p ? 1 : 0);
            break;
        case K_U64:
            buf_append_byte(out, d->tag);
            buf_append_u64be(out, *(const uint64_t *)p);
            break;
        case K_STR: {
            const char *s = *(char *const *)p;
            if (s == NULL)
                break;
            buf_append_byte(out, d->tag);
            buf_append_lstr(out, s, strlen(s));
            break;
        }
        case K_LIST: {
            const struct pubsub_strlist *l = p;
            if (l->n == 0)
                break;
            buf_append_byte(out, d->tag);
            buf_append_u32be(out, (uint32_t)l->n);
            for (size_t j = 0; j < l->n; j++)
                buf_append_lstr(out, l->v[j], strlen(l->v[j]));
            break;
        }
        }
    }
    buf_append_byte(out, TAG_END);
    return out->err;
}

static enum herald_rc read_bool(struct buf_reader *r, bool *out)
{
    uint8_t v;
    if (buf_read_u8(r, &v) != HERALD_OK || v > 1)
        return HERALD_EPROTO;
    *out = v == 1;
    return HERALD_OK;
}

static enum herald_rc read_str(struct buf_reader *r, char **out)
{
    const char *s;
    size_t len;
    if (buf_read_lstr(r, &s, &len) != HERALD_OK || !str_ok(s, len))
        return HERALD_EPROTO;
    *out = herald_strndup(HERALD_MEM_PUBSUB, s, len);
    return *out ? HERALD_OK : HERALD_ENOMEM;
}

/* Into an empty list; on failure what was read stays in *l for the caller to clean up. */
static enum herald_rc read_list(struct buf_reader *r, struct pubsub_strlist *l)
{
    uint32_t n;
    if (buf_read_u32be(r, &n) != HERALD_OK || n > PUBSUB_CONFIG_LIST_MAX)
        return HERALD_EPROTO;
    if (n == 0)
        return HERALD_OK;
    l->v = herald_calloc(HERALD_MEM_PUBSUB, n, sizeof(*l->v));
    if (l->v == NULL)
        return HERALD_ENOMEM;
    for (; l->n < n; l->n++) {
        enum herald_rc rc = read_str(r, &l->v[l->n]);
        if (rc != HERALD_OK)
            return rc;
    }
    return HERALD_OK;
}

static enum herald_rc read_config_field(struct buf_reader *r, const struct field_def *d,
                                        struct pubsub_config *c)
{
    char *p = (char *)c + d->off;
    uint8_t v;
    switch (d->kind) {
    case K_ENUM:
        if (buf_read_u8(r, &v) != HERALD_OK || v > d->enum_max)
            return HERALD_EPROTO;
        enum_set(c, d->tag, v);
        return HERALD_OK;
    case K_BOOL:
        return read_bool(r, (bool *)p);
    case K_U64:
        return buf_read_u64be(r, (uint64_t *)p) == HERALD_OK ? HERALD_OK : HERALD_EPROTO;
    case K_STR:
        return read_str(r, (char **)p);
    case K_LIST:
        return read_list(r, (struct pubsub_strlist *)p);
    }
    return HERALD_EPROTO;
}

static enum herald_rc decode_config(struct buf_reader *r, struct pubsub_config *c)
{
    uint8_t ver, tag;
    uint64_t seen = 0;
    if (buf_read_u8(r, &ver) != HERALD_OK || ver != CONFIG_RECORD_V1)
        return HERALD_EPROTO;
    for (;;) {
        if (buf_read_u8(r, &tag) != HERALD_OK)
            return HERALD_EPROTO; /* cut before the end tag */
        if (tag == TAG_END)
            break;
        size_t i = 0;
        while (i < HERALD_ARRAY_LEN(CONFIG_FIELDS) && CONFIG_FIELDS[i].tag != tag)
            i++;
        if (i == HERALD_ARRAY_LEN(CONFIG_FIELDS) || (seen & (UINT64_C(1) << i)))
            return HERALD_EPROTO;
        seen |= UINT64_C(1) << i;
        enum herald_rc rc = read_config_field(r, &CONFIG_FIELDS[i], c);
        if (rc != HERALD_OK)
            return rc;
    }
    if (r->left != 0)
        return HERALD_EPROTO;
    for (size_t i = 0; i < HERALD_ARRAY_LEN(CONFIG_FIELDS); i++) {
        enum kind k = CONFIG_FIELDS[i].kind;
        if (k != K_STR && k != K_LIST && !(seen & (UINT64_C(1) << i)))
            return HERALD_EPROTO;
    }
    return HERALD_OK;
}

enum herald_rc pubsub_config_decode(const void *data, size_t len, struct pubsub_config *cfg)
{
    _Static_assert(HERALD_ARRAY_LEN(CONFIG_FIELDS) <= 64, "the seen mask has 64 bits");
    struct buf_reader r;
    struct pubsub_config c = {0};
    buf_reader_init(&r, data, len);
    enum herald_rc rc = decode_config(&r, &c);
    if (rc != HERALD_OK) {
        pubsub_config_cleanup(&c);
        return rc;
    }
    *cfg = c;
    return HERALD_OK;
}

/* ---- subscription options ---- */

enum {
    ST_DELIVER = 1,
    ST_DIGEST,
    ST_DIGEST_FREQUENCY,
    ST_INCLUDE_BODY,
    ST_SHOW_VALUES,
    ST_EXPIRE_PRESENCE,
    ST_EXPIRE_AT,
    ST_SUBSCRIPTION_TYPE,
    ST_SUBSCRIPTION_DEPTH,
    ST_LAST = ST_SUBSCRIPTION_DEPTH
};

enum herald_rc pubsub_subopts_encode(const struct pubsub_subopts *o, struct buf *out)
{
    if ((o->show_values & ~(unsigned)PUBSUB_SHOW_ALL) != 0 ||
        o->subscription_type > PUBSUB_SUBTYPE_NODES)
        return HERALD_EINVAL;
    buf_append_byte(out, SUBOPTS_RECORD_V1);
    buf_append_byte(out, ST_DELIVER);
    buf_append_byte(out, o->deliver ? 1 : 0);
    buf_append_byte(out, ST_DIGEST);
    buf_append_byte(out, o->digest ? 1 : 0);
    buf_append_byte(out, ST_DIGEST_FREQUENCY);
    buf_append_u64be(out, o->digest_frequency);
    buf_append_byte(out, ST_INCLUDE_BODY);
    buf_append_byte(out, o->include_body ? 1 : 0);
    buf_append_byte(out, ST_SHOW_VALUES);
    buf_append_byte(out, (uint8_t)o->show_values);
    buf_append_byte(out, ST_EXPIRE_PRESENCE);
    buf_append_byte(out, o->expire_presence ? 1 : 0);
    buf_append_byte(out, ST_EXPIRE_AT);
    buf_append_u64be(out, (uint64_t)o->expire_at_us);
    buf_append_byte(out, ST_SUBSCRIPTION_TYPE);
    buf_append_byte(out, (uint8_t)o->subscription_type);
    buf_append_byte(out, ST_SUBSCRIPTION_DEPTH);
    buf_append_u32be(out, (uint32_t)o->subscription_depth);
    buf_append_byte(out, TAG_END);
    return out->err;
}

static enum herald_rc read_subopts_field(struct buf_reader *r, uint8_t tag,
                                         struct pubsub_subopts *o)
{
    uint8_t v8;
    uint32_t v32;
    uint64_t v64;
    switch (tag) {
    case ST_DELIVER:
        return read_bool(r, &o->deliver);
    case ST_DIGEST:
        return read_bool(r, &o->digest);
    case ST_INCLUDE_BODY:
        return read_bool(r, &o->include_body);
    case ST_EXPIRE_PRESENCE:
        return read_bool(r, &o->expire_presence);
    case ST_DIGEST_FREQUENCY:
        return buf_read_u64be(r, &o->digest_frequency) == HERALD_OK ? HERALD_OK : HERALD_EPROTO;
    case ST_EXPIRE_AT:
        if (buf_read_u64be(r, &v64) != HERALD_OK)
            return HERALD_EPROTO;
        o->expire_at_us = (int64_t)v64; /* two's complement, as written */
        return HERALD_OK;
    case ST_SHOW_VALUES:
        if (buf_read_u8(r, &v8) != HERALD_OK || (v8 & ~PUBSUB_SHOW_ALL) != 0)
            return HERALD_EPROTO;
        o->show_values = v8;
        return HERALD_OK;
    case ST_SUBSCRIPTION_TYPE:
        if (buf_read_u8(r, &v8) != HERALD_OK || v8 > PUBSUB_SUBTYPE_NODES)
            return HERALD_EPROTO;
        o->subscription_type = (enum pubsub_sub_type)v8;
        return HERALD_OK;
    case ST_SUBSCRIPTION_DEPTH:
        if (buf_read_u32be(r, &v32) != HERALD_OK)
            return HERALD_EPROTO;
        o->subscription_depth = v32;
        return HERALD_OK;
    default:
        return HERALD_EPROTO;
    }
}

enum herald_rc pubsub_subopts_decode(const void *data, size_t len, struct pubsub_subopts *o)
{
    struct buf_reader r;
    struct pubsub_subopts tmp = {0};
    uint8_t ver, tag;
    unsigned seen = 0;
    buf_reader_init(&r, data, len);
    if (buf_read_u8(&r, &ver) != HERALD_OK || ver != SUBOPTS_RECORD_V1)
        return HERALD_EPROTO;
    for (;;) {
        if (buf_read_u8(&r, &tag) != HERALD_OK)
            return HERALD_EPROTO;
        if (tag == TAG_END)
            break;
        if (tag > ST_LAST || (seen & (1u << tag)))
            return HERALD_EPROTO;
        seen |= 1u << tag;
        if (read_subopts_field(&r, tag, &tmp) != HERALD_OK)
            return HERALD_EPROTO;
    }
    /* Every tag 1..ST_LAST is mandatory. */
    if (r.left != 0 || seen != ((1u << (ST_LAST + 1)) - 2u))
        return HERALD_EPROTO;
    *o = tmp;
    return HERALD_OK;
}
