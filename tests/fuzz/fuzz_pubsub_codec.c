/*
 * fuzz_pubsub_codec.c - libFuzzer target for the pubsub record decoders
 * (broker/store/store_pubsub_codec.c, layout in schemas/store.md).
 *
 * Input: arbitrary bytes, decoded both as a node configuration record and as a subscription
 * options record. Whatever decodes must encode again, decode again to the same value, and the
 * two encodings must be identical (the encoder is deterministic, so encode(decode(encode(x)))
 * is a fixed point). Besides the sanitizers, that is the oracle. Seeds:
 * tests/fuzz/corpus/fuzz_pubsub_codec/.
 */
#include <stdlib.h>
#include <string.h>

#include "herald/pubsub_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool str_same(const char *x, const char *y)
{
    return x == NULL || y == NULL ? x == y : strcmp(x, y) == 0;
}

static bool list_same(const struct pubsub_strlist *x, const struct pubsub_strlist *y)
{
    if (x->n != y->n)
        return false;
    for (size_t i = 0; i < x->n; i++)
        if (strcmp(x->v[i], y->v[i]) != 0)
            return false;
    return true;
}

static bool config_same(const struct pubsub_config *x, const struct pubsub_config *y)
{
    return x->access_model == y->access_model && x->publish_model == y->publish_model &&
           x->send_last_published_item == y->send_last_published_item &&
           x->itemreply == y->itemreply && x->notification_type == y->notification_type &&
           x->publish_node_full == y->publish_node_full && x->max_items == y->max_items &&
           x->max_items_is_max == y->max_items_is_max &&
           x->max_payload_size == y->max_payload_size && x->item_expire == y->item_expire &&
           x->persist_items == y->persist_items && x->deliver_payloads == y->deliver_payloads &&
           x->deliver_notifications == y->deliver_notifications &&
           x->notify_config == y->notify_config && x->notify_delete == y->notify_delete &&
           x->notify_retract == y->notify_retract && x->notify_sub == y->notify_sub &&
           x->presence_based_delivery == y->presence_based_delivery &&
           x->purge_offline == y->purge_offline && x->subscribe == y->subscribe &&
           x->tempsub == y->tempsub && str_same(x->title, y->title) &&
           str_same(x->description, y->description) && str_same(x->type, y->type) &&
           str_same(x->language, y->language) &&
           list_same(&x->roster_groups_allowed, &y->roster_groups_allowed) &&
           list_same(&x->contact, &y->contact);
}

static bool subopts_same(const struct pubsub_subopts *x, const struct pubsub_subopts *y)
{
    return x->deliver == y->deliver && x->digest == y->digest &&
           x->digest_frequency == y->digest_frequency && x->include_body == y->include_body &&
           x->show_values == y->show_values && x->expire_presence == y->expire_presence &&
           x->expire_at_us == y->expire_at_us && x->subscription_type == y->subscription_type &&
           x->subscription_depth == y->subscription_depth;
}

static bool buf_same(const struct buf *x, const struct buf *y)
{
    return x->len == y->len && (x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
}

static void check_config(const uint8_t *data, size_t size)
{
    struct pubsub_config c, d;
    enum herald_rc rc = pubsub_config_decode(data, size, &c);
    if (rc == HERALD_ENOMEM)
        return;
    if (rc != HERALD_OK) {
        if (rc != HERALD_EPROTO)
            abort(); /* the decoder's only verdict on bytes */
        return;
    }
    struct buf b1, b2;
    buf_init(&b1, 0);
    buf_init(&b2, 0);
    rc = pubsub_config_encode(&c, &b1);
    if (rc != HERALD_OK && rc != HERALD_ENOMEM)
        abort(); /* the encoder refused what the decoder accepted */
    if (rc == HERALD_OK)
        rc = pubsub_config_decode(b1.data, b1.len, &d);
    if (rc == HERALD_OK) {
        if (!config_same(&c, &d) || pubsub_config_encode(&d, &b2) != HERALD_OK ||
            !buf_same(&b1, &b2))
            abort();
        pubsub_config_cleanup(&d);
    } else if (rc != HERALD_ENOMEM) {
        abort(); /* we wrote a record we cannot read */
    }
    buf_cleanup(&b1);
    buf_cleanup(&b2);
    pubsub_config_cleanup(&c);
}

static void check_subopts(const uint8_t *data, size_t size)
{
    struct pubsub_subopts o, p;
    enum herald_rc rc = pubsub_subopts_decode(data, size, &o);
    if (rc != HERALD_OK) {
        if (rc != HERALD_EPROTO)
            abort();
        return;
    }
    struct buf b1, b2;
    buf_init(&b1, 0);
    buf_init(&b2, 0);
    if (pubsub_subopts_encode(&o, &b1) != HERALD_OK ||
        pubsub_subopts_decode(b1.data, b1.len, &p) != HERALD_OK || !subopts_same(&o, &p) ||
        pubsub_subopts_encode(&p, &b2) != HERALD_OK || !buf_same(&b1, &b2))
        abort();
    buf_cleanup(&b1);
    buf_cleanup(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_config(data, size);
    check_subopts(data, size);
    return 0;
}
