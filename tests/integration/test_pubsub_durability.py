"""Durability and isolation of the publish path (DESIGN.md "Durability", "Fan-out").

- A publish is acknowledged only after its write is committed and synced: SIGKILL during a
  stream of pipelined publishes loses none that were acknowledged, and the environment
  reopens consistent (XEP-0060 §7.1.2 items are retrievable after restart, §6.5).
- Nodes, subscriptions and affiliations survive a clean restart too.
- A subscriber that stops reading costs the others nothing: it is dropped once its
  queued output passes output_buffer_limit, and the others receive every item.
"""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import xmpp  # noqa: E402

P = 'http://jabber.org/protocol/pubsub'
PE = 'http://jabber.org/protocol/pubsub#event'
ALICE = ('alice@localhost', 'alice-pw')


def _create(c, node, max_items='max'):
    r = c.iq(xmpp.parse(
        "<iq type='set' to='pubsub.localhost'><pubsub xmlns='%s'><create node='%s'/>"
        "<configure><x xmlns='jabber:x:data' type='submit'>"
        "<field var='FORM_TYPE' type='hidden'><value>%s#node_config</value></field>"
        "<field var='pubsub#max_items'><value>%s</value></field>"
        "</x></configure></pubsub></iq>" % (P, node, P, max_items)))
    assert r.get('type') == 'result', xmpp.to_xml(r)


def _items(c, node):
    r = c.iq(xmpp.parse("<iq type='get' to='pubsub.localhost'><pubsub xmlns='%s'>"
                        "<items node='%s'/></pubsub></iq>" % (P, node)))
    assert r.get('type') == 'result', xmpp.to_xml(r)
    items = r.find('{%s}pubsub/{%s}items' % (P, P))
    return [i.get('id') for i in items.findall('{%s}item' % P)]


def _all_items(c, node):
    """Every item id, paging with XEP-0059 RSM (a reply holds at most 1000)."""
    ids, after = [], None
    for _ in range(100):
        rsm = "<set xmlns='http://jabber.org/protocol/rsm'><max>1000</max>%s</set>" % (
            "<after>%s</after>" % after if after else '')
        r = c.iq(xmpp.parse("<iq type='get' to='pubsub.localhost'><pubsub xmlns='%s'>"
                            "<items node='%s'/>%s</pubsub></iq>" % (P, node, rsm)))
        assert r.get('type') == 'result', xmpp.to_xml(r)
        page = [i.get('id') for i in r.findall('{%s}pubsub/{%s}items/{%s}item' % (P, P, P))]
        if not page:
            return ids
        ids.extend(page)
        after = page[-1]
    raise AssertionError('too many pages')


def test_sigkill_loses_no_acknowledged_publish():
    """DESIGN.md durability / XEP-0060 §7.1.2: every publish acknowledged before a SIGKILL
    is retrievable after restart; nothing half-written breaks the store."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(ALICE[0], tls=None)
        _create(c, 'crash')
        acked = []
        sent = 0
        window = 16
        killer = threading.Timer(0.8, lambda: b.proc.kill())
        killer.start()
        try:
            pending = set()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                while len(pending) < window and sent < 5000:
                    iid = 'i%05d' % sent
                    c.send("<iq type='set' id='p-%s' to='pubsub.localhost'><pubsub xmlns='%s'>"
                           "<publish node='crash'><item id='%s'><entry xmlns='urn:x:bench'>"
                           "%s</entry></item></publish></pubsub></iq>" % (iid, P, iid, 'x' * 300))
                    pending.add(iid)
                    sent += 1
                r = c.recv(timeout=5)
                if r is None:
                    continue
                rid = r.get('id', '')
                if rid.startswith('p-'):
                    assert r.get('type') == 'result', xmpp.to_xml(r)
                    acked.append(rid[2:])
                    pending.discard(rid[2:])
        except (xmpp.ConnectionClosed, xmpp.StreamClosed, OSError, xmpp.StreamError,
                xmpp.Timeout):
            pass  # the broker died under us: that is the point
        finally:
            killer.cancel()
        assert len(acked) > 10, 'too few publishes acknowledged before the kill: %d' % len(acked)
        b.kill9()  # already dead: reap it and start again on the same data dir
        c = b.client(ALICE[0], tls=None)
        have = set(_all_items(c, 'crash'))
        lost = [i for i in acked if i not in have]
        assert not lost, '%d acknowledged items lost, e.g. %s' % (len(lost), lost[:5])
        # The store still takes writes and the node behaves.
        r = c.iq(xmpp.parse("<iq type='set' to='pubsub.localhost'><pubsub xmlns='%s'>"
                            "<publish node='crash'><item id='after'><x xmlns='urn:x'/></item>"
                            "</publish></pubsub></iq>" % P))
        assert r.get('type') == 'result', xmpp.to_xml(r)
        assert 'after' in _all_items(c, 'crash')
        c.close()


def test_state_survives_restart():
    """XEP-0060 §5.6, §5.7, §6.5: nodes, subscriptions, affiliations and items are in LMDB,
    not only in memory."""
    bob = ('bob@localhost', 'bob-pw')
    with harness.Broker(users=[ALICE, bob]) as b:
        a = b.client(ALICE[0], tls=None)
        _create(a, 'keep', max_items='10')
        bc = b.client(bob[0], tls=None, resource='r')
        r = bc.iq(xmpp.parse("<iq type='set' to='pubsub.localhost'><pubsub xmlns='%s'>"
                             "<subscribe node='keep' jid='bob@localhost'/></pubsub></iq>" % P))
        assert r.get('type') == 'result', xmpp.to_xml(r)
        r = a.iq(xmpp.parse("<iq type='set' to='pubsub.localhost'><pubsub xmlns='%s'>"
                            "<publish node='keep'><item id='one'><v xmlns='urn:x'>1</v></item>"
                            "</publish></pubsub></iq>" % P))
        assert r.get('type') == 'result', xmpp.to_xml(r)
        b.restart()
        bc = b.client(bob[0], tls=None, resource='r')
        bc.send('<presence/>')
        r = bc.iq(xmpp.parse("<iq type='get' to='pubsub.localhost'><pubsub xmlns='%s'>"
                             "<subscriptions/></pubsub></iq>" % P))
        subs = r.findall('{%s}pubsub/{%s}subscriptions/{%s}subscription' % (P, P, P))
        assert [(s.get('node'), s.get('jid'), s.get('subscription')) for s in subs] == \
            [('keep', 'bob@localhost', 'subscribed')], xmpp.to_xml(r)
        a = b.client(ALICE[0], tls=None)
        r = a.iq(xmpp.parse("<iq type='get' to='pubsub.localhost'><pubsub xmlns='%s'>"
                            "<affiliations/></pubsub></iq>" % P))
        affs = r.findall('{%s}pubsub/{%s}affiliations/{%s}affiliation' % (P, P, P))
        assert ('keep', 'owner') in [(x.get('node'), x.get('affiliation')) for x in affs]
        assert _items(a, 'keep') == ['one']
        # The subscription still delivers after the restart.
        a.iq(xmpp.parse("<iq type='set' to='pubsub.localhost'><pubsub xmlns='%s'>"
                        "<publish node='keep'><item id='two'><v xmlns='urn:x'>2</v></item>"
                        "</publish></pubsub></iq>" % P))
        m = bc.expect({'tag': 'message', 'child': '{%s}event' % PE})
        item = m.find('{%s}event/{%s}items/{%s}item' % (PE, PE, PE))
        assert item is not None and item.get('id') == 'two', xmpp.to_xml(m)


def test_stalled_subscriber_does_not_delay_others():
    """DESIGN.md fan-out policy: a subscriber that stops reading is disconnected when its
    queued output passes output_buffer_limit; the other subscriber gets every item."""
    with harness.Broker(users=[ALICE], overrides={'output_buffer_limit': '262144',
                                                   'anonymous': 'true'},
                        expect_log=[]) as b:
        a = b.client(ALICE[0], tls=None)
        _create(a, 'flood')
        # The stalled subscriber: a tiny receive buffer, and it never reads again.
        slow = xmpp.Client('127.0.0.1', b.port('c2s_insecure'), 'localhost')
        slow_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        slow_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow_sock.connect(('127.0.0.1', b.port('c2s_insecure')))
        slow_sock.settimeout(10)
        slow.sock = slow_sock
        slow.open_stream()
        slow.auth_anonymous()
        sj = slow.bind()
        r = slow.iq(xmpp.parse("<iq type='set' to='pubsub.localhost'><pubsub xmlns='%s'>"
                               "<subscribe node='flood' jid='%s'/></pubsub></iq>" % (P, sj)))
        assert r.get('type') == 'result', xmpp.to_xml(r)
        fast = b.client(mech='ANONYMOUS', tls=None)
        fj = fast.jid
        r = fast.iq(xmpp.parse("<iq type='set' to='pubsub.localhost'><pubsub xmlns='%s'>"
                               "<subscribe node='flood' jid='%s'/></pubsub></iq>" % (P, fj)))
        assert r.get('type') == 'result', xmpp.to_xml(r)
        payload = 'y' * 60000
        count = 60  # ~3.6 MB towards the stalled one: well past its 256 kB limit
        got = []
        for i in range(count):
            r = a.iq(xmpp.parse("<iq type='set' to='pubsub.localhost'><pubsub xmlns='%s'>"
                                "<publish node='flood'><item id='f%d'><b xmlns='urn:x'>%s</b>"
                                "</item></publish></pubsub></iq>" % (P, i, payload)))
            assert r.get('type') == 'result', xmpp.to_xml(r)
            # The reader keeps up item by item while the other one is stuck.
            m = fast.expect({'tag': 'message', 'child': '{%s}event' % PE}, timeout=10)
            got.append(m.find('{%s}event/{%s}items/{%s}item' % (PE, PE, PE)).get('id'))
        assert got == ['f%d' % i for i in range(count)], got[:5]
        b.wait_for_log(r'disconnecting a slow reader', timeout=5)
        # The stalled connection was dropped by the server: draining it ends in EOF.
        slow_sock.settimeout(5)
        total = 0
        while True:
            try:
                d = slow_sock.recv(1 << 20)
            except socket.timeout:
                raise AssertionError('the stalled subscriber was not disconnected')
            except ConnectionResetError:
                break
            if not d:
                break
            total += len(d)
        assert total < count * len(payload), 'the stalled reader got everything: %d' % total
        slow_sock.close()


if __name__ == '__main__':
    harness.main(globals())
