"""Service discovery (XEP-0030), ping (XEP-0199) and software version (XEP-0092)."""

import time

import harness
import xmpp
from core_helpers import NS_VERSION, assert_error, bound, disco_info, disco_items, iq_get
from xmpp import NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, el, qn

ALICE = ('alice@localhost', 'alice-secret')
BOB = ('bob@localhost', 'bob-secret')


def identities(r):
    return {(i.get('category'), i.get('type')) for i in r.iter(qn(NS_DISCO_INFO, 'identity'))}


def features(r):
    return [f.get('var') for f in r.iter(qn(NS_DISCO_INFO, 'feature'))]


def test_ping_server():
    """XEP-0199 §4.2: the server answers a c2s ping with an empty result, from its domain;
    a ping without 'to', or to one's own bare JID (RFC 6120 §10.3.3: the same thing), is
    answered by the server too. Another account's bare JID has nobody to answer for it
    (RFC 6121 §8.5.2.1.3: <service-unavailable/>)."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        c = b.client(*ALICE)
        r = c.ping('localhost')
        assert r.get('type') == 'result' and len(r) == 0, xmpp.to_xml(r)
        assert r.get('from') == 'localhost' and r.get('to') == c.jid
        for to in (None, 'alice@localhost'):
            r = c.ping(to)
            assert r.get('type') == 'result' and len(r) == 0, xmpp.to_xml(r)
        assert_error(c.ping('bob@localhost'), 'cancel', 'service-unavailable')
        c.close()


def test_ping_set_is_bad_request():
    """XEP-0199 §4.2 (ping is an iq get): a set is refused."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        r = c.iq(el('iq', {'type': 'set', 'to': 'localhost'}, el(qn(NS_PING, 'ping'))))
        assert r.get('type') == 'error'
        c.close()


def test_ping_client_to_client():
    """XEP-0199 §4.4: a ping to a full JID is delivered to that client, which answers."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        a = b.client(*ALICE)
        bb = b.client(*BOB)
        a.send(el('iq', {'type': 'get', 'id': 'c2c', 'to': bb.jid}, el(qn(NS_PING, 'ping'))))
        q = bb.expect({'tag': 'iq', 'id': 'c2c'})
        assert q.find(qn(NS_PING, 'ping')) is not None and q.get('from') == a.jid
        bb.send(el('iq', {'type': 'result', 'id': 'c2c', 'to': a.jid}))
        assert a.expect({'tag': 'iq', 'id': 'c2c'}).get('type') == 'result'
        a.close()
        bb.close()


def test_ping_other_domain():
    """XEP-0199 §4.3 / RFC 6120 §8.3.3.16: no server-to-server: remote-server-not-found."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        assert_error(c.ping('capulet.example'), 'cancel', 'remote-server-not-found')
        c.close()


def test_disco_info_server():
    """XEP-0030 §3.1: the server is a server/im identity and lists disco#info,
    disco#items, ping (XEP-0199 §5) and version (XEP-0092 §3); each feature once."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        r = disco_info(c, 'localhost')
        assert r.get('type') == 'result', xmpp.to_xml(r)
        assert r.get('from') == 'localhost'
        assert ('server', 'im') in identities(r), xmpp.to_xml(r)
        f = features(r)
        for var in (NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION):
            assert var in f, (var, f)
        assert len(f) == len(set(f)), 'duplicate features: %r' % f
        c.close()


def test_disco_info_unknown_node():
    """XEP-0030 §3.2: disco#info for a node the server does not have -> item-not-found."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        assert_error(disco_info(c, 'localhost', node='no-such-node'), 'cancel', 'item-not-found')
        assert_error(disco_items(c, 'localhost', node='no-such-node'), 'cancel', 'item-not-found')
        c.close()


def test_disco_items_server():
    """XEP-0030 §4.1: the server's items include its pubsub service (pubsub.localhost)."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        r = disco_items(c, 'localhost')
        assert r.get('type') == 'result', xmpp.to_xml(r)
        jids = [i.get('jid') for i in r.iter(qn(NS_DISCO_ITEMS, 'item'))]
        assert 'pubsub.localhost' in jids, jids
        c.close()


def test_disco_info_account():
    """XEP-0030 §3.1 with RFC 6121 §8.5.1: the server answers disco#info for an account's
    bare JID (identity account/registered) to the account itself and to those the account
    lets see its presence; XEP-0030 §8: anyone else gets <service-unavailable/>, as for an
    account that does not exist (no directory harvesting)."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        a = bound(b, ALICE[0], presence=True)
        d = bound(b, BOB[0], presence=True)

        def check_result(to):
            r = disco_info(a, to)
            assert r.get('type') == 'result', xmpp.to_xml(r)
            assert r.get('from') == to
            assert ('account', 'registered') in identities(r), xmpp.to_xml(r)
            assert NS_DISCO_INFO in features(r)

        check_result('alice@localhost')
        assert_error(disco_info(a, 'bob@localhost'), 'cancel', 'service-unavailable')
        # Bob approves Alice's presence subscription: his roster has her as 'from'.
        a.send(el('presence', {'to': 'bob@localhost', 'type': 'subscribe'}))
        d.expect({'tag': 'presence', 'type': 'subscribe'})
        d.send(el('presence', {'to': 'alice@localhost', 'type': 'subscribed'}))
        time.sleep(0.3)
        check_result('bob@localhost')
        a.close()
        d.close()


def test_disco_info_anonymous_account():
    """XEP-0030 registry (account category): an anonymous account is account/anonymous."""
    with harness.Broker(overrides={'anonymous': 'true'}) as b:
        c = b.client(mech='ANONYMOUS')
        r = disco_info(c, c.bare_jid)
        assert ('account', 'anonymous') in identities(r), xmpp.to_xml(r)
        c.close()


def test_disco_items_account():
    """XEP-0030 §4.1 with RFC 6121 §8.5.1: disco#items of an account's bare JID lists its
    available resources, to the account itself and to those it lets see its presence;
    §8: anyone else gets an empty result."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        a = bound(b, ALICE[0], 'phone', presence=True)
        d = bound(b, BOB[0], 'desk', presence=True)
        bound(b, BOB[0], 'silent')  # connected, never available: not listed

        def items(c, to):
            r = disco_items(c, to)
            assert r.get('type') == 'result', xmpp.to_xml(r)
            return sorted(i.get('jid') for i in r.iter(qn(NS_DISCO_ITEMS, 'item')))

        assert items(d, 'bob@localhost') == ['bob@localhost/desk']
        assert items(a, 'bob@localhost') == []
        a.send(el('presence', {'to': 'bob@localhost', 'type': 'subscribe'}))
        d.expect({'tag': 'presence', 'type': 'subscribe'})
        d.send(el('presence', {'to': 'alice@localhost', 'type': 'subscribed'}))
        time.sleep(0.3)
        assert items(a, 'bob@localhost') == ['bob@localhost/desk']
        a.close()
        d.close()


def test_disco_unknown_account():
    """RFC 6121 §8.5.1 with XEP-0030 §8: disco#info of a bare JID with no account ->
    service-unavailable (as for an account the asker may not see); disco#items -> an empty
    result (as for an account the asker may not see), so neither tells whether it exists."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        a = b.client(*ALICE)
        assert_error(disco_info(a, 'ghost@localhost'), 'cancel', 'service-unavailable')
        for to in ('ghost@localhost', 'bob@localhost'):
            r = disco_items(a, to)
            assert r.get('type') == 'result', xmpp.to_xml(r)
            assert r.find(qn(NS_DISCO_ITEMS, 'query')) is not None and \
                len(r.find(qn(NS_DISCO_ITEMS, 'query'))) == 0, xmpp.to_xml(r)
        assert_error(a.ping('ghost@localhost'), 'cancel', 'service-unavailable')
        a.close()


def test_version():
    """XEP-0092 §2: the server's software name and version."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        r = iq_get(c, 'localhost', el(qn(NS_VERSION, 'query')))
        q = r.find(qn(NS_VERSION, 'query'))
        assert r.get('type') == 'result' and q is not None, xmpp.to_xml(r)
        assert q.findtext(qn(NS_VERSION, 'name')) == 'Herald'
        assert q.findtext(qn(NS_VERSION, 'version'))
        c.close()


def test_disco_info_set_is_refused():
    """XEP-0030 §3.1 (disco is an iq get) with RFC 6120 §8.2.3: a set gets an error."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        r = c.iq(el('iq', {'type': 'set', 'to': 'localhost'}, el(qn(NS_DISCO_INFO, 'query'))))
        assert r.get('type') == 'error'
        c.close()


if __name__ == '__main__':
    harness.main(globals())
