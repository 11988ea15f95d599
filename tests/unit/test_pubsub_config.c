/*
 * test_pubsub_config.c - XEP-0060 node configuration, subscription options, publish-options
 * preconditions and meta-data forms (broker/pubsub/pubsub_config.c, pubsub_subopts.c), and
 * their stored records (broker/store/store_pubsub_codec.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "herald/pubsub_config.h"
#include "herald/xml.h"

#define NS_ERRORS "http://jabber.org/protocol/pubsub#errors"

static const struct pubsub_limits LIM = {
    .max_items_default = 10, .max_items_limit = 1000, .max_payload = 65536};

static int setup(void **state)
{
    *state = arena_new(0);
    return *state ? 0 : -1;
}

/* Every test frees what it configured: the pubsub memory category is back to zero. */
static int teardown(void **state)
{
    struct arena *a = *state;
    arena_free(&a);
    return herald_mem_used(HERALD_MEM_PUBSUB) == 0 ? 0 : -1;
}

/* ---- helpers ---- */

static struct xml_node *xml_from(struct arena *a, const char *text)
{
    struct xml_node *root = NULL;
    assert_int_equal(xml_parse_fragment(a, text, strlen(text), 32, &root), HERALD_OK);
    return root;
}

/* A submitted form with the given FORM_TYPE (NULL: none) and fields. */
static struct xml_node *submit_ft(struct arena *a, const char *form_type, const char *fields)
{
    const char *ft = form_type ? arena_printf(a,
                                              "<field var='FORM_TYPE' type='hidden'>"
                                              "<value>%s</value></field>",
                                              form_type)
                               : "";
    return xml_from(a,
                    arena_printf(a, "<x xmlns='jabber:x:data' type='submit'>%s%s</x>", ft, fields));
}

static struct xml_node *config_submit(struct arena *a, const char *fields)
{
    return submit_ft(a, PUBSUB_NS_NODE_CONFIG, fields);
}

static struct xml_node *options_submit(struct arena *a, const char *fields)
{
    return submit_ft(a, PUBSUB_NS_SUB_OPTIONS, fields);
}

static struct xml_node *publish_options(struct arena *a, const char *fields)
{
    return submit_ft(a, PUBSUB_NS_PUB_OPTIONS, fields);
}

/* Serialise and parse back, as a client would read what we sent. */
static struct forms_form *reparse(struct arena *a, const struct xml_node *x)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(xml_write(&b, x, NULL), HERALD_OK);
    struct xml_node *y = xml_from(a, b.data);
    buf_cleanup(&b);
    struct forms_form *f = NULL;
    assert_int_equal(forms_form_parse(a, y, NULL, &f, NULL), HERALD_OK);
    return f;
}

static const struct forms_field *field(const struct forms_form *f, const char *var)
{
    const struct forms_field *fl = forms_form_find_field(f, var);
    if (fl == NULL)
        fail_msg("field %s missing", var);
    return fl;
}

/* The field's values, "|"-joined ("" for none). */
static const char *values_of(struct arena *a, const struct forms_field *fl)
{
    const char *s = "";
    for (size_t i = 0; i < fl->nvalues; i++)
        s = arena_printf(a, "%s%s%s", s, i ? "|" : "", fl->values[i]);
    return s;
}

static const char *options_of(struct arena *a, const struct forms_field *fl)
{
    const char *s = "";
    for (size_t i = 0; i < fl->noptions; i++)
        s = arena_printf(a, "%s%s%s", s, i ? "|" : "", fl->options[i].value);
    return s;
}

/* The record bytes stand for the whole configuration: equal records, equal configs. */
static char *record_of(const struct pubsub_config *c, size_t *len)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(pubsub_config_encode(c, &b), HERALD_OK);
    char *p = buf_steal(&b, len);
    buf_cleanup(&b);
    return p;
}

static void assert_config_equal(const struct pubsub_config *x, const struct pubsub_config *y)
{
    size_t lx, ly;
    char *px = record_of(x, &lx), *py = record_of(y, &ly);
    assert_int_equal(lx, ly);
    assert_memory_equal(px, py, lx);
    free(px);
    free(py);
}

/* Configurations own heap strings of the pubsub memory category. */
static char *dup(const char *v)
{
    char *s = herald_strdup(HERALD_MEM_PUBSUB, v);
    assert_non_null(s);
    return s;
}

static void set_str(char **slot, const char *v)
{
    herald_free(HERALD_MEM_PUBSUB, *slot);
    *slot = v ? dup(v) : NULL;
}

/* A configuration where every field differs from the defaults. */
static void full_config(struct pubsub_config *c)
{
    static const char *const groups[] = {"friends", "servants"};
    static const char *const contacts[] = {"bard@shakespeare.lit", "hamlet@denmark.lit"};
    pubsub_config_defaults(&LIM, false, c);
    c->access_model = PUBSUB_ACCESS_ROSTER;
    c->publish_model = PUBSUB_PUBLISH_SUBSCRIBERS;
    c->send_last_published_item = PUBSUB_SEND_LAST_ON_SUB;
    c->itemreply = PUBSUB_ITEMREPLY_PUBLISHER;
    c->notification_type = PUBSUB_NOTIFY_NORMAL;
    c->publish_node_full = PUBSUB_FULL_REJECT;
    c->max_items = 120;
    c->max_payload_size = 1028;
    c->item_expire = 604800;
    c->persist_items = false;
    c->deliver_payloads = false;
    c->deliver_notifications = false;
    c->notify_config = c->notify_delete = c->notify_retract = c->notify_sub = true;
    c->presence_based_delivery = c->purge_offline = c->tempsub = true;
    c->subscribe = false;
    set_str(&c->title, "Princely Musings (Atom)");
    set_str(&c->description, "Updates for Hamlet's Princely Musings weblog.");
    set_str(&c->type, "http://www.w3.org/2005/Atom");
    set_str(&c->language, "en");
    c->roster_groups_allowed.n = 2;
    c->roster_groups_allowed.v = herald_calloc(HERALD_MEM_PUBSUB, 2, sizeof(char *));
    c->contact.n = 2;
    c->contact.v = herald_calloc(HERALD_MEM_PUBSUB, 2, sizeof(char *));
    assert_true(c->roster_groups_allowed.v && c->contact.v);
    for (size_t i = 0; i < 2; i++) {
        c->roster_groups_allowed.v[i] = dup(groups[i]);
        c->contact.v[i] = dup(contacts[i]);
    }
}

static void assert_error(const struct xmpp_error *e, const char *cond, const char *app)
{
    assert_string_equal(e->condition, cond);
    if (app == NULL)
        assert_null(e->app_name);
    else {
        assert_string_equal(e->app_name, app);
        assert_string_equal(e->app_ns, NS_ERRORS);
    }
}

/* ---- defaults ---- */

/* XEP-0060 §8.3: the default configuration of a pubsub.<domain> leaf node. */
static void test_pubsub_config__defaults_service_8_3(void **state)
{
    (void)state;
    struct pubsub_config c;
    pubsub_config_defaults(&LIM, false, &c);
    assert_int_equal(c.access_model, PUBSUB_ACCESS_OPEN);
    assert_int_equal(c.publish_model, PUBSUB_PUBLISH_PUBLISHERS);
    assert_int_equal(c.send_last_published_item, PUBSUB_SEND_LAST_NEVER);
    assert_int_equal(c.notification_type, PUBSUB_NOTIFY_HEADLINE);
    assert_int_equal(c.publish_node_full, PUBSUB_FULL_RETRACT_OLDEST);
    assert_int_equal(c.itemreply, PUBSUB_ITEMREPLY_OWNER);
    assert_int_equal(c.max_items, 10);
    assert_false(c.max_items_is_max);
    assert_int_equal(c.max_payload_size, 65536);
    assert_int_equal(c.item_expire, 0);
    assert_true(c.persist_items && c.deliver_payloads && c.deliver_notifications);
    assert_true(c.subscribe);
    assert_true(c.notify_delete); /* §8.4.2: deletion MUST be notified */
    assert_false(c.notify_config || c.notify_retract || c.notify_sub);
    assert_false(c.presence_based_delivery || c.purge_offline || c.tempsub);
    assert_null(c.title);
    assert_null(c.description);
    assert_null(c.type);
    assert_null(c.language);
    assert_int_equal(c.roster_groups_allowed.n, 0);
    assert_int_equal(c.contact.n, 0);
    pubsub_config_cleanup(&c);
}

/* XEP-0163 §4.3: presence access, on_sub_and_presence, presence-based delivery. */
static void test_pubsub_config__defaults_pep_xep0163_4_3(void **state)
{
    (void)state;
    struct pubsub_config c;
    pubsub_config_defaults(&LIM, true, &c);
    assert_int_equal(c.access_model, PUBSUB_ACCESS_PRESENCE);
    assert_int_equal(c.send_last_published_item, PUBSUB_SEND_LAST_ON_SUB_AND_PRESENCE);
    assert_true(c.deliver_notifications);
    assert_true(c.presence_based_delivery);
    assert_true(c.notify_retract);
    assert_int_equal(c.max_items, 1);
    assert_int_equal(c.publish_model, PUBSUB_PUBLISH_PUBLISHERS);
    pubsub_config_cleanup(&c);
}

/* XEP-0060 §17.4: the option values of pubsub#access_model. */
static void test_pubsub_config__access_model_names_17_4(void **state)
{
    (void)state;
    assert_string_equal(pubsub_access_model_name(PUBSUB_ACCESS_OPEN), "open");
    assert_string_equal(pubsub_access_model_name(PUBSUB_ACCESS_PRESENCE), "presence");
    assert_string_equal(pubsub_access_model_name(PUBSUB_ACCESS_ROSTER), "roster");
    assert_string_equal(pubsub_access_model_name(PUBSUB_ACCESS_AUTHORIZE), "authorize");
    assert_string_equal(pubsub_access_model_name(PUBSUB_ACCESS_WHITELIST), "whitelist");
}

/* ---- the node_config form ---- */

struct expect_field {
    const char *var;
    enum forms_field_type type;
    const char *label;
    const char *values;  /* "|"-joined */
    const char *options; /* "|"-joined, NULL: none */
};

/* XEP-0060 §8.2.1 / §8.3 examples (var, type, label), §17.4 for the fields they lack. */
static void test_pubsub_config__to_form_matches_xep_8_2_1(void **state)
{
    struct arena *a = *state;
    struct pubsub_config c;
    pubsub_config_defaults(&LIM, false, &c);
    struct xml_node *x = NULL;
    assert_int_equal(pubsub_config_to_form(a, &c, &LIM, &x), HERALD_OK);
    assert_true(xml_is(x, "jabber:x:data", "x"));
    assert_string_equal(xml_attr(x, "type"), "form");
    struct forms_form *f = reparse(a, x);
    const char *ft = NULL;
    assert_int_equal(forms_form_get_form_type(f, &ft), HERALD_OK);
    assert_string_equal(ft, PUBSUB_NS_NODE_CONFIG);
    assert_string_equal(f->fields.first->var, "FORM_TYPE");

    static const struct expect_field E[] = {
        {"pubsub#title", FORMS_FIELD_TEXT_SINGLE, "A friendly name for the node", "", NULL},
        {"pubsub#description", FORMS_FIELD_TEXT_SINGLE, "A description of the node", "", NULL},
        {"pubsub#deliver_notifications", FORMS_FIELD_BOOLEAN,
         "Whether to deliver event notifications", "1", NULL},
        {"pubsub#deliver_payloads", FORMS_FIELD_BOOLEAN,
         "Whether to deliver payloads with event notifications", "1", NULL},
        {"pubsub#notify_config", FORMS_FIELD_BOOLEAN,
         "Notify subscribers when the node configuration changes", "0", NULL},
        {"pubsub#notify_delete", FORMS_FIELD_BOOLEAN, "Notify subscribers when the node is deleted",
         "1", NULL},
        {"pubsub#notify_retract", FORMS_FIELD_BOOLEAN,
         "Notify subscribers when items are removed from the node", "0", NULL},
        {"pubsub#notify_sub", FORMS_FIELD_BOOLEAN,
         "Notify owners about new subscribers and unsubscribes", "0", NULL},
        {"pubsub#persist_items", FORMS_FIELD_BOOLEAN, "Persist items to storage", "1", NULL},
        {"pubsub#max_items", FORMS_FIELD_TEXT_SINGLE,
         "Max # of items to persist. `max` for no specific limit other than a server imposed "
         "maximum.",
         "10", NULL},
        {"pubsub#item_expire", FORMS_FIELD_TEXT_SINGLE,
         "Time after which to automatically purge items. `max` for no specific limit other than "
         "a server imposed maximum.",
         "max", NULL},
        {"pubsub#subscribe", FORMS_FIELD_BOOLEAN, "Whether to allow subscriptions", "1", NULL},
        {"pubsub#access_model", FORMS_FIELD_LIST_SINGLE, "Specify the subscriber model", "open",
         "authorize|open|presence|roster|whitelist"},
        {"pubsub#roster_groups_allowed", FORMS_FIELD_LIST_MULTI,
         "Roster groups allowed to subscribe", "", ""},
        {"pubsub#publish_model", FORMS_FIELD_LIST_SINGLE, "Specify the publisher model",
         "publishers", "publishers|subscribers|open"},
        {"pubsub#purge_offline", FORMS_FIELD_BOOLEAN,
         "Purge all items when the relevant publisher goes offline?", "0", NULL},
        {"pubsub#max_payload_size", FORMS_FIELD_TEXT_SINGLE, "Max Payload size in bytes", "65536",
         NULL},
        {"pubsub#send_last_published_item", FORMS_FIELD_LIST_SINGLE,
         "When to send the last published item", "never", "never|on_sub|on_sub_and_presence"},
        {"pubsub#presence_based_delivery", FORMS_FIELD_BOOLEAN,
         "Deliver event notifications only to available users", "0", NULL},
        {"pubsub#notification_type", FORMS_FIELD_LIST_SINGLE,
         "Specify the delivery style for event notifications", "headline", "normal|headline"},
        {"pubsub#type", FORMS_FIELD_TEXT_SINGLE,
         "Specify the semantic type of payload data to be provided at this node.", "", NULL},
        {"pubsub#language", FORMS_FIELD_LIST_SINGLE, "The default language of the node", "", ""},
        {"pubsub#contact", FORMS_FIELD_JID_MULTI, "The JIDs of those to contact with questions", "",
         NULL},
        {"pubsub#tempsub", FORMS_FIELD_BOOLEAN,
         "Whether to make all subscriptions temporary, based on subscriber presence", "0", NULL},
        {"pubsub#itemreply", FORMS_FIELD_LIST_SINGLE,
         "Whether owners or publisher should receive replies to items", "owner", "owner|publisher"},
        {"pubsub#publish_node_full", FORMS_FIELD_LIST_SINGLE,
         "Action to be performed by the service when publishing on a full node.", "retract-oldest",
         "retract-oldest|discard-oldest|reject"},
        {"pubsub#node_type", FORMS_FIELD_LIST_SINGLE, "Whether the node is a leaf (default)",
         "leaf", "leaf"},
    };
    const struct forms_field *fl = f->fields.first->next;
    for (size_t i = 0; i < sizeof(E) / sizeof(E[0]); i++, fl = fl->next) {
        assert_non_null(fl);
        assert_string_equal(fl->var, E[i].var); /* the §8.2.1 example's order */
        assert_int_equal(fl->type, E[i].type);
        assert_string_equal(fl->label, E[i].label);
        assert_string_equal(values_of(a, fl), E[i].values);
        if (E[i].options)
            assert_string_equal(options_of(a, fl), E[i].options);
        else
            assert_int_equal(fl->noptions, 0);
    }
    assert_null(fl); /* nothing else: no collection fields */
    /* §17.4 option labels, e.g. send_last_published_item as in the §8.2.1 example */
    const struct forms_field *sl = field(f, "pubsub#send_last_published_item");
    assert_string_equal(sl->options[1].label, "When a new subscription is processed");
    assert_non_null(field(f, "pubsub#max_items")->desc);
    pubsub_config_cleanup(&c);
}

/* XEP-0060 §8.2.1: the form carries the current configuration, every field of it. */
static void test_pubsub_config__to_form_shows_current_values_8_2_1(void **state)
{
    struct arena *a = *state;
    struct pubsub_config c;
    full_config(&c);
    struct xml_node *x = NULL;
    assert_int_equal(pubsub_config_to_form(a, &c, &LIM, &x), HERALD_OK);
    struct forms_form *f = reparse(a, x);
    static const char *const V[][2] = {
        {"pubsub#title", "Princely Musings (Atom)"},
        {"pubsub#description", "Updates for Hamlet's Princely Musings weblog."},
        {"pubsub#deliver_notifications", "0"},
        {"pubsub#deliver_payloads", "0"},
        {"pubsub#notify_config", "1"},
        {"pubsub#notify_delete", "1"},
        {"pubsub#notify_retract", "1"},
        {"pubsub#notify_sub", "1"},
        {"pubsub#persist_items", "0"},
        {"pubsub#max_items", "120"},
        {"pubsub#item_expire", "604800"},
        {"pubsub#subscribe", "0"},
        {"pubsub#access_model", "roster"},
        {"pubsub#roster_groups_allowed", "friends|servants"},
        {"pubsub#publish_model", "subscribers"},
        {"pubsub#purge_offline", "1"},
        {"pubsub#max_payload_size", "1028"},
        {"pubsub#send_last_published_item", "on_sub"},
        {"pubsub#presence_based_delivery", "1"},
        {"pubsub#notification_type", "normal"},
        {"pubsub#type", "http://www.w3.org/2005/Atom"},
        {"pubsub#language", "en"},
        {"pubsub#contact", "bard@shakespeare.lit|hamlet@denmark.lit"},
        {"pubsub#tempsub", "1"},
        {"pubsub#itemreply", "publisher"},
        {"pubsub#publish_node_full", "reject"},
        {"pubsub#node_type", "leaf"},
    };
    for (size_t i = 0; i < sizeof(V) / sizeof(V[0]); i++)
        assert_string_equal(values_of(a, field(f, V[i][0])), V[i][1]);
    /* The groups already allowed are offered, so the values are among the options. */
    assert_string_equal(options_of(a, field(f, "pubsub#roster_groups_allowed")),
                        "friends|servants");
    assert_string_equal(options_of(a, field(f, "pubsub#language")), "en");
    /* §17.4 label of max_items: "max" when configured so. */
    c.max_items_is_max = true;
    assert_int_equal(pubsub_config_to_form(a, &c, &LIM, &x), HERALD_OK);
    assert_string_equal(values_of(a, field(reparse(a, x), "pubsub#max_items")), "max");
    pubsub_config_cleanup(&c);
}

/* ---- applying a submitted form (§8.2.4, §8.2.5) ---- */

/* The XEP-0060 §8.2.4 example submission (its body_xslt aside, see the rejection test). */
static void test_pubsub_config__apply_xep_8_2_4_example(void **state)
{
    struct arena *a = *state;
    struct pubsub_config c;
    pubsub_config_defaults(&LIM, false, &c);
    struct xmpp_error err = {0};
    struct xml_node *x =
        config_submit(a, "<field var='pubsub#title'><value>Princely Musings (Atom)</value></field>"
                         "<field var='pubsub#deliver_notifications'><value>1</value></field>"
                         "<field var='pubsub#deliver_payloads'><value>1</value></field>"
                         "<field var='pubsub#persist_items'><value>1</value></field>"
                         "<field var='pubsub#max_items'><value>10</value></field>"
                         "<field var='pubsub#item_expire'><value>604800</value></field>"
                         "<field var='pubsub#access_model'><value>roster</value></field>"
                         "<field var='pubsub#roster_groups_allowed'><value>friends</value>"
                         "<value>servants</value><value>courtiers</value></field>"
                         "<field var='pubsub#publish_model'><value>publishers</value></field>"
                         "<field var='pubsub#purge_offline'><value>0</value></field>"
                         "<field var='pubsub#send_last_published_item'><value>never</value></field>"
                         "<field var='pubsub#presence_based_delivery'><value>false</value></field>"
                         "<field var='pubsub#notification_type'><value>headline</value></field>"
                         "<field var='pubsub#notify_config'><value>0</value></field>"
                         "<field var='pubsub#notify_delete'><value>0</value></field>"
                         "<field var='pubsub#notify_retract'><value>0</value></field>"
                         "<field var='pubsub#notify_sub'><value>0</value></field>"
                         "<field var='pubsub#max_payload_size'><value>1028</value></field>"
                         "<field var='pubsub#type'><value>urn:example:e2ee:bundle</value></field>");
    assert_int_equal(pubsub_config_apply_form(&c, x, &LIM, a, &err), HERALD_OK);
    assert_string_equal(c.title, "Princely Musings (Atom)");
    assert_int_equal(c.max_items, 10);
    assert_int_equal(c.item_expire, 604800);
    assert_int_equal(c.access_model, PUBSUB_ACCESS_ROSTER);
    assert_int_equal(c.roster_groups_allowed.n, 3);
    assert_string_equal(c.roster_groups_allowed.v[0], "friends");
    assert_string_equal(c.roster_groups_allowed.v[2], "courtiers");
    assert_int_equal(c.max_payload_size, 1028);
    assert_string_equal(c.type, "urn:example:e2ee:bundle");
    assert_false(c.presence_based_delivery);
    pubsub_config_cleanup(&c);
}

struct apply_case {
    const char *fields;
    void (*check)(const struct pubsub_config *c);
};

#define CHECK(name, expr)                                                                          \
    static void name(const struct pubsub_config *c)                                                \
    {                                                                                              \
        assert_true(expr);                                                                         \
    }
CHECK(ck_access, c->access_model == PUBSUB_ACCESS_WHITELIST)
CHECK(ck_access_auth, c->access_model == PUBSUB_ACCESS_AUTHORIZE)
CHECK(ck_access_presence, c->access_model == PUBSUB_ACCESS_PRESENCE)
CHECK(ck_publish, c->publish_model == PUBSUB_PUBLISH_OPEN)
CHECK(ck_send_last, c->send_last_published_item == PUBSUB_SEND_LAST_ON_SUB_AND_PRESENCE)
CHECK(ck_itemreply, c->itemreply == PUBSUB_ITEMREPLY_PUBLISHER)
CHECK(ck_notification, c->notification_type == PUBSUB_NOTIFY_NORMAL)
CHECK(ck_full, c->publish_node_full == PUBSUB_FULL_DISCARD_OLDEST)
CHECK(ck_node_type, c->access_model == PUBSUB_ACCESS_OPEN) /* leaf: nothing changes */
CHECK(ck_max_items, c->max_items == 1000 && !c->max_items_is_max)
CHECK(ck_max_payload, c->max_payload_size == 65536)
CHECK(ck_expire, c->item_expire == 1)
CHECK(ck_persist, !c->persist_items)
CHECK(ck_deliver_payloads, !c->deliver_payloads)
CHECK(ck_deliver_notifications, !c->deliver_notifications)
CHECK(ck_notify_config, c->notify_config)
CHECK(ck_notify_delete, c->notify_delete)
CHECK(ck_notify_retract, c->notify_retract)
CHECK(ck_notify_sub, c->notify_sub)
CHECK(ck_presence_based, c->presence_based_delivery)
CHECK(ck_purge, c->purge_offline)
CHECK(ck_subscribe, !c->subscribe)
CHECK(ck_tempsub, c->tempsub)
CHECK(ck_title, c->title &&strcmp(c->title, "T") == 0)
CHECK(ck_description, c->description &&strcmp(c->description, "D \xc3\xa9") == 0)
CHECK(ck_type, c->type &&strcmp(c->type, "urn:xmpp:avatar:data") == 0)
CHECK(ck_language, c->language &&strcmp(c->language, "de-CH-1901") == 0)
CHECK(ck_groups, c->roster_groups_allowed.n == 2 &&
                     strcmp(c->roster_groups_allowed.v[1], "b") == 0) /* "a" once */
CHECK(ck_contact, c->contact.n == 2 && strcmp(c->contact.v[0], "juliet@capulet.lit") == 0 &&
                      strcmp(c->contact.v[1], "capulet.lit") == 0)
CHECK(ck_children_empty, c->access_model == PUBSUB_ACCESS_OPEN)

/* XEP-0060 §8.2.4/§17.4: every supported field is taken, in each of its spellings. */
static void test_pubsub_config__apply_every_field_17_4(void **state)
{
    struct arena *a = *state;
    static const struct apply_case C[] = {
        {"<field var='pubsub#access_model'><value>whitelist</value></field>", ck_access},
        {"<field var='pubsub#access_model'><value>authorize</value></field>", ck_access_auth},
        {"<field var='pubsub#access_model'><value>presence</value></field>", ck_access_presence},
        {"<field var='pubsub#publish_model'><value>open</value></field>", ck_publish},
        {"<field var='pubsub#send_last_published_item'><value>on_sub_and_presence</value>"
         "</field>",
         ck_send_last},
        {"<field var='pubsub#itemreply'><value>publisher</value></field>", ck_itemreply},
        {"<field var='pubsub#notification_type'><value>normal</value></field>", ck_notification},
        {"<field var='pubsub#publish_node_full'><value>discard-oldest</value></field>", ck_full},
        {"<field var='pubsub#node_type'><value>leaf</value></field>", ck_node_type},
        {"<field var='pubsub#max_items'><value>1000</value></field>", ck_max_items},
        {"<field var='pubsub#max_payload_size'><value>65536</value></field>", ck_max_payload},
        {"<field var='pubsub#item_expire'><value>1</value></field>", ck_expire},
        {"<field var='pubsub#persist_items'><value>false</value></field>", ck_persist},
        {"<field var='pubsub#deliver_payloads'><value>0</value></field>", ck_deliver_payloads},
        {"<field var='pubsub#deliver_notifications' type='boolean'><value>0</value></field>",
         ck_deliver_notifications},
        {"<field var='pubsub#notify_config'><value>1</value></field>", ck_notify_config},
        {"<field var='pubsub#notify_delete'><value>true</value></field>", ck_notify_delete},
        {"<field var='pubsub#notify_retract'><value>1</value></field>", ck_notify_retract},
        {"<field var='pubsub#notify_sub'><value>true</value></field>", ck_notify_sub},
        {"<field var='pubsub#presence_based_delivery'><value>1</value></field>", ck_presence_based},
        {"<field var='pubsub#purge_offline'><value>1</value></field>", ck_purge},
        {"<field var='pubsub#subscribe'><value>0</value></field>", ck_subscribe},
        {"<field var='pubsub#tempsub'><value>1</value></field>", ck_tempsub},
        {"<field var='pubsub#title'><value>T</value></field>", ck_title},
        {"<field var='pubsub#description'><value>D \xc3\xa9</value></field>", ck_description},
        {"<field var='pubsub#type'><value>urn:xmpp:avatar:data</value></field>", ck_type},
        {"<field var='pubsub#language'><value>de-CH-1901</value></field>", ck_language},
        {"<field var='pubsub#roster_groups_allowed'><value>a</value><value>b</value>"
         "<value>a</value></field>",
         ck_groups},
        {"<field var='pubsub#contact'><value>Juliet@Capulet.LIT</value>"
         "<value>capulet.lit</value><value>juliet@capulet.lit</value></field>",
         ck_contact},
        {"<field var='pubsub#children'/><field var='pubsub#collection'><value/></field>",
         ck_children_empty},
    };
    for (size_t i = 0; i < sizeof(C) / sizeof(C[0]); i++) {
        struct pubsub_config c;
        struct xmpp_error err = {0};
        pubsub_config_defaults(&LIM, false, &c);
        if (pubsub_config_apply_form(&c, config_submit(a, C[i].fields), &LIM, a, &err) != HERALD_OK)
            fail_msg("case %zu refused: %s", i, err.text ? err.text : "?");
        C[i].check(&c);
        pubsub_config_cleanup(&c);
    }
}

/* XEP-0060 §17.4 max_items label: "max" is the server's limit, and is remembered as such. */
static void test_pubsub_config__apply_max_items_max_17_4(void **state)
{
    struct arena *a = *state;
    struct pubsub_config c;
    struct xmpp_error err = {0};
    pubsub_config_defaults(&LIM, false, &c);
    assert_int_equal(
        pubsub_config_apply_form(&c,
                                 config_submit(a, "<field var='pubsub#max_items'><value>max</value>"
                                                  "</field>"),
                                 &LIM, a, &err),
        HERALD_OK);
    assert_true(c.max_items_is_max);
    assert_int_equal(c.max_items, LIM.max_items_limit);
    assert_int_equal(
        pubsub_config_apply_form(&c,
                                 config_submit(a, "<field var='pubsub#max_items'><value>5</value>"
                                                  "</field>"),
                                 &LIM, a, &err),
        HERALD_OK);
    assert_false(c.max_items_is_max);
    assert_int_equal(c.max_items, 5);
    /* item_expire's `max` is "no expiry", stored as 0 and shown as max. */
    c.item_expire = 60;
    assert_int_equal(pubsub_config_apply_form(
                         &c,
                         config_submit(a, "<field var='pubsub#item_expire'><value>max</value>"
                                          "</field>"),
                         &LIM, a, &err),
                     HERALD_OK);
    assert_int_equal(c.item_expire, 0);
    pubsub_config_cleanup(&c);
}

/* XEP-0004 §3.6 (referenced by XEP-0060 §8.2.4): an empty field unsets a text; omitted fields
 * and valueless booleans keep their value. */
static void test_pubsub_config__apply_empty_fields_unset_texts_8_2_4(void **state)
{
    struct arena *a = *state;
    struct pubsub_config c;
    struct xmpp_error err = {0};
    full_config(&c);
    assert_int_equal(
        pubsub_config_apply_form(&c,
                                 config_submit(a, "<field var='pubsub#title'/>"
                                                  "<field var='pubsub#language'><value/></field>"
                                                  "<field var='pubsub#contact'/>"
                                                  "<field var='pubsub#persist_items'/>"
                                                  "<field var='pubsub#max_items'><value/></field>"),
                                 &LIM, a, &err),
        HERALD_OK);
    assert_null(c.title);
    assert_null(c.language);
    assert_int_equal(c.contact.n, 0);
    assert_false(c.persist_items); /* full_config's value */
    assert_int_equal(c.max_items, 120);
    assert_string_equal(c.description, "Updates for Hamlet's Princely Musings weblog.");
    assert_int_equal(c.roster_groups_allowed.n, 2);
    pubsub_config_cleanup(&c);
}

/* XEP-0060 §8.2.4: a cancel form keeps the existing configuration. */
static void test_pubsub_config__apply_cancel_keeps_config_8_2_4(void **state)
{
    struct arena *a = *state;
    struct pubsub_config c, before;
    struct xmpp_error err = {0};
    full_config(&c);
    assert_int_equal(pubsub_config_copy(&before, &c), HERALD_OK);
    assert_int_equal(
        pubsub_config_apply_form(&c, xml_from(a, "<x xmlns='jabber:x:data' type='cancel'/>"), &LIM,
                                 a, &err),
        HERALD_OK);
    assert_config_equal(&c, &before);
    pubsub_config_cleanup(&c);
    pubsub_config_cleanup(&before);
}

/* XEP-0068: without FORM_TYPE the pubsub# vars still identify the fields; a publish-options
 * form (§7.1.5 rule 3, auto-create with the preconditions) is accepted as configuration. */
static void test_pubsub_config__apply_form_type_variants_7_1_5(void **state)
{
    struct arena *a = *state;
    struct pubsub_config c;
    struct xmpp_error err = {0};
    pubsub_config_defaults(&LIM, false, &c);
    assert_int_equal(pubsub_config_apply_form(&c,
                                              submit_ft(a, NULL,
                                                        "<field var='pubsub#access_model'>"
                                                        "<value>whitelist</value></field>"),
                                              &LIM, a, &err),
                     HERALD_OK);
    assert_int_equal(c.access_model, PUBSUB_ACCESS_WHITELIST);
    assert_int_equal(pubsub_config_apply_form(&c,
                                              publish_options(a, "<field var='pubsub#access_model'>"
                                                                 "<value>presence</value></field>"),
                                              &LIM, a, &err),
                     HERALD_OK);
    assert_int_equal(c.access_model, PUBSUB_ACCESS_PRESENCE);
    pubsub_config_cleanup(&c);
}

struct reject_case {
    const char *form; /* a whole <x/> if it starts with '<x', else node_config fields */
    const char *condition;
    const char *app;
};

/* XEP-0060 §8.2.5.2: a value the service cannot take is not-acceptable (XEP-0004 §4), with
 * <unsupported-access-model/> for an access model (§8.1.2), a malformed form bad-request, a
 * collection feature-not-implemented (XEP-0248 §5.1.3.1); and in every case nothing changes. */
static void test_pubsub_config__apply_rejections_change_nothing_8_2_5(void **state)
{
    struct arena *a = *state;
    static const struct reject_case C[] = {
        {"<field var='pubsub#persist_items'><value>yes</value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#deliver_payloads'><value>TRUE</value></field>", "not-acceptable",
         NULL},
        {"<field var='pubsub#access_model'><value>friends</value></field>", "not-acceptable",
         "unsupported-access-model"},
        {"<field var='pubsub#access_model'><value>Open</value></field>", "not-acceptable",
         "unsupported-access-model"},
        {"<field var='pubsub#max_items'><value>1001</value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#max_items'><value>-1</value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#max_items'><value>0</value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#max_items'><value>ten</value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#max_items'><value>10 </value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#max_items'><value>99999999999999999999999</value></field>",
         "not-acceptable", NULL},
        {"<field var='pubsub#max_payload_size'><value>65537</value></field>", "not-acceptable",
         NULL},
        {"<field var='pubsub#item_expire'><value>-5</value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#item_expire'><value>1.5</value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#send_last_published_item'><value>always</value></field>",
         "not-acceptable", NULL},
        {"<field var='pubsub#publish_model'><value>anyone</value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#notification_type'><value>chat</value></field>", "not-acceptable",
         NULL},
        {"<field var='pubsub#itemreply'><value>none</value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#publish_node_full'><value>drop</value></field>", "not-acceptable",
         NULL},
        {"<field var='pubsub#node_type'><value>tree</value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#body_xslt'><value>http://jabxslt.jabberstudio.org/atom_body.xslt"
         "</value></field>",
         "not-acceptable", NULL},
        {"<field var='x-custom'><value>1</value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#contact'><value>@capulet.lit</value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#language'><value>english language</value></field>", "not-acceptable",
         NULL},
        {"<field var='pubsub#language'><value>e1</value></field>", "not-acceptable", NULL},
        {"<field var='pubsub#roster_groups_allowed'><value>a</value><value/></field>",
         "not-acceptable", NULL},
        /* a valid field first: it must not be applied either */
        {"<field var='pubsub#title'><value>New</value></field>"
         "<field var='pubsub#access_model'><value>bogus</value></field>",
         "not-acceptable", "unsupported-access-model"},
        {"<field var='pubsub#title'><value>New</value></field>"
         "<field var='pubsub#max_items'><value>3</value></field>"
         "<field var='pubsub#language'><value>english language</value></field>",
         "not-acceptable", NULL},
        {"<field var='pubsub#contact'><value>new@capulet.lit</value></field>"
         "<field var='pubsub#node_type'><value>collection</value></field>",
         "feature-not-implemented", "unsupported"},
        {"<field var='pubsub#title'><value>a</value><value>b</value></field>", "bad-request", NULL},
        {"<field var='pubsub#title' type='text-multi'><value>a</value><value>b</value></field>",
         "bad-request", NULL},
        {"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
         "<value>jabber:bot</value></field></x>",
         "bad-request", NULL},
        {"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
         "<value>" PUBSUB_NS_SUB_OPTIONS "</value></field></x>",
         "bad-request", NULL},
        {"<x xmlns='jabber:x:data' type='form'/>", "bad-request", NULL},
        {"<x xmlns='jabber:x:data' type='result'/>", "bad-request", NULL},
        {"<x xmlns='jabber:x:data'/>", "bad-request", NULL},
        {"<configure xmlns='http://jabber.org/protocol/pubsub#owner'/>", "bad-request", NULL},
        {"<field var='pubsub#node_type'><value>collection</value></field>",
         "feature-not-implemented", "unsupported"},
        {"<field var='pubsub#children'><value>a</value></field>", "feature-not-implemented",
         "unsupported"},
        {"<field var='pubsub#collection'><value>root</value></field>", "feature-not-implemented",
         "unsupported"},
    };
    for (size_t i = 0; i < sizeof(C) / sizeof(C[0]); i++) {
        struct pubsub_config c, before;
        struct xmpp_error err = {0};
        full_config(&c);
        assert_int_equal(pubsub_config_copy(&before, &c), HERALD_OK);
        struct xml_node *x =
            strncmp(C[i].form, "<x", 2) == 0 || strncmp(C[i].form, "<configure", 10) == 0
                ? xml_from(a, C[i].form)
                : config_submit(a, C[i].form);
        if (pubsub_config_apply_form(&c, x, &LIM, a, &err) != HERALD_EINVAL)
            fail_msg("case %zu accepted", i);
        if (strcmp(err.condition, C[i].condition) != 0)
            fail_msg("case %zu: %s instead of %s", i, err.condition, C[i].condition);
        assert_error(&err, C[i].condition, C[i].app);
        assert_non_null(err.text);
        if (C[i].app && strcmp(C[i].app, "unsupported") == 0)
            assert_string_equal(err.app_attr_value, "collections");
        else
            assert_null(err.app_attr);
        assert_config_equal(&c, &before);
        pubsub_config_cleanup(&c);
        pubsub_config_cleanup(&before);
    }
}

/* XEP-0060 §8.2.5.2: the error text names the field at fault. */
static void test_pubsub_config__rejection_text_names_field_8_2_5(void **state)
{
    struct arena *a = *state;
    struct pubsub_config c;
    struct xmpp_error err = {0};
    pubsub_config_defaults(&LIM, false, &c);
    assert_int_equal(pubsub_config_apply_form(
                         &c,
                         config_submit(a, "<field var='pubsub#max_items'><value>5000</value>"
                                          "</field>"),
                         &LIM, a, &err),
                     HERALD_EINVAL);
    assert_non_null(strstr(err.text, "pubsub#max_items"));
    char *longer = arena_alloc(a, PUBSUB_CONFIG_STR_MAX + 2);
    memset(longer, 'a', PUBSUB_CONFIG_STR_MAX + 1);
    longer[PUBSUB_CONFIG_STR_MAX + 1] = '\0';
    assert_int_equal(
        pubsub_config_apply_form(
            &c,
            config_submit(
                a, arena_printf(a, "<field var='pubsub#title'><value>%s</value></field>", longer)),
            &LIM, a, &err),
        HERALD_EINVAL);
    assert_string_equal(err.condition, "not-acceptable");
    assert_non_null(strstr(err.text, "pubsub#title"));
    assert_null(c.title);
    pubsub_config_cleanup(&c);
}

/* ---- publish-options preconditions (§7.1.5) ---- */

static void test_pubsub_config__preconditions_met_7_1_5(void **state)
{
    struct arena *a = *state;
    struct pubsub_config c;
    struct xmpp_error err = {0};
    pubsub_config_defaults(&LIM, true, &c);
    /* The §7.1.5 example, against a PEP node (presence access). */
    assert_int_equal(
        pubsub_config_check_preconditions(&c,
                                          publish_options(a, "<field var='pubsub#access_model'>"
                                                             "<value>presence</value></field>"),
                                          &LIM, a, &err),
        HERALD_OK);
    /* Values compare by meaning: "true" is 1, a JID matches its canonical form, lists are
     * sets, "max" matches max. */
    c.max_items = LIM.max_items_limit;
    c.max_items_is_max = true;
    c.contact.v = herald_calloc(HERALD_MEM_PUBSUB, 1, sizeof(char *));
    assert_non_null(c.contact.v);
    c.contact.v[0] = dup("juliet@capulet.lit");
    c.contact.n = 1;
    assert_int_equal(
        pubsub_config_check_preconditions(
            &c,
            publish_options(a, "<field var='pubsub#persist_items'><value>true</value></field>"
                               "<field var='pubsub#max_items'><value>max</value></field>"
                               "<field var='pubsub#contact'><value>Juliet@Capulet.lit</value>"
                               "</field>"
                               "<field var='pubsub#title'/>"
                               "<field var='pubsub#send_last_published_item'>"
                               "<value>on_sub_and_presence</value></field>"),
            &LIM, a, &err),
        HERALD_OK);
    /* A form with nothing but FORM_TYPE sets no precondition. */
    assert_int_equal(pubsub_config_check_preconditions(&c, publish_options(a, ""), &LIM, a, &err),
                     HERALD_OK);
    pubsub_config_cleanup(&c);
}

static void test_pubsub_config__preconditions_not_met_7_1_5(void **state)
{
    struct arena *a = *state;
    struct pubsub_config c;
    struct xmpp_error err = {0};
    pubsub_config_defaults(&LIM, false, &c); /* open */
    assert_int_equal(
        pubsub_config_check_preconditions(&c,
                                          publish_options(a, "<field var='pubsub#access_model'>"
                                                             "<value>presence</value></field>"),
                                          &LIM, a, &err),
        HERALD_ECONFLICT);
    assert_error(&err, "conflict", "precondition-not-met");
    assert_non_null(strstr(err.text, "pubsub#access_model"));
    /* Only the second precondition fails. */
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        pubsub_config_check_preconditions(
            &c,
            publish_options(a, "<field var='pubsub#deliver_payloads'><value>1</value></field>"
                               "<field var='pubsub#max_items'><value>max</value></field>"),
            &LIM, a, &err),
        HERALD_ECONFLICT);
    assert_error(&err, "conflict", "precondition-not-met");
    assert_non_null(strstr(err.text, "pubsub#max_items"));
    /* Lists compare as sets: a missing or an extra contact is a mismatch. */
    assert_int_equal(pubsub_config_check_preconditions(
                         &c,
                         publish_options(a, "<field var='pubsub#contact'>"
                                            "<value>juliet@capulet.lit</value></field>"),
                         &LIM, a, &err),
                     HERALD_ECONFLICT);
    assert_non_null(strstr(err.text, "pubsub#contact"));
    assert_int_equal(pubsub_config_check_preconditions(
                         &c, publish_options(a, "<field var='pubsub#contact'/>"), &LIM, a, &err),
                     HERALD_OK);
    /* The configuration itself is untouched. */
    assert_int_equal(c.access_model, PUBSUB_ACCESS_OPEN);
    assert_int_equal(c.max_items, 10);
    pubsub_config_cleanup(&c);
}

/* §7.1.5: unknown fields are refused; the FORM_TYPE must be publish-options. */
static void test_pubsub_config__preconditions_invalid_forms_7_1_5(void **state)
{
    struct arena *a = *state;
    struct pubsub_config c;
    struct xmpp_error err = {0};
    pubsub_config_defaults(&LIM, false, &c);
    assert_int_equal(
        pubsub_config_check_preconditions(
            &c, publish_options(a, "<field var='pubsub#nonsense'><value>1</value></field>"), &LIM,
            a, &err),
        HERALD_EINVAL);
    assert_string_equal(err.condition, "not-acceptable");
    assert_int_equal(pubsub_config_check_preconditions(
                         &c,
                         publish_options(a, "<field var='pubsub#access_model'><value>nobody"
                                            "</value></field>"),
                         &LIM, a, &err),
                     HERALD_EINVAL);
    assert_string_equal(err.condition, "not-acceptable");
    assert_int_equal(
        pubsub_config_check_preconditions(
            &c, submit_ft(a, NULL, "<field var='pubsub#access_model'><value>open</value></field>"),
            &LIM, a, &err),
        HERALD_EINVAL);
    assert_string_equal(err.condition, "bad-request");
    assert_int_equal(pubsub_config_check_preconditions(
                         &c,
                         config_submit(a, "<field var='pubsub#access_model'><value>open</value>"
                                          "</field>"),
                         &LIM, a, &err),
                     HERALD_EINVAL);
    assert_string_equal(err.condition, "bad-request");
    assert_int_equal(
        pubsub_config_check_preconditions(
            &c, xml_from(a, "<x xmlns='jabber:x:data' type='cancel'/>"), &LIM, a, &err),
        HERALD_EINVAL);
    assert_string_equal(err.condition, "bad-request");
    pubsub_config_cleanup(&c);
}

/* ---- meta-data (§5.4) ---- */

static void test_pubsub_config__meta_form_5_4(void **state)
{
    struct arena *a = *state;
    struct pubsub_config c;
    full_config(&c);
    static const char *const owners[] = {"hamlet@denmark.lit"};
    static const char *const publishers[] = {"hamlet@denmark.lit", "horatio@denmark.lit"};
    const struct pubsub_meta m = {
        .creation_us = INT64_C(1059519370) * 1000000, /* 2003-07-29T22:56:10Z */
        .creator = "hamlet@denmark.lit",
        .owners = owners,
        .nowners = 1,
        .publishers = publishers,
        .npublishers = 2,
        .num_subscribers = 1066,
    };
    struct xml_node *x = NULL;
    assert_int_equal(pubsub_config_meta_form(a, &c, &m, &x), HERALD_OK);
    assert_string_equal(xml_attr(x, "type"), "result");
    struct forms_form *f = reparse(a, x);
    const char *ft = NULL;
    assert_int_equal(forms_form_get_form_type(f, &ft), HERALD_OK);
    assert_string_equal(ft, PUBSUB_NS_META_DATA);
    static const struct expect_field E[] = {
        {"pubsub#type", FORMS_FIELD_TEXT_SINGLE, "Payload semantic type information",
         "http://www.w3.org/2005/Atom", NULL},
        {"pubsub#creator", FORMS_FIELD_JID_SINGLE, "Node creator", "hamlet@denmark.lit", NULL},
        {"pubsub#creation_date", FORMS_FIELD_TEXT_SINGLE, "Creation date", "2003-07-29T22:56:10Z",
         NULL},
        {"pubsub#title", FORMS_FIELD_TEXT_SINGLE, "A short name for the node",
         "Princely Musings (Atom)", NULL},
        {"pubsub#description", FORMS_FIELD_TEXT_SINGLE, "A description of the node",
         "Updates for Hamlet's Princely Musings weblog.", NULL},
        {"pubsub#language", FORMS_FIELD_LIST_SINGLE, "Default language", "en", NULL},
        {"pubsub#contact", FORMS_FIELD_JID_MULTI, "People to contact with questions",
         "bard@shakespeare.lit|hamlet@denmark.lit", NULL},
        {"pubsub#access_model", FORMS_FIELD_LIST_SINGLE, "Access model", "roster", NULL},
        {"pubsub#publish_model", FORMS_FIELD_LIST_SINGLE, "Publish model", "subscribers", NULL},
        {"pubsub#max_items", FORMS_FIELD_TEXT_SINGLE,
         "Max # of items to persist. `max` for no specific limit other than a server imposed "
         "maximum.",
         "120", NULL},
        {"pubsub#owner", FORMS_FIELD_JID_MULTI, "Node owners", "hamlet@denmark.lit", NULL},
        {"pubsub#publisher", FORMS_FIELD_JID_MULTI, "Publishers to this node",
         "hamlet@denmark.lit|horatio@denmark.lit", NULL},
        {"pubsub#num_subscribers", FORMS_FIELD_TEXT_SINGLE, "Number of subscribers to this node",
         "1066", NULL},
    };
    const struct forms_field *fl = f->fields.first->next;
    for (size_t i = 0; i < sizeof(E) / sizeof(E[0]); i++, fl = fl->next) {
        assert_non_null(fl);
        assert_string_equal(fl->var, E[i].var);
        assert_int_equal(fl->type, E[i].type);
        assert_string_equal(fl->label, E[i].label);
        assert_string_equal(values_of(a, fl), E[i].values);
    }
    assert_null(fl);

    /* Unset texts are left out; the counts and dates stay. */
    struct pubsub_config d;
    pubsub_config_defaults(&LIM, false, &d);
    const struct pubsub_meta m0 = {.creation_us = 0};
    assert_int_equal(pubsub_config_meta_form(a, &d, &m0, &x), HERALD_OK);
    f = reparse(a, x);
    assert_null(forms_form_find_field(f, "pubsub#title"));
    assert_null(forms_form_find_field(f, "pubsub#creator"));
    assert_string_equal(values_of(a, field(f, "pubsub#creation_date")), "1970-01-01T00:00:00Z");
    assert_string_equal(values_of(a, field(f, "pubsub#num_subscribers")), "0");
    assert_string_equal(values_of(a, field(f, "pubsub#owner")), "");
    pubsub_config_cleanup(&d);
    pubsub_config_cleanup(&c);
}

/* ---- subscription options (§6.3, §6.4) ---- */

/* XEP-0060 §6.4: default subscription options. */
static void test_pubsub_config__subopts_defaults_6_4(void **state)
{
    (void)state;
    struct pubsub_subopts o;
    pubsub_subopts_defaults(&o);
    assert_true(o.deliver);
    assert_false(o.digest);
    assert_false(o.include_body);
    assert_int_equal(o.show_values, PUBSUB_SHOW_ALL);
    assert_false(o.expire_presence);
    assert_int_equal(o.expire_at_us, 0);
    assert_int_equal(o.subscription_type, PUBSUB_SUBTYPE_ITEMS);
    assert_int_equal(o.digest_frequency, 86400000);
}

/* XEP-0060 §6.3.2 example: the options form, field by field. */
static void test_pubsub_config__subopts_form_6_3_2(void **state)
{
    struct arena *a = *state;
    struct pubsub_subopts o;
    pubsub_subopts_defaults(&o);
    o.include_body = false;
    o.show_values = PUBSUB_SHOW_CHAT | PUBSUB_SHOW_ONLINE;
    struct xml_node *x = NULL;
    assert_int_equal(pubsub_subopts_to_form(a, &o, &x), HERALD_OK);
    assert_string_equal(xml_attr(x, "type"), "form");
    struct forms_form *f = reparse(a, x);
    const char *ft = NULL;
    assert_int_equal(forms_form_get_form_type(f, &ft), HERALD_OK);
    assert_string_equal(ft, PUBSUB_NS_SUB_OPTIONS);
    static const struct expect_field E[] = {
        {"pubsub#deliver", FORMS_FIELD_BOOLEAN, "Enable delivery?", "1", NULL},
        {"pubsub#show-values", FORMS_FIELD_LIST_MULTI,
         "Select the presence types which are allowed to receive event notifications",
         "chat|online", "chat|online|away|xa|dnd"},
        {"pubsub#expire", FORMS_FIELD_TEXT_SINGLE,
         "The DateTime at which a leased subscription will end or has ended", "", NULL},
    };
    const struct forms_field *fl = f->fields.first->next;
    for (size_t i = 0; i < sizeof(E) / sizeof(E[0]); i++, fl = fl->next) {
        assert_non_null(fl);
        assert_string_equal(fl->var, E[i].var);
        assert_int_equal(fl->type, E[i].type);
        assert_string_equal(fl->label, E[i].label);
        assert_string_equal(values_of(a, fl), E[i].values);
        if (E[i].options)
            assert_string_equal(options_of(a, fl), E[i].options);
        else
            assert_int_equal(fl->noptions, 0);
    }
    assert_null(fl);
    assert_string_equal(field(f, "pubsub#show-values")->options[0].label, "Want to Chat");
    /* A lease shows as a XEP-0082 DateTime, a temporary subscription as "presence". */
    o.expire_at_us = INT64_C(1141171199) * 1000000; /* 2006-02-28T23:59:59Z */
    assert_int_equal(pubsub_subopts_to_form(a, &o, &x), HERALD_OK);
    assert_string_equal(values_of(a, field(reparse(a, x), "pubsub#expire")),
                        "2006-02-28T23:59:59Z");
    o.expire_at_us = 0;
    o.expire_presence = true;
    assert_int_equal(pubsub_subopts_to_form(a, &o, &x), HERALD_OK);
    assert_string_equal(values_of(a, field(reparse(a, x), "pubsub#expire")), "presence");
}

/* XEP-0060 §6.3.4 example submission, then every other option (§12.4 temporary, §12.18
 * leases). */
static void test_pubsub_config__subopts_apply_6_3_4(void **state)
{
    struct arena *a = *state;
    struct pubsub_subopts o;
    struct xmpp_error err = {0};
    pubsub_subopts_defaults(&o);
    assert_int_equal(
        pubsub_subopts_apply_form(&o,
                                  options_submit(a, "<field var='pubsub#deliver'><value>1</value>"
                                                    "</field>"
                                                    "<field var='pubsub#digest'><value>0</value>"
                                                    "</field>"
                                                    "<field var='pubsub#include_body'>"
                                                    "<value>false</value></field>"
                                                    "<field var='pubsub#show-values'>"
                                                    "<value>chat</value><value>online</value>"
                                                    "<value>away</value></field>"),
                                  a, &err),
        HERALD_OK);
    assert_true(o.deliver);
    assert_int_equal(o.show_values, PUBSUB_SHOW_CHAT | PUBSUB_SHOW_ONLINE | PUBSUB_SHOW_AWAY);
    assert_int_equal(
        pubsub_subopts_apply_form(
            &o,
            options_submit(a, "<field var='pubsub#deliver'><value>false</value></field>"
                              "<field var='pubsub#digest'><value>false</value></field>"
                              "<field var='pubsub#digest_frequency'><value>3600000</value>"
                              "</field>"
                              "<field var='pubsub#include_body'><value>0</value></field>"
                              "<field var='pubsub#show-values'><value>dnd</value>"
                              "<value>xa</value></field>"
                              "<field var='pubsub#expire'><value>2006-02-28T11:59:59-05:00"
                              "</value></field>"
                              "<field var='pubsub#subscription_type'><value>items</value></field>"
                              "<field var='pubsub#subscription_depth'><value>all</value>"
                              "</field>"),
            a, &err),
        HERALD_OK);
    assert_false(o.deliver);
    assert_false(o.digest);
    assert_int_equal(o.digest_frequency, 3600000);
    assert_false(o.include_body);
    /* Digests and bodies are not produced (§12.8): asking for them is refused. */
    struct pubsub_subopts kept = o;
    assert_int_equal(
        pubsub_subopts_apply_form(
            &o, options_submit(a, "<field var='pubsub#digest'><value>1</value></field>"), a, &err),
        HERALD_EINVAL);
    assert_int_equal(
        pubsub_subopts_apply_form(&o,
                                  options_submit(a, "<field var='pubsub#include_body'><value>true"
                                                    "</value></field>"),
                                  a, &err),
        HERALD_EINVAL);
    assert_memory_equal(&kept, &o, sizeof(o));
    assert_int_equal(o.show_values, PUBSUB_SHOW_DND | PUBSUB_SHOW_XA);
    assert_false(o.expire_presence);
    assert_int_equal(o.expire_at_us, INT64_C(1141145999) * 1000000); /* 16:59:59Z */
    assert_int_equal(o.subscription_depth, 0);
    /* §12.4: "presence" makes the subscription temporary; an empty show-values is "all". */
    assert_int_equal(
        pubsub_subopts_apply_form(&o,
                                  options_submit(a, "<field var='pubsub#expire'><value>presence"
                                                    "</value></field>"
                                                    "<field var='pubsub#show-values'/>"),
                                  a, &err),
        HERALD_OK);
    assert_true(o.expire_presence);
    assert_int_equal(o.expire_at_us, 0);
    assert_int_equal(o.show_values, PUBSUB_SHOW_ALL);
    /* An empty expire ends the lease or temporariness. */
    assert_int_equal(
        pubsub_subopts_apply_form(&o, options_submit(a, "<field var='pubsub#expire'/>"), a, &err),
        HERALD_OK);
    assert_false(o.expire_presence);
    /* A cancel form changes nothing. */
    struct pubsub_subopts before = o;
    assert_int_equal(pubsub_subopts_apply_form(
                         &o, xml_from(a, "<x xmlns='jabber:x:data' type='cancel'/>"), a, &err),
                     HERALD_OK);
    assert_memory_equal(&o, &before, sizeof(o));
}

/* XEP-0060 §6.3.5.2: invalid options are bad-request + <invalid-options/>, and change
 * nothing. */
static void test_pubsub_config__subopts_rejections_6_3_5(void **state)
{
    struct arena *a = *state;
    static const struct reject_case C[] = {
        {"<field var='pubsub#deliver'><value>maybe</value></field>", "bad-request",
         "invalid-options"},
        {"<field var='pubsub#show-values'><value>chat</value><value>sleeping</value></field>",
         "bad-request", "invalid-options"},
        {"<field var='pubsub#digest_frequency'><value>0</value></field>", "bad-request",
         "invalid-options"},
        {"<field var='pubsub#digest_frequency'><value>soon</value></field>", "bad-request",
         "invalid-options"},
        {"<field var='pubsub#expire'><value>tomorrow</value></field>", "bad-request",
         "invalid-options"},
        {"<field var='pubsub#expire'><value>2006-02-30T11:59:59Z</value></field>", "bad-request",
         "invalid-options"},
        {"<field var='pubsub#expire'><value>1969-12-31T23:59:59Z</value></field>", "bad-request",
         "invalid-options"},
        {"<field var='pubsub#subscription_type'><value>nodes</value></field>", "bad-request",
         "invalid-options"},
        {"<field var='pubsub#subscription_depth'><value>2</value></field>", "bad-request",
         "invalid-options"},
        {"<field var='pubsub#unknown'><value>1</value></field>", "bad-request", "invalid-options"},
        {"<field var='pubsub#deliver'><value>0</value></field>"
         "<field var='pubsub#digest'><value>2</value></field>",
         "bad-request", "invalid-options"},
        {"<field var='pubsub#deliver'><value>0</value><value>1</value></field>", "bad-request",
         NULL},
        {"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
         "<value>" PUBSUB_NS_NODE_CONFIG "</value></field></x>",
         "bad-request", "invalid-options"},
        {"<x xmlns='jabber:x:data' type='form'/>", "bad-request", NULL},
        {"<options xmlns='http://jabber.org/protocol/pubsub'/>", "bad-request", NULL},
    };
    for (size_t i = 0; i < sizeof(C) / sizeof(C[0]); i++) {
        struct pubsub_subopts o, before;
        struct xmpp_error err = {0};
        pubsub_subopts_defaults(&o);
        before = o;
        struct xml_node *x = C[i].form[1] == 'x' || C[i].form[1] == 'o'
                                 ? xml_from(a, C[i].form)
                                 : options_submit(a, C[i].form);
        if (pubsub_subopts_apply_form(&o, x, a, &err) != HERALD_EINVAL)
            fail_msg("case %zu accepted", i);
        assert_error(&err, C[i].condition, C[i].app);
        assert_memory_equal(&o, &before, sizeof(o));
    }
}

/* ---- XEP-0082 DateTime ---- */

static void test_pubsub_config__datetime_xep0082(void **state)
{
    struct arena *a = *state;
    int64_t us = 0, us2 = 0;
    /* XEP-0082 §3.2 examples: the same instant in UTC and in Houston time. */
    assert_int_equal(pubsub_datetime_parse("1969-07-21T02:56:15Z", &us), HERALD_OK);
    assert_int_equal(us, INT64_C(-14159025) * 1000000);
    assert_int_equal(pubsub_datetime_parse("1969-07-20T21:56:15-05:00", &us2), HERALD_OK);
    assert_int_equal(us, us2);
    assert_string_equal(pubsub_datetime_format(a, us), "1969-07-21T02:56:15Z");
    assert_int_equal(pubsub_datetime_parse("2003-07-29T22:56:10.123456789Z", &us), HERALD_OK);
    assert_int_equal(us, INT64_C(1059519370123456));
    assert_string_equal(pubsub_datetime_format(a, us), "2003-07-29T22:56:10.123456Z");
    assert_int_equal(pubsub_datetime_parse("2000-02-29T00:00:00.5+01:00", &us), HERALD_OK);
    assert_string_equal(pubsub_datetime_format(a, us), "2000-02-28T23:00:00.5Z");
    assert_int_equal(pubsub_datetime_parse("2006-01-01T14:00:00+14:00", &us), HERALD_OK);
    assert_string_equal(pubsub_datetime_format(a, us), "2006-01-01T00:00:00Z");
    assert_int_equal(pubsub_datetime_parse("9999-12-31T23:59:59Z", &us), HERALD_OK);
    assert_string_equal(pubsub_datetime_format(a, us), "9999-12-31T23:59:59Z");
    static const char *const BAD[] = {
        "",
        "2006-02-28",
        "2006-02-28T23:59:59",
        "2006-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2006-13-01T00:00:00Z",
        "2006-00-01T00:00:00Z",
        "2006-01-01T24:00:00Z",
        "2006-01-01T23:60:00Z",
        "2006-01-01T23:59:60Z",
        "2006-01-01 23:59:59Z",
        "2006-01-01T23:59:59.Z",
        "2006-01-01T23:59:59+5:00",
        "2006-01-01T23:59:59+15:00",
        "2006-01-01T23:59:59Zjunk",
        "0000-01-01T00:00:00Z",
        "-2006-01-01T00:00:00Z",
        "20060101T23:59:59Z",
        "2006-01-01T23:59:59+14:30",
    };
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++)
        if (pubsub_datetime_parse(BAD[i], &us) != HERALD_EINVAL)
            fail_msg("accepted %s", BAD[i]);
    assert_null(pubsub_datetime_format(a, INT64_C(253402300800) * 1000000)); /* year 10000 */
}

/* ---- stored records (schemas/store.md) ---- */

static void roundtrip_config(const struct pubsub_config *c)
{
    size_t len;
    char *rec = record_of(c, &len);
    struct pubsub_config d;
    assert_int_equal(pubsub_config_decode(rec, len, &d), HERALD_OK);
    assert_config_equal(c, &d);
    assert_int_equal(d.max_items, c->max_items);
    if (c->title)
        assert_string_equal(d.title, c->title);
    else
        assert_null(d.title);
    assert_int_equal(d.contact.n, c->contact.n);
    pubsub_config_cleanup(&d);
    free(rec);
}

static void test_pubsub_config__codec_config_roundtrip(void **state)
{
    (void)state;
    struct pubsub_config c;
    pubsub_config_defaults(&LIM, false, &c); /* minimal: no strings, no lists */
    roundtrip_config(&c);
    pubsub_config_cleanup(&c);
    full_config(&c);
    c.max_items_is_max = true;
    c.max_items = UINT64_MAX;
    roundtrip_config(&c);
    set_str(&c.title, "");
    roundtrip_config(&c);
    pubsub_config_cleanup(&c);
}

static void test_pubsub_config__codec_subopts_roundtrip(void **state)
{
    (void)state;
    struct pubsub_subopts o, d;
    struct buf b;
    pubsub_subopts_defaults(&o);
    for (int round = 0; round < 2; round++) {
        buf_init(&b, 0);
        assert_int_equal(pubsub_subopts_encode(&o, &b), HERALD_OK);
        memset(&d, 0xa5, sizeof(d));
        assert_int_equal(pubsub_subopts_decode(b.data, b.len, &d), HERALD_OK);
        assert_int_equal(d.deliver, o.deliver);
        assert_int_equal(d.digest, o.digest);
        assert_int_equal(d.digest_frequency, o.digest_frequency);
        assert_int_equal(d.include_body, o.include_body);
        assert_int_equal(d.show_values, o.show_values);
        assert_int_equal(d.expire_presence, o.expire_presence);
        assert_int_equal(d.expire_at_us, o.expire_at_us);
        assert_int_equal(d.subscription_type, o.subscription_type);
        assert_int_equal(d.subscription_depth, o.subscription_depth);
        buf_cleanup(&b);
        o = (struct pubsub_subopts){.deliver = false,
                                    .digest = true,
                                    .digest_frequency = 1,
                                    .include_body = true,
                                    .show_values = PUBSUB_SHOW_DND,
                                    .expire_presence = true,
                                    .expire_at_us = -5,
                                    .subscription_type = PUBSUB_SUBTYPE_NODES,
                                    .subscription_depth = 0};
    }
    o.show_values = 0x20;
    buf_init(&b, 0);
    assert_int_equal(pubsub_subopts_encode(&o, &b), HERALD_EINVAL);
    buf_cleanup(&b);
}

/* Every prefix of a record is refused, and so is every byte added after it. */
static void expect_prefixes_refused(const char *rec, size_t len, bool config)
{
    for (size_t n = 0; n < len; n++) {
        struct pubsub_config c;
        struct pubsub_subopts o;
        enum herald_rc rc =
            config ? pubsub_config_decode(rec, n, &c) : pubsub_subopts_decode(rec, n, &o);
        if (rc != HERALD_EPROTO)
            fail_msg("a record cut at %zu of %zu bytes was accepted", n, len);
    }
    char *longer = malloc(len + 1);
    memcpy(longer, rec, len);
    longer[len] = 0;
    struct pubsub_config c;
    struct pubsub_subopts o;
    assert_int_equal(config ? pubsub_config_decode(longer, len + 1, &c)
                            : pubsub_subopts_decode(longer, len + 1, &o),
                     HERALD_EPROTO);
    free(longer);
}

static void test_pubsub_config__codec_refuses_truncated(void **state)
{
    (void)state;
    struct pubsub_config c;
    full_config(&c);
    size_t len;
    char *rec = record_of(&c, &len);
    expect_prefixes_refused(rec, len, true);
    free(rec);
    pubsub_config_cleanup(&c);
    struct pubsub_subopts o;
    pubsub_subopts_defaults(&o);
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(pubsub_subopts_encode(&o, &b), HERALD_OK);
    expect_prefixes_refused(b.data, b.len, false);
    buf_cleanup(&b);
}

/* Decode after replacing bytes [at, at+n) of a good record, or appending. */
static enum herald_rc decode_patched(const char *rec, size_t len, size_t at, const void *bytes,
                                     size_t n, bool config)
{
    char *p = malloc(len + n);
    memcpy(p, rec, len);
    memcpy(p + at, bytes, n);
    struct pubsub_config c;
    struct pubsub_subopts o;
    size_t plen = at + n > len ? at + n : len;
    enum herald_rc rc =
        config ? pubsub_config_decode(p, plen, &c) : pubsub_subopts_decode(p, plen, &o);
    if (rc == HERALD_OK && config)
        pubsub_config_cleanup(&c);
    free(p);
    return rc;
}

static void test_pubsub_config__codec_refuses_malformed(void **state)
{
    (void)state;
    struct pubsub_config c;
    pubsub_config_defaults(&LIM, false, &c);
    size_t len;
    char *rec = record_of(&c, &len);
    /* Layout of a default record: version, then access_model (tag 1), ... end tag. */
    assert_int_equal(rec[0], 1);
    assert_int_equal(rec[1], 1);
    assert_int_equal(rec[len - 1], 0);
    assert_int_equal(decode_patched(rec, len, 0, "\x00", 1, true), HERALD_EPROTO); /* version */
    assert_int_equal(decode_patched(rec, len, 0, "\x02", 1, true), HERALD_EPROTO);
    assert_int_equal(decode_patched(rec, len, 1, "\x63", 1, true), HERALD_EPROTO); /* tag 99 */
    assert_int_equal(decode_patched(rec, len, 1, "\x02", 1, true), HERALD_EPROTO); /* twice */
    assert_int_equal(decode_patched(rec, len, 2, "\x05", 1, true), HERALD_EPROTO); /* enum */
    /* A string tag appended after the end tag, or replacing it with a huge length. */
    assert_int_equal(decode_patched(rec, len, len - 1, "\x20\xff\xff\xff\xff\x00", 6, true),
                     HERALD_EPROTO);
    /* A title one byte over the limit, well-formed otherwise. */
    size_t big = PUBSUB_CONFIG_STR_MAX + 1;
    char *t = malloc(5 + big + 1);
    t[0] = 0x20;
    t[1] = (char)(big >> 24);
    t[2] = (char)(big >> 16);
    t[3] = (char)(big >> 8);
    t[4] = (char)big;
    memset(t + 5, 'a', big);
    t[5 + big] = 0;
    assert_int_equal(decode_patched(rec, len, len - 1, t, 5 + big + 1, true), HERALD_EPROTO);
    t[3] = (char)((big - 1) >> 8); /* at the limit: fine */
    t[4] = (char)(big - 1);
    t[5 + big - 1] = 0; /* the end tag */
    assert_int_equal(decode_patched(rec, len, len - 1, t, 5 + big, true), HERALD_OK);
    free(t);
    /* A title with a NUL or invalid UTF-8 inside; a list longer than the limit. */
    assert_int_equal(decode_patched(rec, len, len - 1,
                                    "\x20\x00\x00\x00\x02"
                                    "a\x00\x00",
                                    8, true),
                     HERALD_EPROTO);
    assert_int_equal(decode_patched(rec, len, len - 1,
                                    "\x20\x00\x00\x00\x02"
                                    "a\xff\x00",
                                    8, true),
                     HERALD_EPROTO);
    assert_int_equal(decode_patched(rec, len, len - 1, "\x30\x00\x00\x01\x01\x00", 6, true),
                     HERALD_EPROTO);
    /* roster_groups_allowed with PUBSUB_CONFIG_LIST_MAX entries, and with one more. */
    for (size_t n = PUBSUB_CONFIG_LIST_MAX; n <= PUBSUB_CONFIG_LIST_MAX + 1; n++) {
        char *l = malloc(5 + 5 * n + 1);
        l[0] = 0x30;
        l[1] = l[2] = 0;
        l[3] = (char)(n >> 8);
        l[4] = (char)n;
        for (size_t i = 0; i < n; i++)
            memcpy(l + 5 + 5 * i, "\x00\x00\x00\x01g", 5);
        l[5 + 5 * n] = 0;
        assert_int_equal(decode_patched(rec, len, len - 1, l, 5 + 5 * n + 1, true),
                         n > PUBSUB_CONFIG_LIST_MAX ? HERALD_EPROTO : HERALD_OK);
        free(l);
    }
    /* A boolean that is neither 0 nor 1: tag 8 (max_items_is_max) follows the u64 of tag 7. */
    size_t at = 1;
    while (at < len && rec[at] != 8)
        at += rec[at] == 7 || rec[at] == 9 || rec[at] == 10 ? 9 : 2;
    assert_int_equal(rec[at], 8);
    assert_int_equal(decode_patched(rec, len, at + 1, "\x02", 1, true), HERALD_EPROTO);
    /* A mandatory scalar missing: drop the access_model tag and its value. */
    assert_int_equal(pubsub_config_decode(rec + 2, len - 2, &c), HERALD_EPROTO); /* no version */
    char *m = malloc(len);
    m[0] = 1;
    memcpy(m + 1, rec + 3, len - 3);
    assert_int_equal(pubsub_config_decode(m, len - 2, &c), HERALD_EPROTO);
    free(m);
    free(rec);
    /* The encoder refuses what the decoder would. */
    struct buf b;
    buf_init(&b, 0);
    c.access_model = (enum pubsub_access_model)7;
    assert_int_equal(pubsub_config_encode(&c, &b), HERALD_EINVAL);
    c.access_model = PUBSUB_ACCESS_OPEN;
    c.title = herald_malloc(HERALD_MEM_PUBSUB, PUBSUB_CONFIG_STR_MAX + 2);
    assert_non_null(c.title);
    memset(c.title, 'a', PUBSUB_CONFIG_STR_MAX + 1);
    c.title[PUBSUB_CONFIG_STR_MAX + 1] = '\0';
    assert_int_equal(pubsub_config_encode(&c, &b), HERALD_EINVAL);
    buf_cleanup(&b);
    pubsub_config_cleanup(&c);

    /* Subscription options: version, unknown tag, repeated tag, bad values. */
    struct pubsub_subopts o;
    pubsub_subopts_defaults(&o);
    buf_init(&b, 0);
    assert_int_equal(pubsub_subopts_encode(&o, &b), HERALD_OK);
    assert_int_equal(decode_patched(b.data, b.len, 0, "\x09", 1, false), HERALD_EPROTO);
    assert_int_equal(decode_patched(b.data, b.len, 1, "\x0a", 1, false), HERALD_EPROTO);
    assert_int_equal(decode_patched(b.data, b.len, 1, "\x02", 1, false), HERALD_EPROTO);
    assert_int_equal(decode_patched(b.data, b.len, 2, "\x02", 1, false), HERALD_EPROTO);
    /* Every option is mandatory: a record of the version and end tag alone is refused. */
    assert_int_equal(pubsub_subopts_decode("\x01\x00", 2, &o), HERALD_EPROTO);
    /* show-values bits beyond the five show values */
    size_t sv = 1;
    while (b.data[sv] != 5)
        sv += b.data[sv] == 3 || b.data[sv] == 7 ? 9 : b.data[sv] == 9 ? 5 : 2;
    assert_int_equal(decode_patched(b.data, b.len, sv + 1, "\x20", 1, false), HERALD_EPROTO);
    assert_int_equal(decode_patched(b.data, b.len, sv + 1, "\x1f", 1, false), HERALD_OK);
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(test_pubsub_config__##name, setup, teardown)
        T(defaults_service_8_3),
        T(defaults_pep_xep0163_4_3),
        T(access_model_names_17_4),
        T(to_form_matches_xep_8_2_1),
        T(to_form_shows_current_values_8_2_1),
        T(apply_xep_8_2_4_example),
        T(apply_every_field_17_4),
        T(apply_max_items_max_17_4),
        T(apply_empty_fields_unset_texts_8_2_4),
        T(apply_cancel_keeps_config_8_2_4),
        T(apply_form_type_variants_7_1_5),
        T(apply_rejections_change_nothing_8_2_5),
        T(rejection_text_names_field_8_2_5),
        T(preconditions_met_7_1_5),
        T(preconditions_not_met_7_1_5),
        T(preconditions_invalid_forms_7_1_5),
        T(meta_form_5_4),
        T(subopts_defaults_6_4),
        T(subopts_form_6_3_2),
        T(subopts_apply_6_3_4),
        T(subopts_rejections_6_3_5),
        T(datetime_xep0082),
        T(codec_config_roundtrip),
        T(codec_subopts_roundtrip),
        T(codec_refuses_truncated),
        T(codec_refuses_malformed),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
