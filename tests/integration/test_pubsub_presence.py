"""XEP-0060 delivery that follows the subscriber's presence, against the real broker:
send_last_published_item = on_sub_and_presence (§4.3: the last item once per presence
session), temporary subscriptions (§13.5: pubsub#expire = presence, and the node option
pubsub#tempsub) and presence-based delivery (§13.6)."""

import time

import harness
from xmpp import el
from pubsub_common import (A, B, USERS, E, P, create, event_items, expect_event, item_ids, items,
                           no_event, ok, online, publish, request, show, subscribe,
                           subscription_of)


def subs_of(c, node):
    r = ok(request(c, 'get', el(P('subscriptions'), {'node': node})))
    return [dict(s.attrib) for s in r.find('%s/%s' % (P('pubsub'), P('subscriptions')))]


def go_unavailable(c):
    c.send(el('presence', {'type': 'unavailable'}))
    time.sleep(0.3)
    c.drain(0.1)


def go_available(c, show_=None):
    p = el('presence')
    if show_:
        p.append(el('show', text=show_))
    c.send(p)
    time.sleep(0.3)


# ------------------------------------------------------------------ on_sub_and_presence
def test_last_item_on_subscription_and_presence():
    """XEP-0060 §4.3 and §6.1.7 (on_sub_and_presence): the subscriber gets the last item
    when it subscribes, and each resource that becomes available gets it once (a new
    presence session), while the resources already online do not get it again; a presence
    update is not a new session."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'mood', {'pubsub#send_last_published_item': 'on_sub_and_presence'})
        ok(publish(a, 'mood', 'old'))
        ok(publish(a, 'mood', 'happy'))
        bob1 = online(b, B, 'one')
        subscription_of(subscribe(bob1, 'mood'))
        m = expect_event(bob1, 'mood')
        assert [i for _, i, _ in event_items(m)] == ['happy'], show(m)
        bob2 = b.client(B, resource='two')
        no_event(bob2)                              # connected but not available yet
        go_available(bob2)
        m = expect_event(bob2, 'mood')
        assert [i for _, i, _ in event_items(m)] == ['happy'], show(m)
        assert m.get('to') == bob2.jid, show(m)
        assert m.find('{urn:xmpp:delay}delay') is not None, show(m)
        no_event(bob1)                              # the other resource is not told again
        go_available(bob2, 'away')                  # an update: same presence session
        no_event(bob2)
        go_unavailable(bob2)
        go_available(bob2)                          # a new presence session
        assert [i for _, i, _ in event_items(expect_event(bob2, 'mood'))] == ['happy']
        a.close()


def test_last_item_on_presence_for_full_jid_subscription():
    """XEP-0060 §4.3: a full-JID subscriber gets the last item when that resource becomes
    available again; another resource of the account does not."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'mood', {'pubsub#send_last_published_item': 'on_sub_and_presence'})
        ok(publish(a, 'mood', 'happy'))
        bob1 = online(b, B, 'one')
        subscription_of(subscribe(bob1, 'mood', jid=bob1.jid))
        expect_event(bob1, 'mood')
        go_unavailable(bob1)
        go_available(bob1)
        expect_event(bob1, 'mood')
        bob2 = online(b, B, 'two')
        no_event(bob2)
        a.close()


def test_on_sub_only_is_not_sent_on_presence():
    """XEP-0060 §4.3 (on_sub): the last item goes to new subscribers only, not to
    resources that become available later."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'mood', {'pubsub#send_last_published_item': 'on_sub'})
        ok(publish(a, 'mood', 'happy'))
        bob1 = online(b, B, 'one')
        subscription_of(subscribe(bob1, 'mood'))
        expect_event(bob1, 'mood')
        bob2 = online(b, B, 'two')
        no_event(bob2)
        a.close()


# ------------------------------------------------------------------ temporary subscriptions
def test_temporary_subscription_ends_with_presence():
    """XEP-0060 §13.5: a subscription with pubsub#expire = presence is cancelled when the
    subscriber sends unavailable presence; ordinary subscriptions stay."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        create(a, 'keep')
        bob = online(b, B, 'one')
        subscription_of(subscribe(bob, 'news', jid=bob.jid, options={'pubsub#expire': 'presence'}))
        subscription_of(subscribe(bob, 'keep', jid=bob.jid))
        watcher = b.client(B, resource='watch')
        assert len(subs_of(watcher, 'news')) == 1
        go_unavailable(bob)
        assert subs_of(watcher, 'news') == []
        assert len(subs_of(watcher, 'keep')) == 1
        a.close()


def test_temporary_bare_subscription_ends_with_the_last_resource():
    """XEP-0060 §13.5: a temporary subscription of the bare JID lasts while any resource
    is available; it ends when the last one goes (here: its stream closes)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob1 = online(b, B, 'one')
        bob2 = online(b, B, 'two')
        subscription_of(subscribe(bob1, 'news', options={'pubsub#expire': 'presence'}))
        watcher = b.client(B, resource='watch')
        go_unavailable(bob1)
        assert len(subs_of(watcher, 'news')) == 1
        ok(publish(a, 'news', 'i1'))
        expect_event(bob2, 'news')
        bob2.close()
        time.sleep(0.3)
        assert subs_of(watcher, 'news') == []
        a.close()


def test_tempsub_node_makes_every_subscription_temporary():
    """XEP-0060 §13.5 pubsub#tempsub: on such a node every subscription ends with the
    subscriber's presence, and owners with notify_sub hear of it (§17.4.4)."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        create(a, 'live', {'pubsub#tempsub': True, 'pubsub#notify_sub': True})
        bob = online(b, B, 'one')
        subscription_of(subscribe(bob, 'live', jid=bob.jid))
        expect_event(a, 'live', kind='subscription')
        go_unavailable(bob)
        m = expect_event(a, 'live', kind='subscription')
        s = m.find(E('event')).find(E('subscription'))
        assert (s.get('jid'), s.get('subscription')) == (bob.jid, 'none'), show(m)
        assert subs_of(b.client(B, resource='watch'), 'live') == []
        a.close()


# ------------------------------------------------------------------ purge_offline
def test_purge_offline_when_the_publisher_goes_offline():
    """XEP-0060 §16.4.4 pubsub#purge_offline: the node is purged when its publisher goes
    offline (the account's last available resource), with the §8.5.2 <purge/> notice to
    subscribers; a node without the option keeps its items, and a resource going offline
    while another stays available purges nothing."""
    with harness.Broker(users=USERS) as b:
        a1 = online(b, A, 'one')
        a2 = online(b, A, 'two')
        create(a1, 'here', {'pubsub#purge_offline': True, 'pubsub#notify_retract': True})
        create(a1, 'kept')
        for node in ('here', 'kept'):
            ok(publish(a1, node, 'i1'))
            ok(publish(a1, node, 'i2'))
        bob = online(b, B)
        subscription_of(subscribe(bob, 'here'))
        go_unavailable(a1)
        assert sorted(item_ids(items(bob, 'here'))) == ['i1', 'i2']
        go_unavailable(a2)
        m = expect_event(bob, 'here', kind='purge')
        assert m.find(E('event')).find(E('purge')).get('node') == 'here', show(m)
        assert item_ids(items(bob, 'here')) == []
        assert sorted(item_ids(items(bob, 'kept'))) == ['i1', 'i2']
        bob.close()


# ------------------------------------------------------------------ presence-based delivery
def test_presence_based_delivery():
    """XEP-0060 §13.6 (pubsub#presence_based_delivery): notifications go only to available
    resources, even for a full-JID subscription."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news', {'pubsub#presence_based_delivery': True})
        bob = online(b, B, 'one')
        subscription_of(subscribe(bob, 'news', jid=bob.jid))
        ok(publish(a, 'news', 'i1'))
        expect_event(bob, 'news')
        go_unavailable(bob)
        ok(publish(a, 'news', 'i2'))
        no_event(bob)
        a.close()


if __name__ == '__main__':
    harness.main(globals())
