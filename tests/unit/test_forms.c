/*
 * test_forms.c - XEP-0004 data forms: parsing (the XEP's own examples), every rejection,
 * build -> write -> parse round trips, value parsing, and validation against a spec table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "herald/forms.h"
#include "herald/xml.h"

/* XEP-0004 example: Service Returns Bot Creation Form */
static const char XEP4_BOT_FORM[] =
    "<x xmlns='jabber:x:data' type='form'>\n"
    "  <title>Bot Configuration</title>\n"
    "  <instructions>Fill out this form to configure your new bot!</instructions>\n"
    "  <field type='hidden'\n"
    "         var='FORM_TYPE'>\n"
    "    <value>jabber:bot</value>\n"
    "  </field>\n"
    "  <field type='fixed'><value>Section 1: Bot Info</value></field>\n"
    "  <field type='text-single'\n"
    "         label='The name of your bot'\n"
    "         var='botname'/>\n"
    "  <field type='text-multi'\n"
    "         label='Helpful description of your bot'\n"
    "         var='description'/>\n"
    "  <field type='boolean'\n"
    "         label='Public bot?'\n"
    "         var='public'>\n"
    "    <required/>\n"
    "  </field>\n"
    "  <field type='text-private'\n"
    "         label='Password for special access'\n"
    "         var='password'/>\n"
    "  <field type='fixed'><value>Section 2: Features</value></field>\n"
    "  <field type='list-multi'\n"
    "         label='What features will the bot support?'\n"
    "         var='features'>\n"
    "    <option label='Contests'><value>contests</value></option>\n"
    "    <option label='News'><value>news</value></option>\n"
    "    <option label='Polls'><value>polls</value></option>\n"
    "    <option label='Reminders'><value>reminders</value></option>\n"
    "    <option label='Search'><value>search</value></option>\n"
    "    <value>news</value>\n"
    "    <value>search</value>\n"
    "  </field>\n"
    "  <field type='fixed'><value>Section 3: Subscriber List</value></field>\n"
    "  <field type='list-single'\n"
    "         label='Maximum number of subscribers'\n"
    "         var='maxsubs'>\n"
    "    <value>20</value>\n"
    "    <option label='10'><value>10</value></option>\n"
    "    <option label='20'><value>20</value></option>\n"
    "    <option label='30'><value>30</value></option>\n"
    "    <option label='50'><value>50</value></option>\n"
    "    <option label='100'><value>100</value></option>\n"
    "    <option label='None'><value>none</value></option>\n"
    "  </field>\n"
    "  <field type='fixed'><value>Section 4: Invitations</value></field>\n"
    "  <field type='jid-multi'\n"
    "         label='People to invite'\n"
    "         var='invitelist'>\n"
    "    <desc>Tell all your friends about your new bot!</desc>\n"
    "  </field>\n"
    "</x>";

/* XEP-0004 example: User Submits Bot Creation Form */
static const char XEP4_BOT_SUBMIT[] =
    "<x xmlns='jabber:x:data' type='submit'>\n"
    "  <field type='hidden' var='FORM_TYPE'>\n"
    "    <value>jabber:bot</value>\n"
    "  </field>\n"
    "  <field type='text-single' var='botname'>\n"
    "    <value>The Jabber Google Bot</value>\n"
    "  </field>\n"
    "  <field type='text-multi' var='description'>\n"
    "    <value>This bot enables you to send requests to</value>\n"
    "    <value>Google and receive the search results right</value>\n"
    "    <value>in your Jabber client. It&apos; really cool!</value>\n"
    "    <value>It even supports Google News!</value>\n"
    "  </field>\n"
    "  <field type='boolean' var='public'>\n"
    "    <value>0</value>\n"
    "  </field>\n"
    "  <field type='text-private' var='password'>\n"
    "    <value>v3r0na</value>\n"
    "  </field>\n"
    "  <field type='list-multi' var='features'>\n"
    "    <value>news</value>\n"
    "    <value>search</value>\n"
    "  </field>\n"
    "  <field type='list-single' var='maxsubs'>\n"
    "    <value>50</value>\n"
    "  </field>\n"
    "  <field type='jid-multi' var='invitelist'>\n"
    "    <value>juliet@capulet.com</value>\n"
    "    <value>benvolio@montague.net</value>\n"
    "  </field>\n"
    "</x>";

/* XEP-0004 example: Service Returns Bot Creation Result */
static const char XEP4_BOT_RESULT[] = "<x xmlns='jabber:x:data' type='result'>\n"
                                      "  <field type='hidden' var='FORM_TYPE'>\n"
                                      "    <value>jabber:bot</value>\n"
                                      "  </field>\n"
                                      "  <field type='text-single' var='botname'>\n"
                                      "    <value>The Jabber Google Bot</value>\n"
                                      "  </field>\n"
                                      "  <field type='boolean' var='public'>\n"
                                      "    <value>0</value>\n"
                                      "  </field>\n"
                                      "  <field type='text-private' var='password'>\n"
                                      "    <value>v3r0na</value>\n"
                                      "  </field>\n"
                                      "  <field type='list-multi' var='features'>\n"
                                      "    <value>news</value>\n"
                                      "    <value>search</value>\n"
                                      "  </field>\n"
                                      "  <field type='list-single' var='maxsubs'>\n"
                                      "    <value>50</value>\n"
                                      "  </field>\n"
                                      "  <field type='jid-multi' var='invitelist'>\n"
                                      "    <value>juliet@capulet.com</value>\n"
                                      "    <value>benvolio@montague.net</value>\n"
                                      "  </field>\n"
                                      "</x>";

/* XEP-0004 example: Service Returns Search Form */
static const char XEP4_SEARCH_FORM[] =
    "<x xmlns='jabber:x:data' type='form'>\n"
    "  <title>Joogle Search</title>\n"
    "  <instructions>Fill out this form to search for information!</instructions>\n"
    "  <field type='text-single'\n"
    "         var='search_request'>\n"
    "    <required/>\n"
    "  </field>\n"
    "</x>";

/* XEP-0004 example: User Submits Search Form */
static const char XEP4_SEARCH_SUBMIT[] = "<x xmlns='jabber:x:data' type='submit'>\n"
                                         "  <field type='text-single' var='search_request'>\n"
                                         "    <value>verona</value>\n"
                                         "  </field>\n"
                                         "</x>";

/* XEP-0004 example: Service Returns Search Results */
static const char XEP4_SEARCH_RESULTS[] =
    "<x xmlns='jabber:x:data' type='result'>\n"
    "  <title>Joogle Search: verona</title>\n"
    "  <reported>\n"
    "    <field var='name'/>\n"
    "    <field var='url'/>\n"
    "  </reported>\n"
    "  <item>\n"
    "    <field var='name'>\n"
    "      <value>Comune di Verona - Benvenuti nel sito ufficiale</value>\n"
    "    </field>\n"
    "    <field var='url'>\n"
    "      <value>http://www.comune.verona.it/</value>\n"
    "    </field>\n"
    "  </item>\n"
    "  <item>\n"
    "    <field var='name'>\n"
    "      <value>benvenuto!</value>\n"
    "    </field>\n"
    "    <field var='url'>\n"
    "      <value>http://www.hellasverona.it/</value>\n"
    "    </field>\n"
    "  </item>\n"
    "  <item>\n"
    "    <field var='name'>\n"
    "      <value>Universita degli Studi di Verona - Home Page</value>\n"
    "    </field>\n"
    "    <field var='url'>\n"
    "      <value>http://www.univr.it/</value>\n"
    "    </field>\n"
    "  </item>\n"
    "  <item>\n"
    "    <field var='name'>\n"
    "      <value>Aeroporti del Garda</value>\n"
    "    </field>\n"
    "    <field var='url'>\n"
    "      <value>http://www.aeroportoverona.it/</value>\n"
    "    </field>\n"
    "  </item>\n"
    "  <item>\n"
    "    <field var='name'>\n"
    "      <value>Veronafiere - fiera di Verona</value>\n"
    "    </field>\n"
    "    <field var='url'>\n"
    "      <value>http://www.veronafiere.it/</value>\n"
    "    </field>\n"
    "  </item>\n"
    "</x>";

/* XEP-0060 example: Owner submits node configuration form */
static const char XEP60_CONFIG_SUBMIT[] =
    "<x xmlns='jabber:x:data' type='submit'>\n"
    "  <field var='FORM_TYPE' type='hidden'>\n"
    "    <value>http://jabber.org/protocol/pubsub#node_config</value>\n"
    "  </field>\n"
    "  <field var='pubsub#title'><value>Princely Musings (Atom)</value></field>\n"
    "  <field var='pubsub#deliver_notifications'><value>1</value></field>\n"
    "  <field var='pubsub#deliver_payloads'><value>1</value></field>\n"
    "  <field var='pubsub#persist_items'><value>1</value></field>\n"
    "  <field var='pubsub#max_items'><value>10</value></field>\n"
    "  <field var='pubsub#item_expire'><value>604800</value></field>\n"
    "  <field var='pubsub#access_model'><value>roster</value></field>\n"
    "  <field var='pubsub#roster_groups_allowed'>\n"
    "    <value>friends</value>\n"
    "    <value>servants</value>\n"
    "    <value>courtiers</value>\n"
    "  </field>\n"
    "  <field var='pubsub#publish_model'><value>publishers</value></field>\n"
    "  <field var='pubsub#purge_offline'><value>0</value></field>\n"
    "  <field var='pubsub#send_last_published_item'><value>never</value></field>\n"
    "  <field var='pubsub#presence_based_delivery'><value>false</value></field>\n"
    "  <field var='pubsub#notification_type'><value>headline</value></field>\n"
    "  <field var='pubsub#notify_config'><value>0</value></field>\n"
    "  <field var='pubsub#notify_delete'><value>0</value></field>\n"
    "  <field var='pubsub#notify_retract'><value>0</value></field>\n"
    "  <field var='pubsub#notify_sub'><value>0</value></field>\n"
    "  <field var='pubsub#max_payload_size'><value>1028</value></field>\n"
    "  <field var='pubsub#type'><value>urn:example:e2ee:bundle</value></field>\n"
    "  <field var='pubsub#body_xslt'>\n"
    "    <value>http://jabxslt.jabberstudio.org/atom_body.xslt</value>\n"
    "  </field>\n"
    "</x>";

/* ---- helpers ---- */

static int setup(void **state)
{
    *state = arena_new(0);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    struct arena *a = *state;
    arena_free(&a);
    return 0;
}

static struct xml_node *xml_from(struct arena *a, const char *text)
{
    struct xml_node *root = NULL;
    assert_int_equal(xml_parse_fragment(a, text, strlen(text), 32, &root), HERALD_OK);
    assert_non_null(root);
    return root;
}

static struct forms_form *parse_ok(struct arena *a, const char *text)
{
    struct forms_form *f = NULL;
    const char *why = NULL;
    enum herald_rc rc = forms_form_parse(a, xml_from(a, text), NULL, &f, &why);
    if (rc != HERALD_OK)
        fail_msg("forms_form_parse: %s (%s)", herald_rc_str(rc), why ? why : "?");
    assert_non_null(f);
    return f;
}

static void expect_reject_lim(struct arena *a, const char *text, const struct forms_limits *lim,
                              enum herald_rc want, const char *reason)
{
    struct forms_form *f = NULL;
    const char *why = NULL;
    enum herald_rc rc = forms_form_parse(a, xml_from(a, text), lim, &f, &why);
    if (rc != want)
        fail_msg("%s: got %s, want %s (%s)", text, herald_rc_str(rc), herald_rc_str(want),
                 why ? why : "no reason");
    assert_non_null(why);
    assert_string_equal(why, reason);
    assert_null(f);
}

static void expect_reject(struct arena *a, const char *text, const char *reason)
{
    expect_reject_lim(a, text, NULL, HERALD_EPROTO, reason);
}

static struct forms_field *field(const struct forms_form *f, const char *var)
{
    struct forms_field *fl = forms_form_find_field(f, var);
    if (fl == NULL)
        fail_msg("no field %s", var);
    return fl;
}

static struct forms_field *nth_field(const struct forms_fields *l, size_t n)
{
    struct forms_field *fl = l->first;
    while (fl && n--)
        fl = fl->next;
    assert_non_null(fl);
    return fl;
}

static void assert_values(const struct forms_field *fl, size_t n, ...)
{
    va_list ap;
    assert_int_equal(fl->nvalues, n);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(fl->values[i], va_arg(ap, const char *));
    va_end(ap);
}

static void assert_str_or_null(const char *x, const char *y)
{
    if (x == NULL || y == NULL)
        assert_ptr_equal(x, y);
    else
        assert_string_equal(x, y);
}

static void assert_fields_equal(const struct forms_fields *x, const struct forms_fields *y)
{
    assert_int_equal(x->count, y->count);
    const struct forms_field *p = x->first, *q = y->first;
    for (; p && q; p = p->next, q = q->next) {
        assert_str_or_null(p->var, q->var);
        assert_int_equal(p->type, q->type);
        assert_str_or_null(p->label, q->label);
        assert_str_or_null(p->desc, q->desc);
        assert_int_equal(p->required, q->required);
        assert_int_equal(p->nvalues, q->nvalues);
        for (size_t i = 0; i < p->nvalues; i++)
            assert_string_equal(p->values[i], q->values[i]);
        assert_int_equal(p->noptions, q->noptions);
        for (size_t i = 0; i < p->noptions; i++) {
            assert_str_or_null(p->options[i].label, q->options[i].label);
            assert_string_equal(p->options[i].value, q->options[i].value);
        }
    }
    assert_null(p);
    assert_null(q);
}

static void assert_forms_equal(const struct forms_form *x, const struct forms_form *y)
{
    assert_int_equal(x->type, y->type);
    assert_str_or_null(x->title, y->title);
    assert_int_equal(x->ninstructions, y->ninstructions);
    for (size_t i = 0; i < x->ninstructions; i++)
        assert_string_equal(x->instructions[i], y->instructions[i]);
    assert_fields_equal(&x->fields, &y->fields);
    assert_int_equal(x->has_reported, y->has_reported);
    assert_fields_equal(&x->reported, &y->reported);
    assert_int_equal(x->nitems, y->nitems);
    const struct forms_item *p = x->items, *q = y->items;
    for (; p && q; p = p->next, q = q->next)
        assert_fields_equal(&p->fields, &q->fields);
    assert_null(p);
    assert_null(q);
}

/* Serialise with xml_write and parse the bytes back: what a peer would receive. */
static struct forms_form *round_trip(struct arena *a, const struct forms_form *f)
{
    struct xml_node *x = NULL;
    assert_int_equal(forms_form_to_xml(a, f, &x), HERALD_OK);
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(xml_write(&b, x, "jabber:client"), HERALD_OK);
    char *text = arena_strndup(a, b.data, b.len);
    buf_cleanup(&b);
    assert_non_null(text);
    return parse_ok(a, text);
}

/* ---- parsing the XEP's examples ---- */

static void test_forms__parses_xep_bot_creation_form(void **state)
{
    struct forms_form *f = parse_ok(*state, XEP4_BOT_FORM);
    assert_int_equal(f->type, FORMS_TYPE_FORM);
    assert_string_equal(f->title, "Bot Configuration");
    assert_int_equal(f->ninstructions, 1);
    assert_string_equal(f->instructions[0], "Fill out this form to configure your new bot!");
    assert_int_equal(f->fields.count, 12);

    const char *ft = NULL;
    assert_int_equal(forms_form_get_form_type(f, &ft), HERALD_OK);
    assert_string_equal(ft, "jabber:bot");

    struct forms_field *fixed = nth_field(&f->fields, 1);
    assert_int_equal(fixed->type, FORMS_FIELD_FIXED);
    assert_null(fixed->var);
    assert_values(fixed, 1, "Section 1: Bot Info");

    struct forms_field *botname = field(f, "botname");
    assert_int_equal(botname->type, FORMS_FIELD_TEXT_SINGLE);
    assert_string_equal(botname->label, "The name of your bot");
    assert_int_equal(botname->nvalues, 0);
    assert_false(botname->required);

    struct forms_field *pub = field(f, "public");
    assert_int_equal(pub->type, FORMS_FIELD_BOOLEAN);
    assert_true(pub->required);
    assert_int_equal(field(f, "password")->type, FORMS_FIELD_TEXT_PRIVATE);
    assert_int_equal(field(f, "description")->type, FORMS_FIELD_TEXT_MULTI);

    struct forms_field *feat = field(f, "features");
    assert_int_equal(feat->type, FORMS_FIELD_LIST_MULTI);
    assert_int_equal(feat->noptions, 5);
    assert_string_equal(feat->options[0].label, "Contests");
    assert_string_equal(feat->options[0].value, "contests");
    assert_string_equal(feat->options[4].value, "search");
    assert_values(feat, 2, "news", "search");
    assert_string_equal(forms_field_first_value(feat), "news");

    struct forms_field *maxsubs = field(f, "maxsubs");
    assert_int_equal(maxsubs->type, FORMS_FIELD_LIST_SINGLE);
    assert_values(maxsubs, 1, "20");
    assert_int_equal(maxsubs->noptions, 6);
    assert_string_equal(maxsubs->options[5].label, "None");
    assert_string_equal(maxsubs->options[5].value, "none");

    struct forms_field *inv = field(f, "invitelist");
    assert_int_equal(inv->type, FORMS_FIELD_JID_MULTI);
    assert_string_equal(inv->desc, "Tell all your friends about your new bot!");
    assert_ptr_equal(f->fields.last, inv);
    assert_false(f->has_reported);
    assert_null(f->items);
}

static void test_forms__parses_xep_bot_submission(void **state)
{
    struct forms_form *f = parse_ok(*state, XEP4_BOT_SUBMIT);
    assert_int_equal(f->type, FORMS_TYPE_SUBMIT);
    assert_null(f->title);
    assert_int_equal(f->fields.count, 8);
    assert_values(field(f, "botname"), 1, "The Jabber Google Bot");
    assert_values(field(f, "description"), 4, "This bot enables you to send requests to",
                  "Google and receive the search results right",
                  "in your Jabber client. It' really cool!", "It even supports Google News!");
    assert_values(field(f, "public"), 1, "0");
    assert_values(field(f, "password"), 1, "v3r0na");
    assert_values(field(f, "features"), 2, "news", "search");
    assert_values(field(f, "maxsubs"), 1, "50");
    assert_values(field(f, "invitelist"), 2, "juliet@capulet.com", "benvolio@montague.net");
    assert_int_equal(field(f, "invitelist")->type, FORMS_FIELD_JID_MULTI);
}

static void test_forms__parses_xep_bot_result(void **state)
{
    struct forms_form *f = parse_ok(*state, XEP4_BOT_RESULT);
    assert_int_equal(f->type, FORMS_TYPE_RESULT);
    assert_int_equal(f->fields.count, 7);
    assert_null(forms_form_find_field(f, "description"));
    assert_string_equal(forms_field_first_value(field(f, "FORM_TYPE")), "jabber:bot");
    assert_values(field(f, "maxsubs"), 1, "50");
}

static void test_forms__parses_xep_search_form_and_submission(void **state)
{
    struct forms_form *f = parse_ok(*state, XEP4_SEARCH_FORM);
    assert_int_equal(f->type, FORMS_TYPE_FORM);
    assert_string_equal(f->title, "Joogle Search");
    struct forms_field *req = field(f, "search_request");
    assert_true(req->required);
    assert_int_equal(req->type, FORMS_FIELD_TEXT_SINGLE);
    const char *ft = NULL;
    assert_int_equal(forms_form_get_form_type(f, &ft), HERALD_ENOTFOUND);

    struct forms_form *s = parse_ok(*state, XEP4_SEARCH_SUBMIT);
    assert_int_equal(s->type, FORMS_TYPE_SUBMIT);
    assert_values(field(s, "search_request"), 1, "verona");
}

static void test_forms__parses_xep_search_results(void **state)
{
    struct forms_form *f = parse_ok(*state, XEP4_SEARCH_RESULTS);
    assert_int_equal(f->type, FORMS_TYPE_RESULT);
    assert_string_equal(f->title, "Joogle Search: verona");
    assert_int_equal(f->fields.count, 0);
    assert_true(f->has_reported);
    assert_int_equal(f->reported.count, 2);
    assert_string_equal(f->reported.first->var, "name");
    assert_string_equal(f->reported.last->var, "url");
    assert_int_equal(f->nitems, 5);
    const struct forms_item *it = f->items;
    assert_values(forms_fields_find(&it->fields, "name"), 1,
                  "Comune di Verona - Benvenuti nel sito ufficiale");
    assert_values(forms_fields_find(&it->fields, "url"), 1, "http://www.comune.verona.it/");
    while (it->next)
        it = it->next;
    assert_ptr_equal(it, f->items_last);
    assert_values(forms_fields_find(&it->fields, "url"), 1, "http://www.veronafiere.it/");
}

static void test_forms__parses_xep60_config_submission(void **state)
{
    struct forms_form *f = parse_ok(*state, XEP60_CONFIG_SUBMIT);
    assert_int_equal(f->fields.count, 21);
    assert_int_equal(field(f, "pubsub#title")->type, FORMS_FIELD_UNSPECIFIED);
    assert_values(field(f, "pubsub#roster_groups_allowed"), 3, "friends", "servants", "courtiers");
}

/* ---- parsing details ---- */

static void test_forms__field_type_defaults_depend_on_form_type(void **state)
{
    struct forms_form *f = parse_ok(*state, "<x xmlns='jabber:x:data' type='form'>"
                                            "<field var='a'/><field var='b' type='fancy'/></x>");
    assert_int_equal(field(f, "a")->type, FORMS_FIELD_TEXT_SINGLE);
    assert_int_equal(field(f, "b")->type, FORMS_FIELD_TEXT_SINGLE);
    f = parse_ok(*state, "<x xmlns='jabber:x:data' type='result'><field var='a'/></x>");
    assert_int_equal(field(f, "a")->type, FORMS_FIELD_UNSPECIFIED);
}

static void test_forms__item_fields_take_reported_types(void **state)
{
    struct forms_form *f =
        parse_ok(*state, "<x xmlns='jabber:x:data' type='result'>"
                         "<item><field var='who'><value>a@b</value></field></item>"
                         "<reported><field var='who' type='jid-single'/></reported>"
                         "<item><field var='who' type='text-single'/></item></x>");
    assert_int_equal(f->nitems, 2);
    assert_int_equal(forms_fields_find(&f->items->fields, "who")->type, FORMS_FIELD_JID_SINGLE);
    assert_int_equal(forms_fields_find(&f->items_last->fields, "who")->type,
                     FORMS_FIELD_TEXT_SINGLE);
}

static void test_forms__ignores_foreign_elements(void **state)
{
    struct forms_form *f = parse_ok(
        *state, "<x xmlns='jabber:x:data' type='form'>"
                "<page xmlns='http://jabber.org/protocol/xdata-layout' label='P1'/>"
                "<field var='n' type='text-single'>"
                "<validate xmlns='http://jabber.org/protocol/xdata-validate' datatype='xs:int'>"
                "<range min='1' max='9'/></validate><value>3</value></field></x>");
    assert_int_equal(f->fields.count, 1);
    assert_values(field(f, "n"), 1, "3");
}

static void test_forms__accepts_multiple_values_where_allowed(void **state)
{
    struct forms_form *f =
        parse_ok(*state, "<x xmlns='jabber:x:data' type='submit'>"
                         "<field var='h' type='hidden'><value>1</value><value>2</value></field>"
                         "<field var='u'><value>1</value><value>2</value></field>"
                         "<field var='opt'><option><value>x</value></option></field>"
                         "<field var='e'><value/></field>"
                         "<field var='r'><required>  </required></field></x>");
    assert_values(field(f, "h"), 2, "1", "2");
    assert_values(field(f, "u"), 2, "1", "2");
    assert_int_equal(field(f, "opt")->noptions, 1);
    assert_values(field(f, "e"), 1, "");
    assert_true(field(f, "r")->required);
}

static void test_forms__decodes_entities_and_keeps_text(void **state)
{
    struct forms_form *f =
        parse_ok(*state, "<x xmlns='jabber:x:data' type='result'><title>a &amp; b</title>"
                         "<instructions>one</instructions><instructions>two</instructions>"
                         "<field var='v&lt;' label='&quot;L&quot;'><value>&lt;p&gt;&#x263A;</value>"
                         "</field></x>");
    assert_string_equal(f->title, "a & b");
    assert_int_equal(f->ninstructions, 2);
    assert_string_equal(f->instructions[1], "two");
    struct forms_field *fl = field(f, "v<");
    assert_string_equal(fl->label, "\"L\"");
    assert_values(fl, 1, "<p>\xe2\x98\xba");
}

static void test_forms__parses_tree_built_with_constructors(void **state)
{
    /* Text split over several text nodes (as a builder may leave it) is joined. */
    struct arena *a = *state;
    struct xml_node *x = xml_elem_new(a, FORMS_NS, "x");
    assert_non_null(x);
    assert_int_equal(xml_set_attr(a, x, "type", "submit"), HERALD_OK);
    struct xml_node *fl = xml_add_child(a, x, FORMS_NS, "field");
    assert_non_null(fl);
    assert_int_equal(xml_set_attr(a, fl, "var", "k"), HERALD_OK);
    struct xml_node *v = xml_add_child(a, fl, FORMS_NS, "value");
    assert_non_null(v);
    assert_int_equal(xml_add_text(a, v, "ab", 2), HERALD_OK);
    assert_int_equal(xml_add_text(a, v, "cd", 2), HERALD_OK);
    assert_non_null(xml_add_child(a, fl, NULL, "note")); /* no namespace: ignored */
    struct forms_form *f = NULL;
    assert_int_equal(forms_form_parse(a, x, NULL, &f, NULL), HERALD_OK);
    assert_values(field(f, "k"), 1, "abcd");
}

/* ---- rejections ---- */

static void test_forms__rejects_bad_root(void **state)
{
    expect_reject(*state, "<x xmlns='jabber:x:oob' type='form'/>", "not a jabber:x:data form");
    expect_reject(*state, "<form xmlns='jabber:x:data' type='form'/>", "not a jabber:x:data form");
    expect_reject(*state, "<x type='form'/>", "not a jabber:x:data form");
}

static void test_forms__rejects_missing_or_unknown_form_type(void **state)
{
    expect_reject(*state, "<x xmlns='jabber:x:data'/>", "form without type");
    expect_reject(*state, "<x xmlns='jabber:x:data' type='error'/>", "unknown form type");
    expect_reject(*state, "<x xmlns='jabber:x:data' type='Submit'/>", "unknown form type");
    expect_reject(*state, "<x xmlns='jabber:x:data' type=''/>", "unknown form type");
}

static void test_forms__rejects_bad_form_children(void **state)
{
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><title>a</title><title>b</title></x>",
                  "several titles");
    expect_reject(*state, "<x xmlns='jabber:x:data' type='form'><foo/></x>",
                  "unknown element in form");
    expect_reject(*state, "<x xmlns='jabber:x:data' type='form'><title>a<b/>c</title></x>",
                  "element inside character data");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><instructions><i xmlns='urn:x'/>"
                  "</instructions></x>",
                  "element inside character data");
}

static void test_forms__rejects_field_without_var(void **state)
{
    expect_reject(*state, "<x xmlns='jabber:x:data' type='form'><field type='text-single'/></x>",
                  "field without var");
    expect_reject(*state, "<x xmlns='jabber:x:data' type='form'><field/></x>", "field without var");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='submit'><field><value>1</value></field></x>",
                  "field without var");
    expect_reject(*state, "<x xmlns='jabber:x:data' type='submit'><field var=''/></x>",
                  "field with an empty var");
    /* Only a fixed field may go without var. */
    struct forms_form *f =
        parse_ok(*state, "<x xmlns='jabber:x:data' type='form'><field type='fixed'/></x>");
    assert_null(f->fields.first->var);
}

static void test_forms__rejects_duplicate_vars(void **state)
{
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='submit'><field var='a'/><field var='b'/>"
                  "<field var='a'/></x>",
                  "duplicate field var");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='result'><reported><field var='a'/>"
                  "<field var='a'/></reported></x>",
                  "duplicate field var");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='result'><reported><field var='a'/></reported>"
                  "<item><field var='a'/><field var='a'/></item></x>",
                  "duplicate field var");
    /* Fixed fields without var, and the same var in two items, are fine. */
    struct forms_form *f =
        parse_ok(*state, "<x xmlns='jabber:x:data' type='result'><field type='fixed'/>"
                         "<field type='fixed'/><field var='a'/><reported><field var='a'/>"
                         "</reported><item><field var='a'/></item><item><field var='a'/>"
                         "</item></x>");
    assert_int_equal(f->fields.count, 3);
    assert_int_equal(f->nitems, 2);
}

static void test_forms__rejects_bad_field_children(void **state)
{
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a'><desc>1</desc>"
                  "<desc>2</desc></field></x>",
                  "field with several desc");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a'><required/><required/>"
                  "</field></x>",
                  "field with several required");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a'><required>yes</required>"
                  "</field></x>",
                  "required is not empty");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a'><required><x/></required>"
                  "</field></x>",
                  "required is not empty");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a'><media/></field></x>",
                  "unknown element in field");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a'><value>a<b/></value>"
                  "</field></x>",
                  "element inside character data");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a'><desc><b/></desc>"
                  "</field></x>",
                  "element inside character data");
}

static void test_forms__rejects_unknown_field_type_outside_form(void **state)
{
    expect_reject(*state, "<x xmlns='jabber:x:data' type='submit'><field var='a' type='int'/></x>",
                  "unknown field type");
    expect_reject(*state, "<x xmlns='jabber:x:data' type='result'><field var='a' type=''/></x>",
                  "unknown field type");
}

static void test_forms__rejects_several_values_in_single_valued_field(void **state)
{
    static const char *const types[] = {"boolean",     "fixed",        "jid-single",
                                        "list-single", "text-private", "text-single"};
    for (size_t i = 0; i < HERALD_ARRAY_LEN(types); i++) {
        for (int form = 0; form < 2; form++) {
            char *text = arena_printf(*state,
                                      "<x xmlns='jabber:x:data' type='%s'><field var='a' "
                                      "type='%s'><value>1</value><value>2</value></field></x>",
                                      form ? "form" : "submit", types[i]);
            assert_non_null(text);
            expect_reject(*state, text, "several values in a single-valued field");
        }
    }
    /* In a form of type form an absent type is text-single. */
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a'><value>1</value>"
                  "<value>2</value></field></x>",
                  "several values in a single-valued field");
}

static void test_forms__rejects_bad_options(void **state)
{
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a' type='text-single'>"
                  "<option><value>1</value></option></field></x>",
                  "option in a field that is not a list");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a'>"
                  "<option><value>1</value></option></field></x>",
                  "option in a field that is not a list");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a' type='list-single'>"
                  "<option label='x'/></field></x>",
                  "option without value");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a' type='list-multi'>"
                  "<option><value>1</value><value>2</value></option></field></x>",
                  "option with several values");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a' type='list-multi'>"
                  "<option><desc/><value>1</value></option></field></x>",
                  "unknown element in option");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a' type='list-single'>"
                  "<option label='A'><value>1</value></option>"
                  "<option label='B'><value>1</value></option></field></x>",
                  "duplicate option");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><field var='a' type='list-single'>"
                  "<option label='A'><value>1</value></option>"
                  "<option label='A'><value>2</value></option></field></x>",
                  "duplicate option");
    /* Options without labels differ by value alone. */
    struct forms_form *f = parse_ok(*state, "<x xmlns='jabber:x:data' type='form'>"
                                            "<field var='a' type='list-single'>"
                                            "<option><value>1</value></option>"
                                            "<option><value>2</value></option></field></x>");
    assert_null(field(f, "a")->options[0].label);
}

static void test_forms__rejects_bad_reported_and_items(void **state)
{
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='form'><reported><field var='a'/></reported></x>",
                  "reported outside a result form");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='submit'><item><field var='a'/></item></x>",
                  "item outside a result form");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='result'><reported><field var='a'/></reported>"
                  "<reported><field var='a'/></reported></x>",
                  "several reported");
    expect_reject(*state, "<x xmlns='jabber:x:data' type='result'><reported/></x>",
                  "empty reported or item");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='result'><reported><field var='a'/></reported>"
                  "<item/></x>",
                  "empty reported or item");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='result'><reported><value/></reported></x>",
                  "unknown element in reported or item");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='result'><item><field var='a'/></item></x>",
                  "items without reported");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='result'><reported><field var='a'/>"
                  "<field var='b'/></reported><item><field var='a'/></item></x>",
                  "item lacks a reported field");
    expect_reject(*state,
                  "<x xmlns='jabber:x:data' type='result'><reported><field var='a' "
                  "type='boolean'/></reported><item><field var='a'><value>1</value>"
                  "<value>0</value></field></item></x>",
                  "several values in a single-valued field");
}

static void test_forms__enforces_limits(void **state)
{
    struct forms_limits lim = {
        .max_fields = 2, .max_values = 2, .max_options = 1, .max_instructions = 1};
    expect_reject_lim(*state,
                      "<x xmlns='jabber:x:data' type='result'><field var='a'/>"
                      "<reported><field var='b'/></reported><item><field var='b'/></item></x>",
                      &lim, HERALD_ELIMIT, "too many fields");
    expect_reject_lim(*state,
                      "<x xmlns='jabber:x:data' type='submit'><field var='a'><value/><value/>"
                      "<value/></field></x>",
                      &lim, HERALD_ELIMIT, "too many values in a field");
    expect_reject_lim(*state,
                      "<x xmlns='jabber:x:data' type='form'><field var='a' type='list-multi'>"
                      "<option><value>1</value></option><option><value>2</value></option>"
                      "</field></x>",
                      &lim, HERALD_ELIMIT, "too many options in a field");
    expect_reject_lim(*state,
                      "<x xmlns='jabber:x:data' type='form'><instructions/><instructions/></x>",
                      &lim, HERALD_ELIMIT, "too many instructions");
    /* Exactly at the limits is fine. */
    struct forms_form *f = NULL;
    const char *text = "<x xmlns='jabber:x:data' type='form'><instructions/>"
                       "<field var='a' type='list-multi'><value>1</value><value>1</value>"
                       "<option><value>1</value></option></field><field var='b'/></x>";
    assert_int_equal(forms_form_parse(*state, xml_from(*state, text), &lim, &f, NULL), HERALD_OK);
}

static void test_forms__reports_enomem_on_every_arena_exhaustion(void **state)
{
    struct xml_node *x = xml_from(*state, XEP4_BOT_FORM);
    enum herald_rc rc = HERALD_ENOMEM;
    size_t limit;
    for (limit = 16; rc == HERALD_ENOMEM; limit += 16) {
        struct arena *small = arena_new(limit);
        assert_non_null(small);
        struct forms_form *f = NULL;
        const char *why = NULL;
        rc = forms_form_parse(small, x, NULL, &f, &why);
        if (rc == HERALD_ENOMEM)
            assert_string_equal(why, "out of memory");
        else
            assert_int_equal(rc, HERALD_OK);
        arena_free(&small);
    }
    assert_true(limit > 1024);
}

/* ---- lookups and values ---- */

static void test_forms__names_round_trip(void **state)
{
    (void)state;
    for (int t = FORMS_TYPE_FORM; t <= FORMS_TYPE_RESULT; t++) {
        enum forms_type back;
        assert_int_equal(forms_type_parse(forms_type_str((enum forms_type)t), &back), HERALD_OK);
        assert_int_equal(back, t);
    }
    for (int t = FORMS_FIELD_BOOLEAN; t <= FORMS_FIELD_TEXT_SINGLE; t++) {
        enum forms_field_type back;
        const char *s = forms_field_type_str((enum forms_field_type)t);
        assert_non_null(s);
        assert_int_equal(forms_field_type_parse(s, &back), HERALD_OK);
        assert_int_equal(back, t);
    }
    enum forms_field_type ft;
    enum forms_type ty;
    assert_null(forms_field_type_str(FORMS_FIELD_UNSPECIFIED));
    assert_null(forms_type_str((enum forms_type)42));
    assert_int_equal(forms_field_type_parse("Boolean", &ft), HERALD_EINVAL);
    assert_int_equal(forms_field_type_parse(NULL, &ft), HERALD_EINVAL);
    assert_int_equal(forms_type_parse("error", &ty), HERALD_EINVAL);
    assert_true(forms_field_type_is_multi(FORMS_FIELD_HIDDEN));
    assert_true(forms_field_type_is_multi(FORMS_FIELD_JID_MULTI));
    assert_true(forms_field_type_is_multi(FORMS_FIELD_LIST_MULTI));
    assert_true(forms_field_type_is_multi(FORMS_FIELD_TEXT_MULTI));
    assert_false(forms_field_type_is_multi(FORMS_FIELD_TEXT_SINGLE));
    assert_false(forms_field_type_is_multi(FORMS_FIELD_FIXED));
    assert_false(forms_field_type_is_multi(FORMS_FIELD_UNSPECIFIED));
    assert_string_equal(forms_error_str(FORMS_ERR_NOT_AN_OPTION), "not-an-option");
    assert_string_equal(forms_error_str(FORMS_ERR_BAD_JID), "bad-jid");
}

static void test_forms__parses_booleans_strictly(void **state)
{
    (void)state;
    bool b = false;
    assert_int_equal(forms_value_bool("1", &b), HERALD_OK);
    assert_true(b);
    assert_int_equal(forms_value_bool("true", &b), HERALD_OK);
    assert_true(b);
    assert_int_equal(forms_value_bool("0", &b), HERALD_OK);
    assert_false(b);
    b = true;
    assert_int_equal(forms_value_bool("false", &b), HERALD_OK);
    assert_false(b);
    static const char *const bad[] = {"", "TRUE", "True", " 1", "1 ", "yes", "on", "01", "2"};
    for (size_t i = 0; i < HERALD_ARRAY_LEN(bad); i++)
        assert_int_equal(forms_value_bool(bad[i], &b), HERALD_EINVAL);
    assert_int_equal(forms_value_bool(NULL, &b), HERALD_EINVAL);
}

static void test_forms__parses_integers_with_range(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(forms_value_int("0", 0, 10, &v), HERALD_OK);
    assert_int_equal(v, 0);
    assert_int_equal(forms_value_int("-5", -10, 10, &v), HERALD_OK);
    assert_int_equal(v, -5);
    assert_int_equal(forms_value_int("+7", 0, 10, &v), HERALD_OK);
    assert_int_equal(v, 7);
    assert_int_equal(forms_value_int("007", 0, 10, &v), HERALD_OK);
    assert_int_equal(v, 7);
    assert_int_equal(forms_value_int("9223372036854775807", INT64_MIN, INT64_MAX, &v), HERALD_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(forms_value_int("-9223372036854775808", INT64_MIN, INT64_MAX, &v), HERALD_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(forms_value_int("9223372036854775808", INT64_MIN, INT64_MAX, &v),
                     HERALD_ELIMIT);
    assert_int_equal(forms_value_int("-9223372036854775809", INT64_MIN, INT64_MAX, &v),
                     HERALD_ELIMIT);
    assert_int_equal(forms_value_int("99999999999999999999999", 0, 1, &v), HERALD_ELIMIT);
    /* 2^64 and 2^64 + 1 would wrap to 0 and 1 in a careless parser. */
    assert_int_equal(forms_value_int("18446744073709551616", 0, 10, &v), HERALD_ELIMIT);
    assert_int_equal(forms_value_int("-18446744073709551617", -10, 10, &v), HERALD_ELIMIT);
    assert_int_equal(forms_value_int("11", 0, 10, &v), HERALD_ELIMIT);
    assert_int_equal(forms_value_int("-1", 0, 10, &v), HERALD_ELIMIT);
    static const char *const bad[] = {"",     "-",   "+",   " 1",  "1 ",  "1.5",
                                      "0x10", "1e3", "--1", "+-1", "abc", "99999999999999999999x"};
    for (size_t i = 0; i < HERALD_ARRAY_LEN(bad); i++)
        assert_int_equal(forms_value_int(bad[i], INT64_MIN, INT64_MAX, &v), HERALD_EINVAL);
    assert_int_equal(forms_value_int(NULL, 0, 1, &v), HERALD_EINVAL);
}

static void test_forms__form_type_lookup(void **state)
{
    const char *ft = NULL;
    struct forms_form *f = parse_ok(*state, "<x xmlns='jabber:x:data' type='submit'>"
                                            "<field var='FORM_TYPE'><value>urn:a</value>"
                                            "<value>urn:a</value></field></x>");
    assert_int_equal(forms_form_get_form_type(f, &ft), HERALD_OK);
    assert_string_equal(ft, "urn:a");
    f = parse_ok(*state, "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
                         "type='hidden'><value>urn:a</value><value>urn:b</value></field></x>");
    assert_int_equal(forms_form_get_form_type(f, &ft), HERALD_EPROTO);
    f = parse_ok(*state, "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
                         "type='hidden'/></x>");
    assert_int_equal(forms_form_get_form_type(f, &ft), HERALD_EPROTO);
    f = parse_ok(*state, "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
                         "type='text-single'><value>urn:a</value></field></x>");
    assert_int_equal(forms_form_get_form_type(f, &ft), HERALD_ENOTFOUND);
    f = parse_ok(*state, "<x xmlns='jabber:x:data' type='result'><field var='x'/></x>");
    assert_int_equal(forms_form_get_form_type(f, &ft), HERALD_ENOTFOUND);
    assert_null(forms_form_find_field(f, "FORM_TYPE"));
    assert_null(forms_form_find_field(f, NULL));
    assert_null(forms_field_first_value(field(f, "x")));
    assert_null(forms_field_first_value(NULL));
}

/* ---- building and serialising ---- */

static struct forms_form *build_config_form(struct arena *a)
{
    struct forms_form *f = forms_form_new(a, FORMS_TYPE_FORM);
    assert_non_null(f);
    struct forms_field *fl;
    assert_int_equal(forms_form_set_title(a, f, "Node <config> & more"), HERALD_OK);
    assert_int_equal(forms_form_add_instructions(a, f, "Line 'one'"), HERALD_OK);
    for (int i = 0; i < 6; i++)
        assert_int_equal(forms_form_add_instructions(a, f, "again"), HERALD_OK);
    assert_int_equal(
        forms_form_add_form_type(a, f, "http://jabber.org/protocol/pubsub#node_config"), HERALD_OK);
    assert_int_equal(forms_form_add_field(a, f, NULL, FORMS_FIELD_FIXED, NULL, &fl), HERALD_OK);
    assert_int_equal(forms_field_add_value(a, fl, "Section \"1\""), HERALD_OK);
    assert_int_equal(
        forms_form_add_field(a, f, "pubsub#max_items", FORMS_FIELD_TEXT_SINGLE, "Max items", &fl),
        HERALD_OK);
    assert_int_equal(forms_field_add_int(a, fl, -9223372036854775807 - 1), HERALD_OK);
    assert_int_equal(forms_field_set_desc(a, fl, "How many"), HERALD_OK);
    fl->required = true;
    assert_int_equal(
        forms_form_add_field(a, f, "pubsub#access_model", FORMS_FIELD_LIST_SINGLE, NULL, &fl),
        HERALD_OK);
    assert_int_equal(forms_field_add_value(a, fl, "open"), HERALD_OK);
    assert_int_equal(forms_field_add_option(a, fl, "Anyone", "open"), HERALD_OK);
    assert_int_equal(forms_field_add_option(a, fl, NULL, "presence"), HERALD_OK);
    for (unsigned i = 0; i < 9; i++) {
        char v[16];
        snprintf(v, sizeof(v), "o%u", i);
        assert_int_equal(forms_field_add_option(a, fl, NULL, v), HERALD_OK);
    }
    assert_int_equal(forms_form_add_field(a, f, "pubsub#contact", FORMS_FIELD_JID_MULTI, NULL, &fl),
                     HERALD_OK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(forms_field_add_value(a, fl, i % 2 ? "" : "a@b\n\r\t<&>"), HERALD_OK);
    assert_int_equal(forms_form_add_field(a, f, "e", FORMS_FIELD_BOOLEAN, "", NULL), HERALD_OK);
    return f;
}

static void test_forms__round_trips_built_form(void **state)
{
    struct forms_form *f = build_config_form(*state);
    assert_int_equal(f->fields.count, 6);
    struct forms_form *back = round_trip(*state, f);
    assert_forms_equal(f, back);
    assert_values(field(back, "pubsub#max_items"), 1, "-9223372036854775808");
    assert_string_equal(field(back, "pubsub#contact")->values[0], "a@b\n\r\t<&>");
}

static void test_forms__round_trips_submit_and_results(void **state)
{
    struct arena *a = *state;
    struct forms_form *s = forms_form_new(a, FORMS_TYPE_SUBMIT);
    assert_non_null(s);
    struct forms_field *fl;
    assert_int_equal(forms_form_add_field(a, s, "u", FORMS_FIELD_UNSPECIFIED, NULL, &fl),
                     HERALD_OK);
    assert_int_equal(forms_field_add_value(a, fl, "1"), HERALD_OK);
    assert_int_equal(forms_field_add_value(a, fl, "2"), HERALD_OK);
    assert_forms_equal(s, round_trip(a, s));

    struct forms_form *r = forms_form_new(a, FORMS_TYPE_RESULT);
    assert_non_null(r);
    assert_int_equal(forms_form_add_reported(a, r, "jid", FORMS_FIELD_JID_SINGLE, "JID", NULL),
                     HERALD_OK);
    assert_int_equal(forms_form_add_reported(a, r, "n", FORMS_FIELD_TEXT_SINGLE, NULL, NULL),
                     HERALD_OK);
    for (int i = 0; i < 3; i++) {
        struct forms_item *it;
        assert_int_equal(forms_form_add_item(a, r, &it), HERALD_OK);
        assert_int_equal(forms_item_add_field(a, it, "jid", &fl), HERALD_OK);
        assert_int_equal(forms_field_add_value(a, fl, "a@b"), HERALD_OK);
        assert_int_equal(forms_item_add_field(a, it, "n", &fl), HERALD_OK);
        assert_int_equal(forms_field_add_int(a, fl, i), HERALD_OK);
    }
    struct forms_form *back = round_trip(a, r);
    assert_int_equal(back->nitems, 3);
    /* The parser gives item fields the reported types; the rest is identical. */
    for (struct forms_item *it = back->items; it; it = it->next) {
        assert_int_equal(forms_fields_find(&it->fields, "jid")->type, FORMS_FIELD_JID_SINGLE);
        for (struct forms_field *x = it->fields.first; x; x = x->next)
            x->type = FORMS_FIELD_UNSPECIFIED;
    }
    assert_forms_equal(r, back);
    assert_values(forms_fields_find(&back->items_last->fields, "n"), 1, "2");

    struct forms_form *c = forms_form_new(a, FORMS_TYPE_CANCEL);
    assert_non_null(c);
    assert_forms_equal(c, round_trip(a, c));
}

static void test_forms__round_trips_xep_examples(void **state)
{
    const char *const examples[] = {XEP4_BOT_FORM,      XEP4_BOT_SUBMIT,    XEP4_BOT_RESULT,
                                    XEP4_SEARCH_FORM,   XEP4_SEARCH_SUBMIT, XEP4_SEARCH_RESULTS,
                                    XEP60_CONFIG_SUBMIT};
    for (size_t i = 0; i < HERALD_ARRAY_LEN(examples); i++) {
        struct forms_form *f = parse_ok(*state, examples[i]);
        assert_forms_equal(f, round_trip(*state, f));
    }
}

static void test_forms__writes_expected_elements(void **state)
{
    struct arena *a = *state;
    struct forms_form *f = build_config_form(a);
    struct xml_node *x = NULL;
    assert_int_equal(forms_form_to_xml(a, f, &x), HERALD_OK);
    assert_true(xml_is(x, FORMS_NS, "x"));
    assert_null(x->parent);
    assert_string_equal(xml_attr(x, "type"), "form");
    assert_true(xml_is(xml_first_elem(x), FORMS_NS, "title"));
    struct xml_node *fl = xml_child(x, FORMS_NS, "field");
    assert_string_equal(xml_attr(fl, "var"), "FORM_TYPE");
    assert_string_equal(xml_attr(fl, "type"), "hidden");
    assert_null(xml_attr(fl, "label"));
    fl = xml_next(fl, FORMS_NS, "field");
    assert_null(xml_attr(fl, "var"));
    fl = xml_next(fl, FORMS_NS, "field");
    assert_string_equal(xml_attr(fl, "label"), "Max items");
    struct xml_node *ch = xml_first_elem(fl);
    assert_true(xml_is(ch, FORMS_NS, "desc"));
    ch = xml_next(ch, NULL, NULL);
    assert_true(xml_is(ch, FORMS_NS, "required"));
    assert_null(ch->first_child);
    assert_true(xml_is(xml_next(ch, NULL, NULL), FORMS_NS, "value"));
    fl = xml_next(fl, FORMS_NS, "field");
    struct xml_node *opt = xml_child(fl, FORMS_NS, "option");
    assert_string_equal(xml_attr(opt, "label"), "Anyone");
    assert_string_equal(xml_child_text(opt, FORMS_NS, "value"), "open");
    assert_null(xml_attr(xml_next(opt, FORMS_NS, "option"), "label"));
    assert_null(xml_child(x, FORMS_NS, "reported"));
}

static void test_forms__builder_rejects_misuse(void **state)
{
    struct arena *a = *state;
    struct forms_form *f = forms_form_new(a, FORMS_TYPE_FORM);
    assert_non_null(f);
    struct forms_field *fl = NULL, *txt = NULL;
    struct forms_item *it = NULL;
    assert_int_equal(forms_form_add_field(a, f, NULL, FORMS_FIELD_TEXT_SINGLE, NULL, &fl),
                     HERALD_EINVAL);
    assert_int_equal(forms_form_add_field(a, f, "", FORMS_FIELD_TEXT_SINGLE, NULL, &fl),
                     HERALD_EINVAL);
    assert_int_equal(forms_form_add_field(a, f, "a", (enum forms_field_type)99, NULL, &fl),
                     HERALD_EINVAL);
    assert_int_equal(forms_form_add_field(a, f, "a", FORMS_FIELD_TEXT_SINGLE, NULL, &txt),
                     HERALD_OK);
    assert_int_equal(forms_form_add_field(a, f, "a", FORMS_FIELD_BOOLEAN, NULL, &fl),
                     HERALD_ECONFLICT);
    assert_int_equal(forms_form_add_form_type(a, f, "urn:x"), HERALD_OK);
    assert_int_equal(forms_form_add_form_type(a, f, "urn:y"), HERALD_ECONFLICT);
    assert_int_equal(f->fields.count, 2);
    assert_int_equal(forms_field_add_value(a, txt, "1"), HERALD_OK);
    assert_int_equal(forms_field_add_value(a, txt, "2"), HERALD_EINVAL);
    assert_int_equal(forms_field_add_value(a, txt, NULL), HERALD_EINVAL);
    assert_int_equal(forms_field_add_option(a, txt, NULL, "x"), HERALD_EINVAL);
    assert_int_equal(forms_form_add_field(a, f, "l", FORMS_FIELD_LIST_MULTI, NULL, &fl), HERALD_OK);
    assert_int_equal(forms_field_add_option(a, fl, "X", "x"), HERALD_OK);
    assert_int_equal(forms_field_add_option(a, fl, "Y", "x"), HERALD_ECONFLICT);
    assert_int_equal(forms_field_add_option(a, fl, "X", "y"), HERALD_ECONFLICT);
    assert_int_equal(forms_field_add_option(a, fl, NULL, NULL), HERALD_EINVAL);
    assert_int_equal(fl->noptions, 1);
    assert_int_equal(forms_form_add_reported(a, f, "r", FORMS_FIELD_TEXT_SINGLE, NULL, &fl),
                     HERALD_EINVAL);
    assert_int_equal(forms_form_add_item(a, f, &it), HERALD_EINVAL);
    assert_int_equal(forms_form_add_instructions(a, f, NULL), HERALD_EINVAL);

    struct forms_form *r = forms_form_new(a, FORMS_TYPE_RESULT);
    assert_non_null(r);
    assert_int_equal(forms_form_add_item(a, r, &it), HERALD_OK);
    assert_int_equal(forms_item_add_field(a, it, NULL, &fl), HERALD_EINVAL);
    assert_int_equal(forms_item_add_field(a, it, "v", &fl), HERALD_OK);
    assert_int_equal(forms_item_add_field(a, it, "v", &fl), HERALD_ECONFLICT);

    /* A hand-made field without var cannot be written. */
    txt->var = NULL;
    struct xml_node *x = NULL;
    assert_int_equal(forms_form_to_xml(a, f, &x), HERALD_EINVAL);
    f->type = (enum forms_type)7;
    assert_int_equal(forms_form_to_xml(a, f, &x), HERALD_EINVAL);
}

static void test_forms__build_and_write_report_enomem(void **state)
{
    (void)state;
    enum herald_rc rc = HERALD_ENOMEM;
    for (size_t limit = 16; rc == HERALD_ENOMEM; limit += 16) {
        struct arena *small = arena_new(limit);
        assert_non_null(small);
        struct forms_form *f = forms_form_new(small, FORMS_TYPE_FORM);
        struct forms_field *fl = NULL;
        struct xml_node *x = NULL;
        rc = f ? HERALD_OK : HERALD_ENOMEM;
        if (rc == HERALD_OK)
            rc = forms_form_add_field(small, f, "l", FORMS_FIELD_LIST_SINGLE, "L", &fl);
        if (rc == HERALD_OK)
            rc = forms_field_add_option(small, fl, "A", "a");
        if (rc == HERALD_OK)
            rc = forms_field_add_value(small, fl, "a");
        if (rc == HERALD_OK)
            rc = forms_field_set_desc(small, fl, "d");
        if (rc == HERALD_OK)
            rc = forms_form_set_title(small, f, "t");
        if (rc == HERALD_OK)
            rc = forms_form_add_instructions(small, f, "i");
        if (rc == HERALD_OK)
            rc = forms_form_to_xml(small, f, &x);
        assert_true(rc == HERALD_OK || rc == HERALD_ENOMEM);
        arena_free(&small);
    }
}

/* ---- validation ---- */

static const char *const access_models[] = {"authorize", "open",      "presence",
                                            "roster",    "whitelist", NULL};
static const char *const publish_models[] = {"publishers", "subscribers", "open", NULL};
static const char *const send_last[] = {"never", "on_sub", "on_sub_and_presence", NULL};
static const char *const notification_types[] = {"normal", "headline", NULL};
static const char *const max_keyword[] = {"max", NULL};

/* XEP-0060 §17.4.4 pubsub#node_config, as pubsub would declare it. */
static const struct forms_spec_field node_config_fields[] = {
    {.var = "pubsub#access_model", .type = FORMS_FIELD_LIST_SINGLE, .options = access_models},
    {.var = "pubsub#body_xslt", .type = FORMS_FIELD_TEXT_SINGLE},
    {.var = "pubsub#contact", .type = FORMS_FIELD_JID_MULTI},
    {.var = "pubsub#deliver_notifications", .type = FORMS_FIELD_BOOLEAN},
    {.var = "pubsub#deliver_payloads", .type = FORMS_FIELD_BOOLEAN},
    {.var = "pubsub#item_expire",
     .type = FORMS_FIELD_TEXT_SINGLE,
     .integer = true,
     .min = 0,
     .max = INT32_MAX,
     .options = max_keyword},
    {.var = "pubsub#max_items",
     .type = FORMS_FIELD_TEXT_SINGLE,
     .integer = true,
     .min = 1,
     .max = 1000,
     .options = max_keyword},
    {.var = "pubsub#max_payload_size",
     .type = FORMS_FIELD_TEXT_SINGLE,
     .integer = true,
     .min = 0,
     .max = 1 << 20},
    {.var = "pubsub#notification_type",
     .type = FORMS_FIELD_LIST_SINGLE,
     .options = notification_types},
    {.var = "pubsub#notify_config", .type = FORMS_FIELD_BOOLEAN},
    {.var = "pubsub#notify_delete", .type = FORMS_FIELD_BOOLEAN},
    {.var = "pubsub#notify_retract", .type = FORMS_FIELD_BOOLEAN},
    {.var = "pubsub#notify_sub", .type = FORMS_FIELD_BOOLEAN},
    {.var = "pubsub#persist_items", .type = FORMS_FIELD_BOOLEAN},
    {.var = "pubsub#presence_based_delivery", .type = FORMS_FIELD_BOOLEAN},
    {.var = "pubsub#publish_model", .type = FORMS_FIELD_LIST_SINGLE, .options = publish_models},
    {.var = "pubsub#purge_offline", .type = FORMS_FIELD_BOOLEAN},
    {.var = "pubsub#roster_groups_allowed", .type = FORMS_FIELD_LIST_MULTI},
    {.var = "pubsub#send_last_published_item",
     .type = FORMS_FIELD_LIST_SINGLE,
     .options = send_last},
    {.var = "pubsub#title", .type = FORMS_FIELD_TEXT_SINGLE},
    {.var = "pubsub#type", .type = FORMS_FIELD_TEXT_SINGLE},
};

static const struct forms_spec node_config = {
    .form_type = "http://jabber.org/protocol/pubsub#node_config",
    .fields = node_config_fields,
    .nfields = HERALD_ARRAY_LEN(node_config_fields),
};

static const struct forms_spec_field search_fields[] = {
    {.var = "search_request", .type = FORMS_FIELD_TEXT_SINGLE, .required = true},
    {.var = "limit", .type = FORMS_FIELD_TEXT_SINGLE, .integer = true, .min = 1, .max = 50},
};
static const struct forms_spec search = {.fields = search_fields,
                                         .nfields = HERALD_ARRAY_LEN(search_fields)};

static struct forms_form *submit(struct arena *a, const char *fields)
{
    char *text = arena_printf(a, "<x xmlns='jabber:x:data' type='submit'>%s</x>", fields);
    assert_non_null(text);
    return parse_ok(a, text);
}

static void expect_problem(struct arena *a, struct forms_form *f, const struct forms_spec *spec,
                           unsigned flags, enum forms_error err, const char *var, const char *value)
{
    struct forms_problem p;
    memset(&p, 0xa5, sizeof(p));
    enum herald_rc rc = forms_form_validate(a, f, spec, flags, &p);
    if (rc != HERALD_EPROTO || p.error != err)
        fail_msg("validate: got %s/%s, want %s", herald_rc_str(rc), forms_error_str(p.error),
                 forms_error_str(err));
    assert_str_or_null(p.var, var);
    assert_str_or_null(p.value, value);
    assert_non_null(p.reason);
    assert_true(strlen(p.reason) > 0);
}

static void test_forms__validates_xep60_config_submission(void **state)
{
    struct forms_form *f = parse_ok(*state, XEP60_CONFIG_SUBMIT);
    struct forms_problem p;
    assert_int_equal(forms_form_validate(*state, f, &node_config, 0, &p), HERALD_OK);
    assert_int_equal(p.error, FORMS_ERR_NONE);
    /* §3.2: untyped submitted fields took the spec's types. */
    assert_int_equal(field(f, "pubsub#deliver_payloads")->type, FORMS_FIELD_BOOLEAN);
    assert_int_equal(field(f, "pubsub#roster_groups_allowed")->type, FORMS_FIELD_LIST_MULTI);
    assert_int_equal(field(f, "pubsub#max_items")->type, FORMS_FIELD_TEXT_SINGLE);
    assert_int_equal(field(f, "FORM_TYPE")->type, FORMS_FIELD_HIDDEN);
    bool b = false;
    assert_int_equal(
        forms_value_bool(forms_field_first_value(field(f, "pubsub#deliver_payloads")), &b),
        HERALD_OK);
    assert_true(b);
}

static void test_forms__validates_publish_options_example(void **state)
{
    /* XEP-0060 §7.1.5: publish-options whose FORM_TYPE differs from the spec's. */
    struct forms_form *f = submit(*state, "<field var='FORM_TYPE' type='hidden'>"
                                          "<value>http://jabber.org/protocol/pubsub#publish-options"
                                          "</value></field><field var='pubsub#access_model'>"
                                          "<value>presence</value></field>");
    expect_problem(*state, f, &node_config, 0, FORMS_ERR_FORM_TYPE, "FORM_TYPE",
                   "http://jabber.org/protocol/pubsub#publish-options");
    struct forms_spec po = node_config;
    po.form_type = "http://jabber.org/protocol/pubsub#publish-options";
    assert_int_equal(forms_form_validate(*state, f, &po, FORMS_VALIDATE_REQUIRE_FORM_TYPE, NULL),
                     HERALD_OK);
    assert_values(field(f, "pubsub#access_model"), 1, "presence");
}

static void test_forms__checks_form_type_and_submit(void **state)
{
    struct arena *a = *state;
    struct forms_form *f = parse_ok(a, XEP4_BOT_FORM);
    expect_problem(a, f, &node_config, 0, FORMS_ERR_NOT_SUBMIT, NULL, NULL);
    f = parse_ok(a, "<x xmlns='jabber:x:data' type='cancel'/>");
    expect_problem(a, f, &node_config, 0, FORMS_ERR_NOT_SUBMIT, NULL, NULL);

    /* Without FORM_TYPE: fine by default, refused when the caller requires it. */
    f = submit(a, "<field var='pubsub#title'><value>t</value></field>");
    assert_int_equal(forms_form_validate(a, f, &node_config, 0, NULL), HERALD_OK);
    expect_problem(a, f, &node_config, FORMS_VALIDATE_REQUIRE_FORM_TYPE, FORMS_ERR_FORM_TYPE,
                   "FORM_TYPE", NULL);
    /* A FORM_TYPE that is not hidden is no context indicator, hence missing. */
    f = submit(a, "<field var='FORM_TYPE' type='text-single'>"
                  "<value>http://jabber.org/protocol/pubsub#node_config</value></field>");
    expect_problem(a, f, &node_config, FORMS_VALIDATE_REQUIRE_FORM_TYPE, FORMS_ERR_FORM_TYPE,
                   "FORM_TYPE", NULL);
    f = submit(a, "<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#node_config"
                  "</value><value>urn:other</value></field>");
    expect_problem(a, f, &node_config, 0, FORMS_ERR_FORM_TYPE, "FORM_TYPE", NULL);
    /* A spec without form_type does not look at it. */
    f = submit(a, "<field var='FORM_TYPE'><value>urn:whatever</value></field>"
                  "<field var='search_request'><value>x</value></field>");
    assert_int_equal(forms_form_validate(a, f, &search, FORMS_VALIDATE_REQUIRE_FORM_TYPE, NULL),
                     HERALD_OK);
}

static void test_forms__unknown_fields_rejected_or_ignored(void **state)
{
    struct arena *a = *state;
    struct forms_form *f = submit(a, "<field var='pubsub#title'><value>t</value></field>"
                                     "<field var='x-custom'><value>1</value></field>"
                                     "<field type='fixed'><value>note</value></field>"
                                     "<field var='label' type='fixed'><value>n</value></field>");
    expect_problem(a, f, &node_config, 0, FORMS_ERR_UNKNOWN_FIELD, "x-custom", NULL);
    assert_int_equal(forms_form_validate(a, f, &node_config, FORMS_VALIDATE_IGNORE_UNKNOWN, NULL),
                     HERALD_OK);
    assert_int_equal(field(f, "x-custom")->type, FORMS_FIELD_UNSPECIFIED);
    /* A fixed field carries no data: not an unknown field even in reject mode. */
    f = submit(a, "<field var='label' type='fixed'><value>n</value></field>");
    assert_int_equal(forms_form_validate(a, f, &node_config, 0, NULL), HERALD_OK);
}

static void test_forms__type_mismatch_strict_or_inferred(void **state)
{
    struct arena *a = *state;
    struct forms_form *f =
        submit(a, "<field var='pubsub#deliver_payloads' type='text-single'><value>1</value>"
                  "</field>");
    expect_problem(a, f, &node_config, FORMS_VALIDATE_STRICT_TYPES, FORMS_ERR_TYPE_MISMATCH,
                   "pubsub#deliver_payloads", "text-single");
    assert_int_equal(forms_form_validate(a, f, &node_config, 0, NULL), HERALD_OK);
    assert_int_equal(field(f, "pubsub#deliver_payloads")->type, FORMS_FIELD_BOOLEAN);
    /* A matching declared type passes strict mode. */
    f = submit(a, "<field var='pubsub#deliver_payloads' type='boolean'><value>1</value></field>");
    assert_int_equal(forms_form_validate(a, f, &node_config, FORMS_VALIDATE_STRICT_TYPES, NULL),
                     HERALD_OK);
}

static void test_forms__required_fields(void **state)
{
    struct arena *a = *state;
    struct forms_form *f = parse_ok(a, XEP4_SEARCH_SUBMIT);
    assert_int_equal(forms_form_validate(a, f, &search, 0, NULL), HERALD_OK);
    f = submit(a, "<field var='limit'><value>5</value></field>");
    expect_problem(a, f, &search, 0, FORMS_ERR_REQUIRED, "search_request", NULL);
    f = submit(a, "<field var='search_request'/>");
    expect_problem(a, f, &search, 0, FORMS_ERR_REQUIRED, "search_request", NULL);
    f = submit(a, "<field var='search_request'><value/></field>");
    expect_problem(a, f, &search, 0, FORMS_ERR_REQUIRED, "search_request", NULL);
}

static void test_forms__empty_value_means_unset(void **state)
{
    struct arena *a = *state;
    struct forms_form *f = submit(a, "<field var='pubsub#max_items'><value/></field>"
                                     "<field var='pubsub#deliver_payloads'/>"
                                     "<field var='pubsub#title'><value></value></field>"
                                     "<field var='pubsub#contact'><value/></field>");
    assert_int_equal(forms_form_validate(a, f, &node_config, 0, NULL), HERALD_OK);
    assert_int_equal(field(f, "pubsub#max_items")->nvalues, 0);
    assert_int_equal(field(f, "pubsub#title")->nvalues, 0);
    assert_int_equal(field(f, "pubsub#contact")->nvalues, 0);
    assert_null(forms_field_first_value(field(f, "pubsub#deliver_payloads")));
}

static void test_forms__rejects_bad_values(void **state)
{
    struct arena *a = *state;
    expect_problem(a,
                   submit(a, "<field var='pubsub#title'><value>a</value><value>b</value>"
                             "</field>"),
                   &node_config, 0, FORMS_ERR_MULTIPLE_VALUES, "pubsub#title", NULL);
    expect_problem(a,
                   submit(a, "<field var='pubsub#notify_sub'><value>1</value><value>1"
                             "</value></field>"),
                   &node_config, 0, FORMS_ERR_MULTIPLE_VALUES, "pubsub#notify_sub", NULL);
    expect_problem(a, submit(a, "<field var='pubsub#notify_sub'><value>yes</value></field>"),
                   &node_config, 0, FORMS_ERR_BAD_BOOLEAN, "pubsub#notify_sub", "yes");
    expect_problem(a, submit(a, "<field var='pubsub#notify_sub'><value> 1</value></field>"),
                   &node_config, 0, FORMS_ERR_BAD_BOOLEAN, "pubsub#notify_sub", " 1");
    expect_problem(a, submit(a, "<field var='pubsub#max_items'><value>ten</value></field>"),
                   &node_config, 0, FORMS_ERR_BAD_INTEGER, "pubsub#max_items", "ten");
    expect_problem(a, submit(a, "<field var='pubsub#max_items'><value>0</value></field>"),
                   &node_config, 0, FORMS_ERR_OUT_OF_RANGE, "pubsub#max_items", "0");
    expect_problem(a, submit(a, "<field var='pubsub#max_items'><value>1001</value></field>"),
                   &node_config, 0, FORMS_ERR_OUT_OF_RANGE, "pubsub#max_items", "1001");
    expect_problem(
        a, submit(a, "<field var='pubsub#max_items'><value>99999999999999999999</value></field>"),
        &node_config, 0, FORMS_ERR_OUT_OF_RANGE, "pubsub#max_items", "99999999999999999999");
    expect_problem(a, submit(a, "<field var='pubsub#max_items'><value>MAX</value></field>"),
                   &node_config, 0, FORMS_ERR_BAD_INTEGER, "pubsub#max_items", "MAX");
    expect_problem(a, submit(a, "<field var='pubsub#access_model'><value>closed</value></field>"),
                   &node_config, 0, FORMS_ERR_NOT_AN_OPTION, "pubsub#access_model", "closed");
    expect_problem(a, submit(a, "<field var='pubsub#access_model'><value>Open</value></field>"),
                   &node_config, 0, FORMS_ERR_NOT_AN_OPTION, "pubsub#access_model", "Open");
    /* The first problem in document order is the one reported. */
    expect_problem(a,
                   submit(a, "<field var='pubsub#title'><value>ok</value></field>"
                             "<field var='pubsub#notify_sub'><value>2</value></field>"
                             "<field var='pubsub#max_items'><value>x</value></field>"),
                   &node_config, 0, FORMS_ERR_BAD_BOOLEAN, "pubsub#notify_sub", "2");
}

static void test_forms__accepts_good_values(void **state)
{
    struct arena *a = *state;
    struct forms_form *f = submit(a, "<field var='pubsub#max_items'><value>max</value></field>"
                                     "<field var='pubsub#item_expire'><value>0</value></field>"
                                     "<field var='pubsub#notify_sub'><value>true</value></field>"
                                     "<field var='pubsub#roster_groups_allowed'><value>any</value>"
                                     "<value>thing</value></field>"
                                     "<field var='pubsub#title'><value>a\nb</value></field>");
    assert_int_equal(forms_form_validate(a, f, &node_config, 0, NULL), HERALD_OK);
    f = submit(a, "<field var='pubsub#max_items'><value>1000</value></field>"
                  "<field var='pubsub#max_payload_size'><value>+0</value></field>");
    assert_int_equal(forms_form_validate(a, f, &node_config, 0, NULL), HERALD_OK);
}

static void test_forms__canonicalises_and_dedupes_jids(void **state)
{
    struct arena *a = *state;
    struct forms_form *f = submit(a, "<field var='pubsub#contact'>"
                                     "<value>juliet@capulet.com</value>"
                                     "<value>Benvolio@Montague.NET</value>"
                                     "<value>JULIET@capulet.com</value>"
                                     "<value>benvolio@montague.net</value>"
                                     "<value>capulet.com</value></field>");
    assert_int_equal(forms_form_validate(a, f, &node_config, 0, NULL), HERALD_OK);
    assert_values(field(f, "pubsub#contact"), 3, "juliet@capulet.com", "benvolio@montague.net",
                  "capulet.com");
    expect_problem(a,
                   submit(a, "<field var='pubsub#contact'><value>juliet@capulet.com</value>"
                             "<value>@capulet.com</value></field>"),
                   &node_config, 0, FORMS_ERR_BAD_JID, "pubsub#contact", "@capulet.com");
    expect_problem(a, submit(a, "<field var='pubsub#contact'><value>a@b</value><value/></field>"),
                   &node_config, 0, FORMS_ERR_BAD_JID, "pubsub#contact", "");
}

static void test_forms__spec_lookup(void **state)
{
    (void)state;
    const struct forms_spec_field *sf = forms_spec_find(&node_config, "pubsub#max_items");
    assert_non_null(sf);
    assert_true(sf->integer);
    assert_null(forms_spec_find(&node_config, "pubsub#nope"));
    assert_null(forms_spec_find(&node_config, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(test_forms__##name, setup, teardown)
        T(parses_xep_bot_creation_form),
        T(parses_xep_bot_submission),
        T(parses_xep_bot_result),
        T(parses_xep_search_form_and_submission),
        T(parses_xep_search_results),
        T(parses_xep60_config_submission),
        T(field_type_defaults_depend_on_form_type),
        T(item_fields_take_reported_types),
        T(ignores_foreign_elements),
        T(accepts_multiple_values_where_allowed),
        T(decodes_entities_and_keeps_text),
        T(parses_tree_built_with_constructors),
        T(rejects_bad_root),
        T(rejects_missing_or_unknown_form_type),
        T(rejects_bad_form_children),
        T(rejects_field_without_var),
        T(rejects_duplicate_vars),
        T(rejects_bad_field_children),
        T(rejects_unknown_field_type_outside_form),
        T(rejects_several_values_in_single_valued_field),
        T(rejects_bad_options),
        T(rejects_bad_reported_and_items),
        T(enforces_limits),
        T(reports_enomem_on_every_arena_exhaustion),
        T(names_round_trip),
        T(parses_booleans_strictly),
        T(parses_integers_with_range),
        T(form_type_lookup),
        T(round_trips_built_form),
        T(round_trips_submit_and_results),
        T(round_trips_xep_examples),
        T(writes_expected_elements),
        T(builder_rejects_misuse),
        T(build_and_write_report_enomem),
        T(validates_xep60_config_submission),
        T(validates_publish_options_example),
        T(checks_form_type_and_submit),
        T(unknown_fields_rejected_or_ignored),
        T(type_mismatch_strict_or_inferred),
        T(required_fields),
        T(empty_value_means_unset),
        T(rejects_bad_values),
        T(accepts_good_values),
        T(canonicalises_and_dedupes_jids),
        T(spec_lookup),
#undef T
    };
    return cmocka_run_group_tests_name("forms", tests, NULL, NULL);
}
