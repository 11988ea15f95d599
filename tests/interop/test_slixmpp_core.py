"""Interop with a real third-party client: slixmpp (Debian 12's python3-slixmpp, 1.8.3).

Two registered accounts connect (STARTTLS, or direct TLS per XEP-0368) and authenticate
with SCRAM-SHA-256, verifying the broker's self-signed certificate for 'localhost'; they
add each other to their rosters and subscribe (RFC 6121 §3), see each other's presence
(§4) and exchange messages both ways (§5). Every wait is bounded.

slixmpp 1.8.3 knows only the tls-unique channel binding, which is undefined for TLS 1.3
(RFC 9266), while Herald offers -PLUS with tls-exporter and tls-server-end-point. Left to
itself slixmpp tries SCRAM-*-PLUS with p=tls-unique, then plain SCRAM with the 'y' flag,
and the broker accepts the 'y' retry on that stream (the client saw -PLUS offered, so it
is no downgrade): test_default_negotiation_logs_in checks that default path. The other
tests pin SCRAM-SHA-256 to check that mechanism was really used.
"""

import asyncio

from slix_common import STEP, SlixPeer, harness, need_slixmpp

ALICE = ('alice@localhost', 'alice-secret')
BOB = ('bob@localhost', 'bob-secret')
TOTAL = 90      # seconds for a whole test


class Peer(SlixPeer):
    """A slixmpp client with roster and presence handling, plus futures for what the tests
    wait for."""

    def __init__(self, b, jid, password, resource, scram_only=True, retry_auth=False):
        super().__init__(b, jid, password, resource, ('xep_0030', 'xep_0199'),
                         scram_only=scram_only, retry_auth=retry_auth)
        self.x.auto_authorize = True
        self.x.auto_subscribe = True
        self.messages = asyncio.Queue()
        self.available = {}            # bare JID -> future resolved by their presence
        self.x.add_event_handler('message', self._on_message)
        self.x.add_event_handler('presence_available', self._on_available)

    def _on_message(self, msg):
        if msg['type'] in ('chat', 'normal'):
            self.messages.put_nowait(msg)

    def _on_available(self, pres):
        fut = self.available.get(pres['from'].bare)
        if fut is not None and not fut.done():
            fut.set_result(pres)

    def expect_available(self, bare):
        loop = asyncio.get_running_loop()
        self.available.setdefault(bare, loop.create_future())
        return self.available[bare]

    async def start(self, address, direct_tls=False):
        await super().start(address, direct_tls)
        assert self.x['feature_mechanisms'].mech.name == 'SCRAM-SHA-256', \
            self.x['feature_mechanisms'].mech.name
        assert self.x.boundjid.bare == self.bare, self.x.boundjid
        await asyncio.wait_for(self.x.get_roster(), STEP)
        self.x.send_presence()


async def _roster_presence_messages(b, direct_tls):
    kind = 'c2s_tls' if direct_tls else 'c2s'
    addr = ('127.0.0.1', b.port(kind))
    a = Peer(b, ALICE[0], ALICE[1], 'slix-a')
    c = Peer(b, BOB[0], BOB[1], 'slix-b')
    try:
        await a.start(addr, direct_tls)
        await c.start(addr, direct_tls)
        if direct_tls:
            assert a.x.socket.version() in ('TLSv1.2', 'TLSv1.3')
        # RFC 6121 §3.1: alice subscribes to bob; bob's client approves and subscribes
        # back (auto_authorize / auto_subscribe); then each sees the other available.
        a_sees_b = a.expect_available(BOB[0])
        b_sees_a = c.expect_available(ALICE[0])
        a.x.send_presence_subscription(pto=BOB[0])
        await asyncio.wait_for(asyncio.gather(a_sees_b, b_sees_a), STEP)

        async def both_ways_subscribed():
            while True:
                ra = a.x.client_roster[BOB[0]]['subscription']
                rb = c.x.client_roster[ALICE[0]]['subscription']
                if ra == 'both' and rb == 'both':
                    return
                await asyncio.sleep(0.05)
        await asyncio.wait_for(both_ways_subscribed(), STEP)

        # RFC 6121 §5: messages both ways, to the bare JID and to the full JID.
        a.x.send_message(mto=BOB[0], mbody='hello bob', mtype='chat')
        m = await asyncio.wait_for(c.messages.get(), STEP)
        assert m['body'] == 'hello bob' and m['from'] == a.x.boundjid, (m['from'], m['body'])
        c.x.send_message(mto=a.x.boundjid, mbody='hello alice', mtype='chat')
        m = await asyncio.wait_for(a.messages.get(), STEP)
        assert m['body'] == 'hello alice' and m['from'] == c.x.boundjid, (m['from'], m['body'])

        # XEP-0199 from slixmpp, to the server.
        rtt = await asyncio.wait_for(a.x['xep_0199'].ping('localhost', timeout=STEP), STEP)
        assert rtt is not None and rtt >= 0
    finally:
        for p in (a, c):
            await p.stop()


def _run(coro):
    asyncio.run(asyncio.wait_for(coro, TOTAL))


def test_starttls_scram_roster_presence_messages():
    """RFC 6120 §5-§7 (STARTTLS, SCRAM-SHA-256, bind), RFC 6121 §2-§5 (roster, mutual
    subscription, presence, messages) with slixmpp over STARTTLS."""
    need_slixmpp()
    with harness.Broker(users=[ALICE, BOB]) as b:
        _run(_roster_presence_messages(b, direct_tls=False))


def test_direct_tls_scram_roster_presence_messages():
    """XEP-0368 direct TLS, then the same exchange as over STARTTLS."""
    need_slixmpp()
    with harness.Broker(users=[ALICE, BOB]) as b:
        _run(_roster_presence_messages(b, direct_tls=True))


def test_default_negotiation_logs_in():
    """RFC 5802 §6 / RFC 9266: slixmpp 1.8.3 left to its defaults first tries SCRAM-*-PLUS
    with p=tls-unique (undefined for TLS 1.3, so refused with
    unsupported-channel-binding-type), then plain SCRAM with the 'y' flag. Having seen
    -PLUS offered and refused for its binding type, the client's 'y' is no downgrade, so
    the broker accepts it on that stream: the default configuration logs in."""
    need_slixmpp()
    with harness.Broker(users=[ALICE]) as b:
        async def go():
            p = Peer(b, ALICE[0], ALICE[1], 'default', scram_only=False, retry_auth=True)
            ok = await p.connect(('127.0.0.1', b.port('c2s')))
            await p.stop()
            return ok
        ok = asyncio.run(asyncio.wait_for(go(), TOTAL))
        lines = b.log_lines()
        assert ok, 'slixmpp with its defaults did not log in: %s' % lines[-5:]
        assert any('unsupported-channel-binding-type' in x for x in lines), lines[-5:]


if __name__ == '__main__':
    harness.main(globals())
