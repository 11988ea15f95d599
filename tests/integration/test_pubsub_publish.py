"""XEP-0060 §7 publisher use cases against the real broker: publishing (§7.1: ItemIDs,
overwrite, notifications with and without payloads, auto-create, publish-options, every
§7.1.3 error case, max_items) and deleting items (§7.2: retract, notify, errors, the
publish-only affiliation)."""

import harness
import xmpp
from xmpp import el, qn
from pubsub_common import (A, B, C, PS, USERS, NS_OWNER, O, P, X, create, err,
                           event_items, expect_event, entry, form_values, item_ids, items,
                           no_event, ok, online, publish, published_id, request, retract,
                           set_affiliation, show, subscribe, subscription_of)

ATOM = 'http://www.w3.org/2005/Atom'


def config_of(c, node):
    r = ok(request(c, 'get', el(O('configure'), {'node': node}), ns=NS_OWNER))
    return form_values(r.find('%s/%s/%s' % (O('pubsub'), O('configure'), X('x'))))


def affs_of(c):
    r = ok(request(c, 'get', el(P('affiliations'))))
    return {x.get('node'): x.get('affiliation')
            for x in r.find('%s/%s' % (P('pubsub'), P('affiliations')))}


def setup(b, node='news', config=None):
    a = b.client(A)
    create(a, node, config)
    bob = online(b, B)
    subscription_of(subscribe(bob, node))
    return a, bob


# ------------------------------------------------------------------ §7.1.1-§7.1.2
def test_publish_with_item_id():
    """XEP-0060 §7.1.1-§7.1.2: a publish with an ItemID succeeds (the result, when it names
    an item, names that one) and every subscriber gets the item with its payload
    (§7.1.2.1), in a headline message from the service."""
    with harness.Broker(users=USERS) as b:
        a, bob = setup(b)
        r = ok(publish(a, 'news', 'bnd81g37d61f49fgn581', payload=entry('To be')))
        pub = r.find('%s/%s' % (P('pubsub'), P('publish')))
        assert pub is not None and pub.get('node') == 'news', show(r)
        it = pub.find(P('item'))
        assert it is None or it.get('id') == 'bnd81g37d61f49fgn581', show(r)
        m = expect_event(bob, 'news')
        assert m.get('from') == PS and m.get('type') == 'headline' and m.get('id'), show(m)
        its = event_items(m)
        assert [(t, i) for t, i, _ in its] == [('item', 'bnd81g37d61f49fgn581')], show(m)
        assert its[0][2].tag == qn(ATOM, 'entry') and its[0][2][0].text == 'To be', show(m)
        a.close()


def test_publish_without_item_id():
    """XEP-0060 §7.1.1-§7.1.2: without an ItemID the service makes one, returns it in the
    result, and uses it in the notification and storage."""
    with harness.Broker(users=USERS) as b:
        a, bob = setup(b)
        gen = published_id(publish(a, 'news', None))
        m = expect_event(bob, 'news')
        assert [i for _, i, _ in event_items(m)] == [gen], show(m)
        gen2 = published_id(publish(a, 'news', None))
        assert gen2 != gen
        assert item_ids(items(a, 'news')) == [gen, gen2]
        a.close()


def test_overwrite_by_item_id():
    """XEP-0060 §7.1.2 note, §7.1.3 note and §13.1: re-publishing an ItemID is not an
    error: it replaces the item (which becomes the newest), and notifies again."""
    with harness.Broker(users=USERS) as b:
        a, bob = setup(b)
        for i in ('a', 'b'):
            ok(publish(a, 'news', i))
            expect_event(bob, 'news')
        ok(publish(a, 'news', 'a', payload=entry('second version')))
        m = expect_event(bob, 'news')
        its = event_items(m)
        assert its[0][1] == 'a' and its[0][2][0].text == 'second version', show(m)
        r = items(a, 'news')
        assert item_ids(r) == ['b', 'a'], show(r)
        last = r.find('%s/%s' % (P('pubsub'), P('items')))[-1]
        assert last[0][0].text == 'second version', show(r)
        a.close()


def test_notification_without_payload():
    """XEP-0060 §7.1.2.2: with deliver_payloads false subscribers get the ItemID only; the
    item itself (with payload) can still be retrieved (§6.5)."""
    with harness.Broker(users=USERS) as b:
        a, bob = setup(b, config={'pubsub#deliver_payloads': False})
        ok(publish(a, 'news', 'ae890ac5', payload=entry('body')))
        m = expect_event(bob, 'news')
        assert event_items(m) == [('item', 'ae890ac5', None)], show(m)
        r = items(bob, 'news')
        it = r.find('%s/%s/%s' % (P('pubsub'), P('items'), P('item')))
        assert it.get('id') == 'ae890ac5' and it[0][0].text == 'body', show(r)
        # A notification-only persistent node takes an empty item too (§4.3 table).
        ok(publish(a, 'news', 'empty', payload=None))
        assert event_items(expect_event(bob, 'news')) == [('item', 'empty', None)]
        a.close()


def test_transient_nodes():
    """XEP-0060 §4.3 and §7.1.3.7: a transient notification node takes a publish without
    an item and notifies an empty <items/>; a transient payload node delivers the payload
    without storing it."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'ping', {'pubsub#persist_items': False, 'pubsub#deliver_payloads': False})
        create(a, 'live', {'pubsub#persist_items': False})
        bob = online(b, B)
        subscription_of(subscribe(bob, 'ping'))
        subscription_of(subscribe(bob, 'live'))
        r = ok(publish(a, 'ping', item=False))
        assert r.find('%s/%s/%s' % (P('pubsub'), P('publish'), P('item'))) is None, show(r)
        m = expect_event(bob, 'ping')
        assert event_items(m) == [], show(m)
        ok(publish(a, 'live', 'x1', payload=entry('now')))
        m = expect_event(bob, 'live')
        its = event_items(m)
        assert its[0][0] == 'item' and its[0][2][0].text == 'now', show(m)
        a.close()


def test_auto_create():
    """XEP-0060 §7.1.4: publishing to a missing node creates it (default configuration) with
    the publisher as owner (§5.7)."""
    with harness.Broker(users=USERS) as b:
        bob = b.client(B)
        ok(publish(bob, 'fresh', 'first'))
        assert affs_of(bob) == {'fresh': 'owner'}
        assert item_ids(items(bob, 'fresh')) == ['first']
        assert config_of(bob, 'fresh')['pubsub#access_model'] == ['open']
        bob.close()


def test_auto_create_not_allowed():
    """XEP-0060 §7.1.3.3: when the publisher may not create the node the answer is
    <item-not-found/> (pubsub_create = admins)."""
    with harness.Broker(users=USERS, overrides={'pubsub_create': 'admins'}) as b:
        bob = b.client(B)
        err(publish(bob, 'fresh', 'first'), 'cancel', 'item-not-found')
        assert affs_of(bob) == {}


def test_failed_publish_creates_no_node():
    """XEP-0060 §7.1.4 with §7.1.3: a publish to a missing node that fails (payload too
    big under the preconditions' max_payload_size, §7.1.3.5; an empty ItemID; a payload of
    the wrong namespace, §7.1.3.6) is refused as a whole: the node it would have created
    does not exist afterwards (§5.3 <item-not-found/>) and the publisher owns nothing."""
    with harness.Broker(users=USERS) as b:
        bob = b.client(B)
        err(publish(bob, 'fresh', 'big', payload=entry('x' * 400),
                    options={'pubsub#max_payload_size': '200'}),
            'modify', 'not-acceptable', 'payload-too-big')
        err(publish(bob, 'fresh', ''), 'modify', 'not-acceptable')
        err(publish(bob, 'fresh', 'x', options={'pubsub#type': 'urn:example:other'}),
            'modify', 'bad-request', 'invalid-payload')
        r = bob.iq(el('iq', {'type': 'get', 'to': PS},
                      el(qn(xmpp.NS_DISCO_INFO, 'query'), {'node': 'fresh'})))
        err(r, 'cancel', 'item-not-found')
        assert affs_of(bob) == {}
        ok(publish(bob, 'fresh', 'good'))
        assert item_ids(items(bob, 'fresh')) == ['good']
        bob.close()


def test_auto_create_respects_the_node_limit():
    """XEP-0060 §7.1.4: auto-creation is node creation (§8.1), under the same service
    limits: with pubsub_max_nodes reached, a publish to a missing node is refused
    (<resource-constraint/>, as <create/>) and creates nothing."""
    with harness.Broker(users=USERS, overrides={'pubsub_max_nodes': 1}) as b:
        a = b.client(A)
        create(a, 'one')
        err(create(a, 'two', check=False), 'wait', 'resource-constraint')
        err(publish(a, 'two', 'x'), 'wait', 'resource-constraint')
        assert affs_of(a) == {'one': 'owner'}
        a.close()


def test_long_node_and_item_ids():
    """XEP-0060 §7.1.3 with the store's key size: a 256-byte NodeID with a 256-byte ItemID
    cannot be stored together; the publish is <not-acceptable/> (not an internal error) and
    leaves nothing; a shorter ItemID on the same node works."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        node = 'n' * 256
        create(a, node)
        err(publish(a, node, 'i' * 256), 'modify', 'not-acceptable')
        err(publish(a, node, 'i' * 257), 'modify', 'not-acceptable')
        ok(publish(a, node, 'i' * 100))
        assert item_ids(items(a, node)) == ['i' * 100]
        err(create(a, 'm' * 257, check=False), 'modify', 'not-acceptable')
        a.close()


# ------------------------------------------------------------------ §7.1.5 publish-options
def test_publish_options_without_a_form():
    """XEP-0060 §7.1.5: "The <publish-options/> element MUST contain a data form": without
    one the request is a <bad-request/>, and nothing is published."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        r = request(a, 'set', el(P('publish'), {'node': 'news'},
                                 el(P('item'), {'id': 'x'}, entry('x'))),
                    el(P('publish-options')))
        err(r, 'modify', 'bad-request')
        assert item_ids(items(a, 'news')) == []
        a.close()

def test_publish_options_preconditions():
    """XEP-0060 §7.1.5: preconditions that match the node's configuration let the publish
    through; one that does not is <conflict/> + <precondition-not-met/> and nothing is
    published; an unknown field is refused."""
    with harness.Broker(users=USERS) as b:
        a, bob = setup(b, config={'pubsub#max_items': 5})
        ok(publish(a, 'news', 'p1', options={'pubsub#access_model': 'open',
                                             'pubsub#max_items': '5'}))
        expect_event(bob, 'news')
        r = publish(a, 'news', 'p2', options={'pubsub#access_model': 'whitelist'})
        err(r, 'cancel', 'conflict', 'precondition-not-met')
        r = publish(a, 'news', 'p3', options={'pubsub#no_such_field': 'x'})
        assert r.get('type') == 'error' and xmpp.error_condition(r)[0] == 'modify', show(r)
        assert xmpp.error_condition(r)[1] in ('bad-request', 'not-acceptable'), show(r)
        no_event(bob)
        assert item_ids(items(a, 'news')) == ['p1']
        a.close()


def test_publish_options_configure_an_auto_created_node():
    """XEP-0060 §7.1.5 rule 3: a node auto-created by a publish with options takes the
    preconditions as its configuration."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        ok(publish(a, 'private', 'p1', options={'pubsub#access_model': 'whitelist',
                                                'pubsub#max_items': '3'}))
        cfg = config_of(a, 'private')
        assert cfg['pubsub#access_model'] == ['whitelist'] and cfg['pubsub#max_items'] == ['3'], cfg
        err(items(b.client(B), 'private'), 'cancel', 'not-allowed', 'closed-node')
        a.close()


# ------------------------------------------------------------------ §7.1.3 errors
def test_insufficient_privileges():
    """XEP-0060 §7.1.3.1: without the right to publish (publish_model publishers, no
    affiliation) the answer is <forbidden/>; publish_model open lets anyone publish;
    publish_model subscribers lets subscribers publish."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        create(a, 'wall', {'pubsub#publish_model': 'open'})
        create(a, 'club', {'pubsub#publish_model': 'subscribers'})
        bob = b.client(B)
        err(publish(bob, 'news', 'x'), 'auth', 'forbidden')
        ok(publish(bob, 'wall', 'x'))
        err(publish(bob, 'club', 'x'), 'auth', 'forbidden')
        subscription_of(subscribe(bob, 'club'))
        ok(publish(bob, 'club', 'x'))
        assert item_ids(items(a, 'news')) == []
        a.close()


def test_publisher_affiliation_may_publish():
    """XEP-0060 §4.1: a publisher (§8.9) may publish; an outcast may not, even on an open
    publish model (§7.1.3.1)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        create(a, 'wall', {'pubsub#publish_model': 'open'})
        set_affiliation(a, 'news', B, 'publisher')
        set_affiliation(a, 'wall', C, 'outcast')
        ok(publish(b.client(B), 'news', 'x'))
        err(publish(b.client(C), 'wall', 'y'), 'auth', 'forbidden')
        a.close()


def test_item_required():
    """XEP-0060 §7.1.3.7: a persistent node refuses a publish without an item:
    <bad-request/> + <item-required/>; a publish without node is <nodeid-required/>."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        err(publish(a, 'news', item=False), 'modify', 'bad-request', 'item-required')
        err(request(a, 'set', el(P('publish'), None, el(P('item'), {'id': 'x'}, entry()))),
            'modify', 'bad-request', 'nodeid-required')
        a.close()


def test_item_forbidden():
    """XEP-0060 §7.1.3.7: a transient notification-only node refuses an item:
    <bad-request/> + <item-forbidden/>."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'ping', {'pubsub#persist_items': False, 'pubsub#deliver_payloads': False})
        err(publish(a, 'ping', 'x'), 'modify', 'bad-request', 'item-forbidden')
        a.close()


def test_payload_required():
    """XEP-0060 §7.1.3.7: a payload node (deliver_payloads, persistent or transient)
    refuses an item without payload: <bad-request/> + <payload-required/>; the transient
    one also a publish without item."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        create(a, 'live', {'pubsub#persist_items': False})
        err(publish(a, 'news', 'x', payload=None), 'modify', 'bad-request', 'payload-required')
        err(publish(a, 'live', 'x', payload=None), 'modify', 'bad-request', 'payload-required')
        err(publish(a, 'live', item=False), 'modify', 'bad-request', 'payload-required')
        a.close()


def test_invalid_payload():
    """XEP-0060 §7.1.3.6: two payload elements, or a payload whose namespace is not the
    node's pubsub#type, is <bad-request/> + <invalid-payload/>; so are two items (batch
    publishing is gone, §7.1.1)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        create(a, 'typed', {'pubsub#type': ATOM})
        err(publish(a, 'news', 'x', payload=[entry('one'), entry('two')]), 'modify',
            'bad-request', 'invalid-payload')
        err(publish(a, 'typed', 'x', payload=el(qn('urn:example:other', 'thing'))), 'modify',
            'bad-request', 'invalid-payload')
        ok(publish(a, 'typed', 'y', payload=entry()))
        two = el(P('publish'), {'node': 'news'}, el(P('item'), {'id': '1'}, entry()),
                 el(P('item'), {'id': '2'}, entry()))
        err(request(a, 'set', two), 'modify', 'bad-request', 'invalid-payload')
        assert item_ids(items(a, 'news')) == []
        a.close()


def test_payload_too_big():
    """XEP-0060 §7.1.3.5: a payload larger than pubsub#max_payload_size is
    <not-acceptable/> + <payload-too-big/>."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'small', {'pubsub#max_payload_size': 200})
        ok(publish(a, 'small', 'ok', payload=entry('x' * 50)))
        err(publish(a, 'small', 'big', payload=entry('x' * 400)), 'modify', 'not-acceptable',
            'payload-too-big')
        assert item_ids(items(a, 'small')) == ['ok']
        a.close()


def test_max_items_evicts_the_oldest():
    """XEP-0060 §7.1.2.5 (retract-oldest, the default): beyond max_items the oldest items
    go; with publish_node_full = reject the publish is <conflict/> + <node-full/>
    (§7.1.3.4) but overwriting an existing item still works."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news', {'pubsub#max_items': 2})
        for i in ('1', '2', '3', '4'):
            ok(publish(a, 'news', i))
        assert item_ids(items(a, 'news')) == ['3', '4']
        create(a, 'full', {'pubsub#max_items': 2, 'pubsub#publish_node_full': 'reject'})
        ok(publish(a, 'full', '1'))
        ok(publish(a, 'full', '2'))
        err(publish(a, 'full', '3'), 'cancel', 'conflict', 'node-full')
        ok(publish(a, 'full', '1'))
        assert item_ids(items(a, 'full')) == ['2', '1']
        a.close()


def test_node_full_retract_oldest_notifies_discard_oldest_does_not():
    """XEP-0060 §7.1.2.4: on a full node "retract-oldest" retracts the oldest item, so a
    node with notify_retract tells its subscribers (<retract/> before the new item);
    "discard-oldest" discards it silently. Both keep max_items items."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        bob = online(b, B)
        for node, mode in (('ret', 'retract-oldest'), ('dis', 'discard-oldest')):
            create(a, node, {'pubsub#max_items': 2, 'pubsub#notify_retract': True,
                             'pubsub#publish_node_full': mode})
            subscription_of(subscribe(bob, node))
            for i in ('1', '2'):
                ok(publish(a, node, i))
                expect_event(bob, node)
        ok(publish(a, 'ret', '3'))
        m = expect_event(bob, 'ret')
        assert event_items(m) == [('retract', '1', None)], show(m)
        assert [(t, i) for t, i, _ in event_items(expect_event(bob, 'ret'))] == [('item', '3')]
        ok(publish(a, 'dis', '3'))
        m = expect_event(bob, 'dis')
        assert [(t, i) for t, i, _ in event_items(m)] == [('item', '3')], show(m)
        no_event(bob, 'dis')
        assert item_ids(items(a, 'ret')) == ['2', '3']
        assert item_ids(items(a, 'dis')) == ['2', '3']
        a.close()


# ------------------------------------------------------------------ §7.2 retract
def test_retract_with_notify():
    """XEP-0060 §7.2.1-§7.2.2.1: the item is deleted; with notify='true' subscribers get
    <retract id=.../>; without notify (and notify_retract off) nobody is told."""
    with harness.Broker(users=USERS) as b:
        a, bob = setup(b)
        for i in ('x', 'y'):
            ok(publish(a, 'news', i))
            expect_event(bob, 'news')
        ok(retract(a, 'news', 'x', notify='true'))
        m = expect_event(bob, 'news')
        assert event_items(m) == [('retract', 'x', None)], show(m)
        ok(retract(a, 'news', 'y'))
        no_event(bob)
        assert item_ids(items(a, 'news')) == []
        a.close()


def test_retract_notify_retract_node():
    """XEP-0060 §7.2.2.1 with pubsub#notify_retract: the node notifies retractions without
    being asked; several subscriptions of one JID give SHIM headers (§7.2.2.2)."""
    with harness.Broker(users=USERS) as b:
        a, bob = setup(b, config={'pubsub#notify_retract': True})
        s2 = subscription_of(subscribe(bob, 'news', options={'pubsub#deliver': True})).get('subid')
        ok(publish(a, 'news', 'x'))
        expect_event(bob, 'news')
        ok(retract(a, 'news', 'x'))
        m = expect_event(bob, 'news')
        assert event_items(m) == [('retract', 'x', None)], show(m)
        h = m.find(qn('http://jabber.org/protocol/shim', 'headers'))
        assert h is not None and s2 in [x.text for x in h], show(m)
        a.close()


def test_retract_errors():
    """XEP-0060 §7.2.3: no right to delete -> <forbidden/>; unknown node or item ->
    <item-not-found/>; no node -> <nodeid-required/>; no item or no ItemID ->
    <item-required/>; a transient node -> <unsupported feature='persistent-items'/>."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        create(a, 'live', {'pubsub#persist_items': False})
        ok(publish(a, 'news', 'x'))
        bob = b.client(B)
        err(retract(bob, 'news', 'x'), 'auth', 'forbidden')
        err(retract(a, 'news', 'nope'), 'cancel', 'item-not-found')
        err(retract(a, 'gone', 'x'), 'cancel', 'item-not-found')
        err(request(a, 'set', el(P('retract'), None, el(P('item'), {'id': 'x'}))), 'modify',
            'bad-request', 'nodeid-required')
        err(request(a, 'set', el(P('retract'), {'node': 'news'})), 'modify', 'bad-request',
            'item-required')
        err(request(a, 'set', el(P('retract'), {'node': 'news'}, el(P('item')))), 'modify',
            'bad-request', 'item-required')
        err(retract(a, 'live', 'x'), 'cancel', 'feature-not-implemented', 'unsupported',
            feature='persistent-items')
        assert item_ids(items(a, 'news')) == ['x']
        a.close()


def test_open_publisher_retracts_own_items_only():
    """XEP-0060 §4.1 and §7.2.3.1: on an open-publish node an unaffiliated publisher may
    delete what it published, not what others did."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'wall', {'pubsub#publish_model': 'open'})
        bob = b.client(B)
        ok(publish(bob, 'wall', 'mine'))
        ok(publish(a, 'wall', 'theirs'))
        err(retract(bob, 'wall', 'theirs'), 'auth', 'forbidden')
        ok(retract(bob, 'wall', 'mine'))
        assert item_ids(items(a, 'wall')) == ['theirs']
        a.close()


def test_publish_only_deletes_only_its_own_items():
    """XEP-0060 §4.1 (the affiliation table and its note): a publish-only entity publishes,
    deletes its own items but not others', and may neither retrieve nor subscribe."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        set_affiliation(a, 'news', B, 'publish-only')
        bob = b.client(B)
        ok(publish(bob, 'news', 'bobs'))
        ok(publish(a, 'news', 'alices'))
        err(retract(bob, 'news', 'alices'), 'auth', 'forbidden')
        ok(retract(bob, 'news', 'bobs'))
        assert item_ids(items(a, 'news')) == ['alices']
        err(items(bob, 'news'), 'auth', 'forbidden')
        err(subscribe(bob, 'news'), 'auth', 'forbidden')
        a.close()


def test_publisher_may_delete_any_item():
    """XEP-0060 §4.1 note: a publisher may delete items others published (the MAY this
    service takes)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        set_affiliation(a, 'news', B, 'publisher')
        ok(publish(a, 'news', 'alices'))
        ok(retract(b.client(B), 'news', 'alices'))
        assert item_ids(items(a, 'news')) == []
        a.close()


if __name__ == '__main__':
    harness.main(globals())
