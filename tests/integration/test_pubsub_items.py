"""XEP-0060 §6.5 retrieving items against the real broker: all items, the N most recent
(max_items), particular items, paging with XEP-0059 result set management (max, after,
before, index, count), every §6.5.9 error case, and item expiry (pubsub#item_expire)."""

import time

import harness
from xmpp import el, qn
from pubsub_common import (A, B, C, PS, USERS, NS_DISCO_ITEMS, P, create, err, event_items,
                           expect_event, item_ids, items, no_event, ok, online,
                           presence_subscribe, publish, request, roster_set, rsm_of,
                           set_affiliation, show, subscribe, subscription_of)

IDS = ['i%02d' % n for n in range(10)]


def node_with_items(b, node='news', ids=IDS, config=None):
    a = b.client(A)
    create(a, node, config)
    for i in ids:
        ok(publish(a, node, i))
    return a


# ------------------------------------------------------------------ §6.5.2-§6.5.8
def test_all_items():
    """XEP-0060 §6.5.2-§6.5.3: every item, in publication order, with its payload; an
    empty node gives an empty <items node=.../> (§6.5.9.12)."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b, ids=['one', 'two', 'three'])
        r = items(b.client(B), 'news')
        assert item_ids(r) == ['one', 'two', 'three'], show(r)
        its = r.find('%s/%s' % (P('pubsub'), P('items')))
        assert its.get('node') == 'news', show(r)
        for it in its:
            kids = list(it)
            assert len(kids) == 1 and kids[0].tag == '{http://www.w3.org/2005/Atom}entry', show(r)
            assert kids[0][0].text == it.get('id'), show(r)
        assert rsm_of(r) is None, show(r)             # not truncated: no RSM notation
        create(a, 'empty')
        r = items(a, 'empty')
        assert item_ids(r) == [] and rsm_of(r) is None, show(r)
        a.close()


def test_most_recent_items():
    """XEP-0060 §6.5.7: max_items='N' gives the N most recent, oldest of them first; more
    than there are gives all; a max_items that is not a positive integer is a
    <bad-request/>."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b)
        assert item_ids(items(a, 'news', max_items=2)) == ['i08', 'i09']
        assert item_ids(items(a, 'news', max_items=1)) == ['i09']
        assert item_ids(items(a, 'news', max_items=50)) == IDS
        for bad in ('0', '-1', 'two', ''):
            err(items(a, 'news', max_items=bad), 'modify', 'bad-request')
        a.close()


def test_particular_items():
    """XEP-0060 §6.5.8 (and §6.5.6: several ids in one request): the items asked for;
    unknown ids are left out, and none known is an empty <items/> (§6.5.9.12); an <item/>
    without id is <bad-request/> + <item-required/>."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b)
        assert item_ids(items(a, 'news', ids=['i03'])) == ['i03']
        assert item_ids(items(a, 'news', ids=['i07', 'i01'])) == ['i07', 'i01']
        assert item_ids(items(a, 'news', ids=['i02', 'zzz'])) == ['i02']
        assert item_ids(items(a, 'news', ids=['zzz'])) == []
        r = request(a, 'get', el(P('items'), {'node': 'news'}, el(P('item'))))
        err(r, 'modify', 'bad-request', 'item-required')
        a.close()


def test_overwritten_item_is_the_newest():
    """XEP-0060 §7.1.2 note and §13.1: re-publishing an ItemID replaces the item, which is
    then the most recent one."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b, ids=['x', 'y', 'z'])
        ok(publish(a, 'news', 'x'))
        assert item_ids(items(a, 'news')) == ['y', 'z', 'x']
        assert item_ids(items(a, 'news', max_items=1)) == ['x']
        a.close()


# ------------------------------------------------------------------ §6.5.4 with XEP-0059
def test_rsm_limit_and_count():
    """XEP-0059 §2.1 and §2.2 in XEP-0060 §6.5.4: <max/> limits the page; the answer has
    <first index='0'/>, <last/> and the <count/> of the whole node."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b)
        r = items(a, 'news', rsm={'max': 3})
        assert item_ids(r) == IDS[:3], show(r)
        assert rsm_of(r) == {'first': 'i00', 'index': '0', 'last': 'i02', 'count': '10'}, show(r)
        a.close()


def test_rsm_paging_forwards_and_backwards():
    """XEP-0059 §2.2 (<after/>: the page that follows), §2.3 (<before/>: the page that
    precedes; an empty <before/> is the last page), with first@index."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b)
        r = items(a, 'news', rsm={'max': 3, 'after': 'i02'})
        assert item_ids(r) == IDS[3:6], show(r)
        assert rsm_of(r) == {'first': 'i03', 'index': '3', 'last': 'i05', 'count': '10'}, show(r)
        r = items(a, 'news', rsm={'max': 3, 'after': 'i08'})
        assert item_ids(r) == ['i09'] and rsm_of(r)['index'] == '9', show(r)
        r = items(a, 'news', rsm={'max': 3, 'after': 'i09'})   # past the end: empty page
        assert item_ids(r) == [], show(r)
        s = rsm_of(r)
        assert s['first'] is None and s['last'] is None and s['count'] == '10', show(r)
        r = items(a, 'news', rsm={'max': 3, 'before': 'i06'})
        assert item_ids(r) == IDS[3:6], show(r)
        assert rsm_of(r) == {'first': 'i03', 'index': '3', 'last': 'i05', 'count': '10'}, show(r)
        r = items(a, 'news', rsm={'max': 3, 'before': 'i01'})
        assert item_ids(r) == ['i00'] and rsm_of(r)['index'] == '0', show(r)
        r = items(a, 'news', rsm={'max': 3, 'before': None})
        assert item_ids(r) == IDS[7:], show(r)
        assert rsm_of(r) == {'first': 'i07', 'index': '7', 'last': 'i09', 'count': '10'}, show(r)
        # A whole walk forwards visits every item once.
        seen, after = [], None
        for _ in range(10):
            q = {'max': 4} if after is None else {'max': 4, 'after': after}
            r = items(a, 'news', rsm=q)
            page = item_ids(r)
            if not page:
                break
            seen += page
            after = rsm_of(r)['last']
        assert seen == IDS, seen
        a.close()


def test_large_items_are_paged_not_refused():
    """XEP-0060 §6.5.4: "the service SHOULD return some of the items and note that the list
    of items has been truncated by including a XEP-0059 notation": when the items asked for
    would make a stanza larger than the service's stanza limit (a peer with the same limit
    could not read it), the answer holds as many as fit, with <first/>, <last/> and
    <count/>, and paging with <after/> (or <before/> from the newest, for max_items) reaches
    every item exactly once."""
    big = 'x' * 2500
    with harness.Broker(users=USERS, overrides={'max_stanza_size': 10000,
                                                'max_xml_token': 10000}) as b:
        a = b.client(A)
        create(a, 'big')
        for i in IDS:
            ok(publish(a, 'big', i, payload=el(qn('urn:example:big', 'blob'), text=big)))
        r = items(a, 'big')
        first = item_ids(r)
        assert 1 <= len(first) < len(IDS) and first == IDS[:len(first)], show(r)
        s = rsm_of(r)
        assert s == {'first': IDS[0], 'index': '0', 'last': first[-1], 'count': '10'}, s
        seen, after = list(first), first[-1]
        while len(seen) < len(IDS):
            page = item_ids(items(a, 'big', rsm={'max': 10, 'after': after}))
            assert page, seen
            seen += page
            after = page[-1]
        assert seen == IDS, seen
        # The N most recent (§6.5.7), cut short the same way, from the newest end.
        r = items(a, 'big', max_items=10)
        newest = item_ids(r)
        assert 1 <= len(newest) < 10 and newest == IDS[-len(newest):], show(r)
        s = rsm_of(r)
        assert s['first'] == newest[0] and s['last'] == IDS[-1] and s['count'] == '10', s
        assert s['index'] == str(10 - len(newest)), s
        a.close()


def test_particular_items_are_bounded():
    """XEP-0060 §6.5.8 ("implementations MUST allow multiple items to be specified"): up
    to 1000 ItemIDs per request are answered; more is a <policy-violation/>, so that one
    stanza costs bounded work."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b)
        ids = ['i%02d' % (n % 10) for n in range(1000)]
        assert item_ids(items(a, 'news', ids=ids)) == ids
        err(items(a, 'news', ids=ids + ['i00']), 'modify', 'policy-violation')
        a.close()


def test_rsm_index_and_item_count():
    """XEP-0059 §2.4 (<index/>: the page starting there; first@index echoes it; an index
    past the end is an empty page) and §2.5 (<max>0</max>: only the count)."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b)
        r = items(a, 'news', rsm={'max': 3, 'index': 5})
        assert item_ids(r) == IDS[5:8], show(r)
        assert rsm_of(r) == {'first': 'i05', 'index': '5', 'last': 'i07', 'count': '10'}, show(r)
        r = items(a, 'news', rsm={'max': 3, 'index': 10})
        assert item_ids(r) == [] and rsm_of(r)['count'] == '10', show(r)
        r = items(a, 'news', rsm={'max': 0})
        assert item_ids(r) == [], show(r)
        assert rsm_of(r) == {'first': None, 'index': None, 'last': None, 'count': '10'}, show(r)
        a.close()


def test_rsm_unknown_uid():
    """XEP-0059 §2.6: an <after/> or <before/> naming an item that does not exist is
    <item-not-found/>; a malformed <max/> or <index/> is <bad-request/>."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b)
        err(items(a, 'news', rsm={'max': 3, 'after': 'gone'}), 'cancel', 'item-not-found')
        err(items(a, 'news', rsm={'max': 3, 'before': 'gone'}), 'cancel', 'item-not-found')
        err(items(a, 'news', rsm={'max': 'ten'}), 'modify', 'bad-request')
        err(items(a, 'news', rsm={'max': 3, 'index': '-2'}), 'modify', 'bad-request')
        a.close()


# ------------------------------------------------------------------ §6.5.9 errors
def test_subid_required_and_invalid():
    """XEP-0060 §6.5.9.1-§6.5.9.2: a requester with several subscriptions names one:
    without a SubID <bad-request/> + <subid-required/>, with a wrong one <not-acceptable/>
    + <invalid-subid/>; with a right one it gets the items."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b, ids=['one'])
        bob = b.client(B)
        s1 = subscription_of(subscribe(bob, 'news')).get('subid')
        assert item_ids(items(bob, 'news')) == ['one']
        subscription_of(subscribe(bob, 'news', options={'pubsub#deliver': True}))
        err(items(bob, 'news'), 'modify', 'bad-request', 'subid-required')
        err(items(bob, 'news', subid='0000'), 'modify', 'not-acceptable', 'invalid-subid')
        assert item_ids(items(bob, 'news', subid=s1)) == ['one']
        a.close()


def test_authorize_node_needs_a_subscription():
    """XEP-0060 §6.5.9.3: on an authorize node only subscribers retrieve: an unsubscribed
    entity, and one whose subscription is pending, get <not-authorized/> +
    <not-subscribed/>; the owner may always retrieve (§6.5.1)."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b, 'club', ['one'], {'pubsub#access_model': 'authorize'})
        bob = b.client(B)
        err(items(bob, 'club'), 'auth', 'not-authorized', 'not-subscribed')
        assert subscription_of(subscribe(bob, 'club')).get('subscription') == 'pending'
        err(items(bob, 'club'), 'auth', 'not-authorized', 'not-subscribed')
        assert item_ids(items(a, 'club')) == ['one']
        a.close()


def test_authorize_node_member_may_retrieve():
    """XEP-0060 §6.5.1 with §4.1: a member of an authorize node may retrieve items."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b, 'club', ['one'], {'pubsub#access_model': 'authorize'})
        set_affiliation(a, 'club', B, 'member')
        assert item_ids(items(b.client(B), 'club')) == ['one']
        a.close()


def test_member_may_retrieve_whatever_the_model():
    """XEP-0060 §4.1 (the affiliation table: a member may subscribe and retrieve): on
    presence and roster nodes a member needs no presence subscription or roster group."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        create(a, 'status', {'pubsub#access_model': 'presence'})
        create(a, 'photos', {'pubsub#access_model': 'roster',
                             'pubsub#roster_groups_allowed': ['friends']})
        for n in ('status', 'photos'):
            ok(publish(a, n, 'one'))
            set_affiliation(a, n, B, 'member')
        bob = b.client(B)
        assert item_ids(items(bob, 'status')) == ['one']
        assert item_ids(items(bob, 'photos')) == ['one']
        assert subscription_of(subscribe(bob, 'photos')).get('subscription') == 'subscribed'
        a.close()


def test_persistent_items_not_supported():
    """XEP-0060 §6.5.9.4: a node that does not persist items answers
    <feature-not-implemented/> + <unsupported feature='persistent-items'/>."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'live', {'pubsub#persist_items': False})
        err(items(b.client(B), 'live'), 'cancel', 'feature-not-implemented', 'unsupported',
            feature='persistent-items')
        a.close()


def test_presence_subscription_required():
    """XEP-0060 §6.5.9.6: on a presence-access node an entity not subscribed to the owner's
    presence gets <not-authorized/> + <presence-subscription-required/>; with the presence
    subscription it retrieves."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        create(a, 'status', {'pubsub#access_model': 'presence'})
        ok(publish(a, 'status', 'one'))
        bob = online(b, B)
        err(items(bob, 'status'), 'auth', 'not-authorized', 'presence-subscription-required')
        presence_subscribe(bob, a)
        assert item_ids(items(bob, 'status')) == ['one']
        a.close()


def test_not_in_roster_group():
    """XEP-0060 §6.5.9.7: on a roster-access node an entity outside the allowed groups gets
    <not-authorized/> + <not-in-roster-group/>; in the group it retrieves."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        create(a, 'photos', {'pubsub#access_model': 'roster',
                             'pubsub#roster_groups_allowed': ['friends']})
        ok(publish(a, 'photos', 'one'))
        roster_set(a, C, ['work'])
        err(items(b.client(B), 'photos'), 'auth', 'not-authorized', 'not-in-roster-group')
        err(items(b.client(C), 'photos'), 'auth', 'not-authorized', 'not-in-roster-group')
        roster_set(a, B, ['friends'])
        assert item_ids(items(b.client(B), 'photos')) == ['one']
        a.close()


def test_not_on_whitelist():
    """XEP-0060 §6.5.9.8: on a whitelist node an outsider gets <not-allowed/> +
    <closed-node/>."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b, 'secret', ['one'], {'pubsub#access_model': 'whitelist'})
        err(items(b.client(B), 'secret'), 'cancel', 'not-allowed', 'closed-node')
        assert item_ids(items(a, 'secret')) == ['one']
        a.close()


def test_whitelist_member_and_outcast():
    """XEP-0060 §6.5.9.8 and §6.5.9.10: a member of a whitelist node retrieves; an outcast
    gets <forbidden/> even on an open node."""
    with harness.Broker(users=USERS) as b:
        a = node_with_items(b, 'secret', ['one'], {'pubsub#access_model': 'whitelist'})
        set_affiliation(a, 'secret', B, 'member')
        assert item_ids(items(b.client(B), 'secret')) == ['one']
        create(a, 'news')
        ok(publish(a, 'news', 'n1'))
        set_affiliation(a, 'news', C, 'outcast')
        err(items(b.client(C), 'news'), 'auth', 'forbidden')
        a.close()


def test_node_does_not_exist():
    """XEP-0060 §6.5.9.11: an unknown node is <item-not-found/>; no node at all is
    <bad-request/> + <nodeid-required/>."""
    with harness.Broker(users=USERS) as b:
        c = b.client(B)
        err(items(c, 'nope'), 'cancel', 'item-not-found')
        err(request(c, 'get', el(P('items'))), 'modify', 'bad-request', 'nodeid-required')


# ------------------------------------------------------------------ pubsub#item_expire
def test_expired_items_are_not_returned_and_are_retracted():
    """XEP-0060 §17.4.4 pubsub#item_expire: an item older than item_expire seconds is no
    longer returned (all items, max_items, by id, RSM count, disco#items) and the service
    removes it, notifying subscribers of the retraction when notify_retract is set."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'flash', {'pubsub#item_expire': 2, 'pubsub#notify_retract': True})
        bob = online(b, B)
        subscription_of(subscribe(bob, 'flash'))
        ok(publish(a, 'flash', 'old'))
        t0 = time.monotonic()
        expect_event(bob, 'flash')
        time.sleep(1.2)
        ok(publish(a, 'flash', 'new'))
        expect_event(bob, 'flash')
        assert item_ids(items(a, 'flash')) == ['old', 'new']
        time.sleep(max(0, t0 + 2.3 - time.monotonic()))   # 'old' expired, 'new' not yet
        assert item_ids(items(a, 'flash')) == ['new']
        assert item_ids(items(a, 'flash', ids=['old', 'new'])) == ['new']
        r = items(a, 'flash', rsm={'max': 5})
        assert item_ids(r) == ['new'] and rsm_of(r)['count'] == '1', show(r)
        r = ok(a.iq(el('iq', {'type': 'get', 'to': PS},
                       el(qn(NS_DISCO_ITEMS, 'query'), {'node': 'flash'}))))
        names = [i.get('name') for i in r.find(qn(NS_DISCO_ITEMS, 'query'))]
        assert names == ['new'], show(r)
        retracted = []
        while len(retracted) < 2:
            m = expect_event(bob, 'flash', timeout=10)
            its = event_items(m)
            assert its and all(t == 'retract' for t, _, _ in its), show(m)
            retracted += [i for _, i, _ in its]
        assert retracted == ['old', 'new'], retracted
        assert item_ids(items(a, 'flash')) == []
        no_event(bob)
        a.close()


def test_expiry_without_notify_retract_is_silent():
    """XEP-0060 §17.4.4: with notify_retract false, expired items go without
    notifications; nodes without item_expire keep their items."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'flash', {'pubsub#item_expire': 1})
        create(a, 'keep')
        bob = online(b, B)
        subscription_of(subscribe(bob, 'flash'))
        ok(publish(a, 'flash', 'x'))
        ok(publish(a, 'keep', 'y'))
        expect_event(bob, 'flash')
        time.sleep(1.5)
        assert item_ids(items(a, 'flash')) == []
        no_event(bob, timeout=4)
        assert item_ids(items(a, 'keep')) == ['y']
        a.close()


if __name__ == '__main__':
    harness.main(globals())
