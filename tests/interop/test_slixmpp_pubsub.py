"""Interop with a real third-party client: slixmpp's XEP-0060 plugin (Debian 12's
python3-slixmpp, 1.8.3) drives the broker's pubsub service.

Alice creates and configures a node (§8.1, §8.2), Bob subscribes (§6.1), Alice publishes
(§7.1) and Bob receives the event, retrieves items (§6.5, all / by id / max_items) and his
subscriptions (§5.6); Alice retracts with notify (§7.2) and Bob hears of it; Bob
unsubscribes and subscribes again (§6.2); Alice deletes the node (§8.4) and Bob hears of
that too. Every step is bounded by a timeout.

Not used: slixmpp's set_subscription_options, which sends its form in an iq of type 'get'
(a slixmpp 1.8.3 bug; §6.3.5 wants 'set').
"""

import asyncio
import xml.etree.ElementTree as ET

from slix_common import STEP, SlixPeer, harness, need_slixmpp, slixmpp

if slixmpp is not None:
    from slixmpp.exceptions import IqError

ALICE = ('alice@localhost', 'alice-secret')
BOB = ('bob@localhost', 'bob-secret')
PS = 'pubsub.localhost'
NODE = 'interop-news'
NS_NOTE = 'urn:example:interop'
TOTAL = 120     # seconds for a whole test


class Peer(SlixPeer):
    """A slixmpp client with the disco, data forms and pubsub plugins, and queues of the
    pubsub events it receives."""

    def __init__(self, b, jid, password, resource):
        super().__init__(b, jid, password, resource,
                         ('xep_0030', 'xep_0004', 'xep_0059', 'xep_0060'))
        self.events = {k: asyncio.Queue() for k in ('publish', 'retract', 'delete')}
        for k, q in self.events.items():
            self.x.add_event_handler('pubsub_' + k, q.put_nowait)

    @property
    def ps(self):
        return self.x['xep_0060']

    async def start(self, address):
        await super().start(address)
        self.x.send_presence()   # available: notifications to the bare JID reach us

    async def event(self, kind):
        return await asyncio.wait_for(self.events[kind].get(), STEP)

    async def no_event(self, kind, wait=0.5):
        try:
            e = await asyncio.wait_for(self.events[kind].get(), wait)
        except asyncio.TimeoutError:
            return
        raise AssertionError('unexpected %s event: %s' % (kind, e))


async def step(fut):
    """One request, bounded."""
    return await asyncio.wait_for(fut, STEP)


def note(text):
    e = ET.Element('{%s}note' % NS_NOTE)
    e.text = text
    return e


def item_ids(iq):
    return [i['id'] for i in iq['pubsub']['items']]


def payload_text(item):
    p = item['payload']
    return p.text if p is not None else None


async def _pubsub_walkthrough(b):
    addr = ('127.0.0.1', b.port('c2s'))
    a = Peer(b, ALICE[0], ALICE[1], 'slix-a')
    c = Peer(b, BOB[0], BOB[1], 'slix-b')
    try:
        await a.start(addr)
        await c.start(addr)

        # §5.1: the service is a pubsub service.
        info = await step(a.x['xep_0030'].get_info(jid=PS, timeout=STEP))
        assert ('pubsub', 'service', None, None) in info['disco_info']['identities'], \
            info['disco_info']['identities']
        assert 'http://jabber.org/protocol/pubsub#publish' in info['disco_info']['features']

        # §8.1.3 create and configure, then §8.2 read and change the configuration.
        form = a.x['xep_0004'].make_form(ftype='submit')
        form.add_field(var='pubsub#title', value='Interop news')
        form.add_field(var='pubsub#max_items', value='10')
        r = await step(a.ps.create_node(PS, NODE, config=form, timeout=STEP))
        assert r['type'] == 'result', r
        r = await step(a.ps.get_node_config(PS, NODE, timeout=STEP))
        values = r['pubsub_owner']['configure']['form'].get_values()
        assert values['pubsub#title'] == 'Interop news', values
        assert str(values['pubsub#max_items']) == '10', values
        form = a.x['xep_0004'].make_form(ftype='submit')
        form.add_field(var='FORM_TYPE', ftype='hidden',
                       value='http://jabber.org/protocol/pubsub#node_config')
        form.add_field(var='pubsub#notify_retract', ftype='boolean', value=True)
        r = await step(a.ps.set_node_config(PS, NODE, form, timeout=STEP))
        assert r['type'] == 'result', r
        r = await step(a.ps.get_node_config(PS, NODE, timeout=STEP))
        assert r['pubsub_owner']['configure']['form'].get_values()['pubsub#notify_retract'] in \
            (True, '1', 'true'), r

        # §5.2: the node is listed.
        items = await step(a.ps.get_nodes(jid=PS, timeout=STEP))
        assert (PS, NODE, None) in items['disco_items']['items'], items['disco_items']['items']

        # §6.1 subscribe (bare JID), §5.6 the subscription is listed.
        r = await step(c.ps.subscribe(PS, NODE, timeout=STEP))
        sub = r['pubsub']['subscription']
        assert (sub['node'], sub['jid'], sub['subscription']) == (NODE, BOB[0], 'subscribed'), r
        subid = sub['subid']
        assert subid, r
        r = await step(c.ps.get_subscriptions(PS, timeout=STEP))
        subs = [(s['node'], str(s['jid']), s['subid']) for s in r['pubsub']['subscriptions']]
        assert subs == [(NODE, BOB[0], subid)], subs

        # §7.1 publish with and without an ItemID; the subscriber's events carry the payload.
        r = await step(a.ps.publish(PS, NODE, id='first', payload=note('one'), timeout=STEP))
        assert r['type'] == 'result', r
        m = await c.event('publish')
        it = m['pubsub_event']['items']['item']
        assert m['pubsub_event']['items']['node'] == NODE and it['id'] == 'first', m
        assert payload_text(it) == 'one', m
        r = await step(a.ps.publish(PS, NODE, payload=note('two'), timeout=STEP))
        gen = r['pubsub']['publish']['item']['id']
        assert gen, r
        m = await c.event('publish')
        assert m['pubsub_event']['items']['item']['id'] == gen, m

        # §6.5 retrieve: all, one by id, the most recent.
        r = await step(c.ps.get_items(PS, NODE, timeout=STEP))
        assert item_ids(r) == ['first', gen], r
        assert [payload_text(i) for i in r['pubsub']['items']] == ['one', 'two'], r
        r = await step(c.ps.get_item(PS, NODE, 'first', timeout=STEP))
        assert item_ids(r) == ['first'], r
        r = await step(c.ps.get_items(PS, NODE, max_items=1, timeout=STEP))
        assert item_ids(r) == [gen], r

        # §7.2 retract with notify.
        r = await step(a.ps.retract(PS, NODE, 'first', notify=True, timeout=STEP))
        assert r['type'] == 'result', r
        m = await c.event('retract')
        assert m['pubsub_event']['items']['retract']['id'] == 'first', m
        r = await step(c.ps.get_items(PS, NODE, timeout=STEP))
        assert item_ids(r) == [gen], r

        # §6.2 unsubscribe: no more events; subscribe again.
        r = await step(c.ps.unsubscribe(PS, NODE, timeout=STEP))
        assert r['type'] == 'result', r
        await step(a.ps.publish(PS, NODE, id='third', payload=note('three'), timeout=STEP))
        await c.no_event('publish')
        r = await step(c.ps.subscribe(PS, NODE, timeout=STEP))
        assert r['pubsub']['subscription']['subscription'] == 'subscribed', r

        # Errors arrive as slixmpp IqErrors with the right condition (§6.1.3.12).
        try:
            await step(c.ps.subscribe(PS, 'no-such-node', timeout=STEP))
            raise AssertionError('subscribing to a missing node succeeded')
        except IqError as e:
            assert e.iq['error']['condition'] == 'item-not-found', e.iq

        # §8.4 delete: the subscriber is told; the node is gone.
        r = await step(a.ps.delete_node(PS, NODE, timeout=STEP))
        assert r['type'] == 'result', r
        m = await c.event('delete')
        assert m['pubsub_event']['delete']['node'] == NODE, m
        try:
            await step(c.ps.get_items(PS, NODE, timeout=STEP))
            raise AssertionError('items of a deleted node')
        except IqError as e:
            assert e.iq['error']['condition'] == 'item-not-found', e.iq
    finally:
        for p in (a, c):
            await p.stop()


def test_slixmpp_pubsub_walkthrough():
    """XEP-0060 §5.1, §5.2, §5.6, §6.1, §6.2, §6.5, §7.1, §7.2, §8.1, §8.2, §8.4 through
    slixmpp's xep_0060 plugin."""
    need_slixmpp()
    with harness.Broker(users=[ALICE, BOB]) as b:
        asyncio.run(asyncio.wait_for(_pubsub_walkthrough(b), TOTAL))


if __name__ == '__main__':
    harness.main(globals())
