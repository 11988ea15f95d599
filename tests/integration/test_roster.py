"""Roster management (RFC 6121 §2): get, set, update, remove, pushes, versioning, errors,
and what removing an item tells the contact (§2.5.2)."""

import harness
import xmpp
from xmpp import el, qn, NS_ROSTER

R = lambda local: qn(NS_ROSTER, local)  # noqa: E731
USERS = [('alice@localhost', 'pw-alice'), ('bob@localhost', 'pw-bob'),
         ('carol@localhost', 'pw-carol')]


# ------------------------------------------------------------------ helpers
def roster_get(c, ver=None):
    q = el(R('query'), {'ver': ver})
    return c.iq(el('iq', {'type': 'get'}, q))


def items_of(result):
    """{jid: item element} of a roster result or push."""
    q = result.find(R('query'))
    assert q is not None, xmpp.to_xml(result)
    return {i.get('jid'): i for i in q.findall(R('item'))}


def groups_of(item):
    return sorted(g.text or '' for g in item.findall(R('group')))


def roster_set(c, jid, name=None, groups=(), subscription=None, extra_items=(), to=None):
    item = el(R('item'), {'jid': jid, 'name': name, 'subscription': subscription})
    for g in groups:
        item.append(el(R('group'), text=g))
    q = el(R('query'), None, item, *extra_items)
    return c.iq(el('iq', {'type': 'set', 'to': to}, q))


def is_push(e):
    return (e.tag == qn(xmpp.NS_CLIENT, 'iq') and e.get('type') == 'set'
            and e.find(R('query')) is not None)


def expect_push(c, jid, timeout=5):
    """A roster push (§2.1.6) for jid; acknowledged as clients should. Returns the item."""
    def match(e):
        return is_push(e) and e.find(R('query')).find(R('item')).get('jid') == jid
    p = c.expect(match, timeout=timeout, what='roster push for %s' % jid)
    q = p.find(R('query'))
    items = q.findall(R('item'))
    assert len(items) == 1, xmpp.to_xml(p)            # §2.1.6 rule 1
    assert p.get('from') in (None, c.bare_jid), xmpp.to_xml(p)  # §2.1.6 rule 2
    assert p.get('id'), xmpp.to_xml(p)
    c.send(el('iq', {'type': 'result', 'id': p.get('id')}))
    return items[0], q.get('ver')


def assert_error(r, cond, etype=None):
    t, c = xmpp.error_condition(r)
    assert r.get('type') == 'error' and c == cond, xmpp.to_xml(r)
    if etype:
        assert t == etype, xmpp.to_xml(r)


def interested(b, user, resource=None):
    c = b.client(user, resource=resource)
    r = roster_get(c)
    assert r.get('type') == 'result', xmpp.to_xml(r)
    return c


# ------------------------------------------------------------------ get (§2.1.3, §2.1.4)
def test_get_empty_roster():
    """RFC 6121 §2.1.4: an empty roster is a result with an empty <query/> (never an
    error), and §2.6.3: it carries a version."""
    with harness.Broker(users=USERS) as b:
        c = b.client('alice@localhost')
        r = roster_get(c)
        assert r.get('type') == 'result', xmpp.to_xml(r)
        q = r.find(R('query'))
        assert q is not None and len(q) == 0 and q.get('ver'), xmpp.to_xml(r)
        c.close()


def test_get_with_items_is_bad_request():
    """RFC 6121 §2.1.3: a roster get MUST NOT contain <item/> children."""
    with harness.Broker(users=USERS) as b:
        c = b.client('alice@localhost')
        q = el(R('query'), None, el(R('item'), {'jid': 'bob@localhost'}))
        assert_error(c.iq(el('iq', {'type': 'get'}, q)), 'bad-request')
        c.close()


# ------------------------------------------------------------------ add (§2.3)
def test_add_item_result_and_push_to_interested_only():
    """RFC 6121 §2.3.2: result to the sender, push to every interested resource (§2.2:
    those that asked for the roster), not to a resource that never did."""
    with harness.Broker(users=USERS) as b:
        c1 = interested(b, 'alice@localhost', 'one')
        c2 = interested(b, 'alice@localhost', 'two')
        c3 = b.client('alice@localhost', resource='three')   # connected, not interested
        r = roster_set(c1, 'bob@localhost', name='Bob', groups=['Friends', 'Work'])
        assert r.get('type') == 'result' and len(r) == 0, xmpp.to_xml(r)
        for c in (c1, c2):
            item, ver = expect_push(c, 'bob@localhost')
            assert item.get('name') == 'Bob' and item.get('subscription') == 'none'
            assert item.get('ask') is None and item.get('approved') is None
            assert groups_of(item) == ['Friends', 'Work']
            assert ver, 'push without ver (RFC 6121 §2.6.3)'
        c3.expect_none(is_push, timeout=0.5)
        items = items_of(roster_get(c3))
        assert list(items) == ['bob@localhost'], items
        assert groups_of(items['bob@localhost']) == ['Friends', 'Work']
        for c in (c1, c2, c3):
            c.close()


def test_set_ignores_subscription_values_other_than_remove():
    """RFC 6121 §2.1.2.5 / §2.1.5 rule 2: in a roster set the server ignores any
    'subscription' but "remove" (and 'ask'/'approved' are the server's, §2.1.2.1-2)."""
    with harness.Broker(users=USERS) as b:
        c = interested(b, 'alice@localhost')
        item = el(R('item'), {'jid': 'bob@localhost', 'subscription': 'both', 'ask': 'subscribe',
                              'approved': 'true'})
        r = c.iq(el('iq', {'type': 'set'}, el(R('query'), None, item)))
        assert r.get('type') == 'result', xmpp.to_xml(r)
        pushed, _ = expect_push(c, 'bob@localhost')
        assert pushed.get('subscription') == 'none', xmpp.to_xml(pushed)
        assert pushed.get('ask') is None and pushed.get('approved') is None
        c.close()


def test_update_item_replaces_it():
    """RFC 6121 §2.4: an update replaces the item as given (groups added, removed, name
    changed, name removed with name='')."""
    with harness.Broker(users=USERS) as b:
        c = interested(b, 'alice@localhost')
        roster_set(c, 'bob@localhost', name='Bob', groups=['Friends'])
        expect_push(c, 'bob@localhost')
        roster_set(c, 'bob@localhost', name='Bobby', groups=['Friends', 'Lovers'])
        item, _ = expect_push(c, 'bob@localhost')
        assert item.get('name') == 'Bobby' and groups_of(item) == ['Friends', 'Lovers']
        roster_set(c, 'bob@localhost', name='', groups=[])
        item, _ = expect_push(c, 'bob@localhost')
        assert item.get('name') in (None, '') and groups_of(item) == [], xmpp.to_xml(item)
        items = items_of(roster_get(c))
        assert items['bob@localhost'].get('name') in (None, '')
        assert groups_of(items['bob@localhost']) == []
        c.close()


def test_roster_survives_restart():
    """RFC 6121 §2: the server stores the roster (here: across a restart)."""
    with harness.Broker(users=USERS) as b:
        c = interested(b, 'alice@localhost')
        roster_set(c, 'bob@localhost', name='Bob', groups=['Friends'])
        expect_push(c, 'bob@localhost')
        ver = roster_get(c).find(R('query')).get('ver')
        c.close()
        b.restart()
        c = b.client('alice@localhost')
        r = roster_get(c)
        assert r.find(R('query')).get('ver') == ver, xmpp.to_xml(r)
        items = items_of(r)
        assert items['bob@localhost'].get('name') == 'Bob'
        assert groups_of(items['bob@localhost']) == ['Friends']
        c.close()


# ------------------------------------------------------------------ errors (§2.1.5, §2.3.3)
def test_set_errors():
    """RFC 6121 §2.3.3 (and §2.4.3, which applies them to updates): more than one item and
    duplicate groups -> <bad-request/>; an oversized name, an empty or oversized group ->
    <not-acceptable/>; a missing jid -> <bad-request/>; a malformed one -> <jid-malformed/>;
    the user's own JID -> <not-allowed/> (interoperability note). Nothing is stored."""
    with harness.Broker(users=USERS) as b:
        c = interested(b, 'alice@localhost')
        two = [el(R('item'), {'jid': 'carol@localhost'})]
        assert_error(roster_set(c, 'bob@localhost', extra_items=two), 'bad-request', 'modify')
        assert_error(roster_set(c, 'bob@localhost', groups=['A', 'A']), 'bad-request', 'modify')
        assert_error(roster_set(c, 'bob@localhost', name='n' * 1024), 'not-acceptable', 'modify')
        assert_error(roster_set(c, 'bob@localhost', groups=['']), 'not-acceptable', 'modify')
        assert_error(roster_set(c, 'bob@localhost', groups=['g' * 1024]), 'not-acceptable')
        assert_error(roster_set(c, 'bob@localhost', groups=['g%d' % i for i in range(65)]),
                     'not-acceptable')
        noj = c.iq(el('iq', {'type': 'set'}, el(R('query'), None, el(R('item'), {'name': 'x'}))))
        assert_error(noj, 'bad-request')
        assert_error(roster_set(c, 'bad@@jid@localhost'), 'jid-malformed', 'modify')
        assert_error(roster_set(c, 'alice@localhost'), 'not-allowed')
        # The limits are limits, not off by one: the largest allowed values are stored.
        ok = roster_set(c, 'bob@localhost', name='n' * 1023, groups=['g' * 1023])
        assert ok.get('type') == 'result', xmpp.to_xml(ok)
        expect_push(c, 'bob@localhost')
        assert list(items_of(roster_get(c))) == ['bob@localhost']
        c.close()


def test_duplicate_groups_compared_as_resourceparts():
    """RFC 6121 §2.3.3: duplicates are found with the resourcepart comparison (OpaqueString:
    NFC, so a decomposed e-acute equals the precomposed one); distinct names are fine."""
    with harness.Broker(users=USERS) as b:
        c = b.client('alice@localhost')
        assert_error(roster_set(c, 'bob@localhost', groups=['Caf\u00e9', 'Cafe\u0301']),
                     'bad-request')
        assert roster_set(c, 'bob@localhost', groups=['Work', 'work']).get('type') == 'result'
        c.close()


def test_set_for_another_account_is_forbidden():
    """RFC 6121 §2.1.5 security warning, §2.3.3: a roster set addressed to another
    account gets <forbidden/>; a get too."""
    with harness.Broker(users=USERS) as b:
        c = b.client('alice@localhost')
        assert_error(roster_set(c, 'carol@localhost', to='bob@localhost'), 'forbidden', 'auth')
        r = c.iq(el('iq', {'type': 'get', 'to': 'bob@localhost'}, el(R('query'))))
        assert_error(r, 'forbidden')
        d = b.client('bob@localhost')
        assert items_of(roster_get(d)) == {}
        c.close()
        d.close()


def test_max_roster_items():
    """RFC 6121 §2.3.3 (a server-configured limit -> <not-acceptable/>): max_roster_items
    bounds the roster; updates of existing items still work."""
    with harness.Broker(users=USERS, overrides={'max_roster_items': '2'}) as b:
        c = b.client('alice@localhost')
        for j in ('u1@localhost', 'u2@localhost'):
            assert roster_set(c, j).get('type') == 'result'
        assert_error(roster_set(c, 'u3@localhost'), 'not-acceptable')
        assert roster_set(c, 'u1@localhost', name='again').get('type') == 'result'
        assert sorted(items_of(roster_get(c))) == ['u1@localhost', 'u2@localhost']
        c.close()


# ------------------------------------------------------------------ remove (§2.5)
def test_remove_item_pushes_remove():
    """RFC 6121 §2.5.2: the item is removed, the result goes to the sender and a push with
    subscription='remove' to every interested resource."""
    with harness.Broker(users=USERS) as b:
        c1 = interested(b, 'alice@localhost', 'one')
        c2 = interested(b, 'alice@localhost', 'two')
        roster_set(c1, 'bob@localhost', name='Bob')
        for c in (c1, c2):
            expect_push(c, 'bob@localhost')
        r = roster_set(c1, 'bob@localhost', subscription='remove')
        assert r.get('type') == 'result', xmpp.to_xml(r)
        for c in (c1, c2):
            item, ver = expect_push(c, 'bob@localhost')
            assert item.get('subscription') == 'remove' and ver, xmpp.to_xml(item)
        assert items_of(roster_get(c1)) == {}
        c1.close()
        c2.close()


def test_remove_unknown_item_is_item_not_found():
    """RFC 6121 §2.5.3: removing an item that is not in the roster -> <item-not-found/>."""
    with harness.Broker(users=USERS) as b:
        c = b.client('alice@localhost')
        assert_error(roster_set(c, 'nobody@localhost', subscription='remove'), 'item-not-found')
        c.close()


def test_remove_mutual_contact_unsubscribes_both_ways():
    """RFC 6121 §2.5.2 #3: removing a contact with a mutual subscription sends it both
    unsubscribe and unsubscribed (and §3.2.2: unavailable first); the contact's roster
    is pushed to subscription none."""
    with harness.Broker(users=USERS) as b:
        a = interested(b, 'alice@localhost')
        d = interested(b, 'bob@localhost')
        mutual(a, d)
        d.drain()
        a.drain()
        roster_set(a, 'bob@localhost', subscription='remove')
        item, _ = expect_push(a, 'bob@localhost')
        assert item.get('subscription') == 'remove'
        d.expect({'tag': 'presence', 'from': a.jid, 'type': 'unavailable'})
        got = {d.expect(lambda e: e.get('type') in ('unsubscribe', 'unsubscribed')
                        and e.get('from') == 'alice@localhost').get('type') for _ in range(2)}
        assert got == {'unsubscribe', 'unsubscribed'}, got
        item, _ = expect_push(d, 'alice@localhost')
        while item.get('subscription') != 'none':
            item, _ = expect_push(d, 'alice@localhost')
        assert item.get('subscription') == 'none' and item.get('ask') is None
        assert items_of(roster_get(d))['alice@localhost'].get('subscription') == 'none'
        a.close()
        d.close()


def mutual(a, d):
    """Make a mutual subscription between the two clients' accounts (RFC 6121 §3.1); both
    are made available first (§3.1.3: requests go to available resources)."""
    a.presence()
    d.presence()
    a.presence(to=d.bare_jid, type='subscribe')
    d.expect({'tag': 'presence', 'type': 'subscribe', 'from': a.bare_jid}, timeout=5)
    d.presence(to=a.bare_jid, type='subscribed')
    d.presence(to=a.bare_jid, type='subscribe')
    a.expect({'tag': 'presence', 'type': 'subscribe', 'from': d.bare_jid}, timeout=5)
    a.presence(to=d.bare_jid, type='subscribed')
    for c, other in ((a, d), (d, a)):
        r = roster_get(c)
        assert items_of(r)[other.bare_jid].get('subscription') == 'both', xmpp.to_xml(r)


# ------------------------------------------------------------------ versioning (§2.6)
def test_versioning():
    """RFC 6121 §2.6.3: a get naming the current version gets an empty result (no
    <query/>); ver="" or an old version gets the whole roster with the current version;
    every push carries a new, unique version that a later get confirms."""
    with harness.Broker(users=USERS) as b:
        c = b.client('alice@localhost')
        r = roster_get(c, ver='')
        v0 = r.find(R('query')).get('ver')
        assert v0 is not None, xmpp.to_xml(r)
        same = roster_get(c, ver=v0)
        assert same.get('type') == 'result' and len(same) == 0, xmpp.to_xml(same)
        roster_set(c, 'bob@localhost')
        _, v1 = expect_push(c, 'bob@localhost')
        roster_set(c, 'carol@localhost')
        _, v2 = expect_push(c, 'carol@localhost')
        assert len({v0, v1, v2}) == 3, (v0, v1, v2)
        full = roster_get(c, ver=v0)
        assert full.find(R('query')).get('ver') == v2, xmpp.to_xml(full)
        assert sorted(items_of(full)) == ['bob@localhost', 'carol@localhost']
        assert len(roster_get(c, ver=v2)) == 0
        roster_set(c, 'bob@localhost', subscription='remove')
        _, v3 = expect_push(c, 'bob@localhost')
        assert v3 not in (v0, v1, v2)
        r = roster_get(c, ver=v2)
        assert r.find(R('query')).get('ver') == v3 and list(items_of(r)) == ['carol@localhost']
        c.close()


if __name__ == '__main__':
    harness.main(globals())
