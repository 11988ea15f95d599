"""XEP-0060 §6.1-§6.4 subscriber use cases against the real broker: subscribe (every §6.1.3
error case, approval, bare and full JIDs, several subscriptions with SubIDs and XEP-0131
SHIM headers, the last published item with a XEP-0203 delay stamp), unsubscribe (§6.2),
subscription options (§6.3) and default options (§6.4); and pubsub#notify_sub (owners are
told of subscriptions, §17.4.4 node_config)."""

import re
import time

import harness
import xmpp
from xmpp import el, qn
from pubsub_common import (A, B, C, D, PS, USERS, NS_DELAY, FT_SUB_OPTIONS, E, P,
                           X, create, err, event_items, expect_event, form,
                           form_type_of, form_values, no_event, ok, online, presence_subscribe,
                           publish, request, roster_set, set_affiliation, shim_subids, show,
                           subscribe, subscription_of, unsubscribe)

DATETIME = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$')


def subs_of(c, node):
    r = ok(request(c, 'get', el(P('subscriptions'), {'node': node})))
    return [dict(s.attrib) for s in r.find('%s/%s' % (P('pubsub'), P('subscriptions')))]


# ------------------------------------------------------------------ §6.1 success
def test_subscribe_bare_jid():
    """XEP-0060 §6.1.1-§6.1.2: the result names node, jid, a SubID and 'subscribed'; then
    every available resource of the bare JID receives the notifications (RFC 6121 §8.5
    for a server-generated message to a bare JID), with a unique message id."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob1 = online(b, B, 'one')
        bob2 = online(b, B, 'two')
        s = subscription_of(subscribe(bob1, 'news'))
        assert (s.get('node'), s.get('jid'), s.get('subscription')) == ('news', B, 'subscribed'), \
            show(s)
        assert s.get('subid'), show(s)
        ok(publish(a, 'news', 'i1'))
        m1 = expect_event(bob1, 'news')
        m2 = expect_event(bob2, 'news')
        assert m1.get('to') == B and m2.get('to') == B, show(m1)
        assert [(t, i) for t, i, _ in event_items(m1)] == [('item', 'i1')], show(m1)
        ok(publish(a, 'news', 'i2'))
        m3 = expect_event(bob1, 'news')
        assert m1.get('id') and m3.get('id') and m1.get('id') != m3.get('id'), (show(m1), show(m3))
        a.close()


def test_subscribe_full_jid():
    """XEP-0060 §6.1.1 and §13.3 (intended recipients): a subscription of a full JID
    reaches that resource only."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob1 = online(b, B, 'one')
        bob2 = online(b, B, 'two')
        s = subscription_of(subscribe(bob1, 'news', jid=bob1.jid))
        assert s.get('jid') == bob1.jid, show(s)
        ok(publish(a, 'news', 'i1'))
        m = expect_event(bob1, 'news')
        assert m.get('to') == bob1.jid, show(m)
        no_event(bob2)
        a.close()


# ------------------------------------------------------------------ §6.1.3 errors
def test_jids_do_not_match():
    """XEP-0060 §6.1.3.1: a JID whose bare JID is not the requester's is <bad-request/>
    with <invalid-jid/>; so is a malformed one; no JID at all is <jid-required/>."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = b.client(B)
        err(subscribe(bob, 'news', jid=C), 'modify', 'bad-request', 'invalid-jid')
        err(subscribe(bob, 'news', jid=C + '/x'), 'modify', 'bad-request', 'invalid-jid')
        err(subscribe(bob, 'news', jid='@@bad'), 'modify', 'bad-request', 'invalid-jid')
        r = request(bob, 'set', el(P('subscribe'), {'node': 'news'}))
        err(r, 'modify', 'bad-request', 'jid-required')
        assert subs_of(bob, 'news') == []
        a.close()


def test_presence_subscription_required():
    """XEP-0060 §6.1.3.2: on a presence-access node, an entity not subscribed to the
    owner's presence gets <not-authorized/> + <presence-subscription-required/>; once the
    owner approved its presence subscription (RFC 6121 §3.1) it may subscribe."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        create(a, 'status', {'pubsub#access_model': 'presence'})
        bob = online(b, B)
        err(subscribe(bob, 'status'), 'auth', 'not-authorized', 'presence-subscription-required')
        presence_subscribe(bob, a)
        assert subscription_of(subscribe(bob, 'status')).get('subscription') == 'subscribed'
        a.close()


def test_not_in_roster_group():
    """XEP-0060 §6.1.3.3: on a roster-access node, an entity outside the allowed roster
    groups of the owner gets <not-authorized/> + <not-in-roster-group/>; in the group it
    may subscribe."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        create(a, 'photos', {'pubsub#access_model': 'roster',
                             'pubsub#roster_groups_allowed': ['friends']})
        roster_set(a, D, ['colleagues'])
        bob = b.client(B)
        err(subscribe(bob, 'photos'), 'auth', 'not-authorized', 'not-in-roster-group')
        err(subscribe(b.client(D), 'photos'), 'auth', 'not-authorized', 'not-in-roster-group')
        roster_set(a, B, ['friends'])
        assert subscription_of(subscribe(bob, 'photos')).get('subscription') == 'subscribed'
        a.close()


def test_not_on_whitelist():
    """XEP-0060 §6.1.3.4: on a whitelist node an outsider gets <not-allowed/> +
    <closed-node/>; the owner is on the whitelist (§4.5) and may subscribe."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'secret', {'pubsub#access_model': 'whitelist'})
        err(subscribe(b.client(B), 'secret'), 'cancel', 'not-allowed', 'closed-node')
        assert subscription_of(subscribe(a, 'secret')).get('subscription') == 'subscribed'
        a.close()


def test_whitelist_member_may_subscribe():
    """XEP-0060 §4.5 whitelist: an entity the owner made a member (§8.9) may subscribe."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'secret', {'pubsub#access_model': 'whitelist'})
        set_affiliation(a, 'secret', B, 'member')
        assert subscription_of(subscribe(b.client(B), 'secret')).get('subscription') == \
            'subscribed'
        a.close()


def test_outcast_is_blocked():
    """XEP-0060 §6.1.3.8: an outcast gets <forbidden/>, even on an open node."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        set_affiliation(a, 'news', B, 'outcast')
        err(subscribe(b.client(B), 'news'), 'auth', 'forbidden')
        a.close()


def test_approval_and_pending_subscription():
    """XEP-0060 §6.1.4: on an authorize node the answer is 'pending'; §6.1.3.7: asking
    again while pending is <not-authorized/> + <pending-subscription/>. No notification
    reaches a pending subscriber (§4.2)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'club', {'pubsub#access_model': 'authorize'})
        bob = online(b, B)
        s = subscription_of(subscribe(bob, 'club'))
        assert (s.get('node'), s.get('jid'), s.get('subscription')) == ('club', B, 'pending'), \
            show(s)
        err(subscribe(bob, 'club'), 'auth', 'not-authorized', 'pending-subscription')
        ok(publish(a, 'club', 'i1'))
        no_event(bob)
        a.close()


def test_too_many_subscriptions():
    """XEP-0060 §6.1.3.9: beyond the service's limit (pubsub_max_subscriptions) the answer
    is <policy-violation/> + <too-many-subscriptions/> (type wait, as in the example)."""
    with harness.Broker(users=USERS, overrides={'pubsub_max_subscriptions': '2'}) as b:
        a = b.client(A)
        create(a, 'news')
        subscription_of(subscribe(b.client(B), 'news'))
        subscription_of(subscribe(b.client(C), 'news'))
        err(subscribe(b.client(D), 'news'), 'wait', 'policy-violation', 'too-many-subscriptions')
        a.close()


def test_subscriptions_not_supported():
    """XEP-0060 §6.1.3.10: a node configured with pubsub#subscribe = false answers
    <feature-not-implemented/> + <unsupported feature='subscribe'/>."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'closed', {'pubsub#subscribe': False})
        err(subscribe(b.client(B), 'closed'), 'cancel', 'feature-not-implemented', 'unsupported',
            feature='subscribe')
        a.close()


def test_node_does_not_exist():
    """XEP-0060 §6.1.3.12: subscribing to an unknown node is <item-not-found/>; a request
    without a node is <bad-request/> + <nodeid-required/>."""
    with harness.Broker(users=USERS) as b:
        bob = b.client(B)
        err(subscribe(bob, 'nope'), 'cancel', 'item-not-found')
        r = request(bob, 'set', el(P('subscribe'), {'jid': B}))
        err(r, 'modify', 'bad-request', 'nodeid-required')


# ------------------------------------------------------------------ §6.1.6 multiple subscriptions
def test_multiple_subscriptions_and_shim_headers():
    """XEP-0060 §6.1.6 and §7.1.2.4 (XEP-0131 headers): a second subscription of the same
    JID (with options) gets its own SubID; the JID receives one notification naming both
    SubIDs in SHIM headers, placed after the event. With one subscription left, no
    headers."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = online(b, B)
        s1 = subscription_of(subscribe(bob, 'news')).get('subid')
        s2 = subscription_of(subscribe(bob, 'news', options={'pubsub#deliver': True})).get('subid')
        assert s1 and s2 and s1 != s2
        ok(publish(a, 'news', 'i1'))
        m = expect_event(bob, 'news')
        assert shim_subids(m) == sorted([s1, s2]), show(m)
        kids = [xmpp.localname(k.tag) for k in m]
        assert kids.index('headers') > kids.index('event'), show(m)
        no_event(bob)                               # one message, not one per subscription
        ok(unsubscribe(bob, 'news', subid=s1))
        ok(publish(a, 'news', 'i2'))
        m = expect_event(bob, 'news')
        assert shim_subids(m) is None, show(m)
        a.close()


def test_subscribe_again_returns_the_subscription():
    """XEP-0060 §6.1.6: a plain repeated request (no options) does not make a duplicate:
    the current subscription is returned and one notification arrives."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = online(b, B)
        s1 = subscription_of(subscribe(bob, 'news')).get('subid')
        s2 = subscription_of(subscribe(bob, 'news')).get('subid')
        assert s1 == s2
        assert len(subs_of(bob, 'news')) == 1
        a.close()


# ------------------------------------------------------------------ §6.1.7
def test_last_published_item_on_subscription():
    """XEP-0060 §6.1.7: with send_last_published_item = on_sub, a new subscriber gets the
    last item, stamped with urn:xmpp:delay (XEP-0203: from the service, a UTC stamp); with
    'never' nothing is sent."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news', {'pubsub#send_last_published_item': 'on_sub'})
        create(a, 'quiet', {'pubsub#send_last_published_item': 'never'})
        for n in ('news', 'quiet'):
            ok(publish(a, n, 'old'))
            ok(publish(a, n, 'last'))
        bob = online(b, B)
        subscription_of(subscribe(bob, 'news'))
        m = expect_event(bob, 'news')
        its = event_items(m)
        assert [(t, i) for t, i, _ in its] == [('item', 'last')], show(m)
        assert its[0][2] is not None and xmpp.localname(its[0][2].tag) == 'entry', show(m)
        d = m.find(qn(NS_DELAY, 'delay'))
        assert d is not None and DATETIME.match(d.get('stamp') or ''), show(m)
        no_event(bob, 'news')
        subscription_of(subscribe(bob, 'quiet'))
        no_event(bob, 'quiet')
        a.close()


def test_last_published_item_without_payload():
    """XEP-0060 §6.1.7 with §4.3: on a notification-only node (deliver_payloads false) the
    last item is sent without its payload."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news', {'pubsub#send_last_published_item': 'on_sub',
                           'pubsub#deliver_payloads': False})
        ok(publish(a, 'news', 'last'))
        bob = online(b, B)
        subscription_of(subscribe(bob, 'news'))
        m = expect_event(bob, 'news')
        assert [(t, i, p) for t, i, p in event_items(m)] == [('item', 'last', None)], show(m)
        a.close()


# ------------------------------------------------------------------ §6.2 unsubscribe
def test_unsubscribe():
    """XEP-0060 §6.2.1-§6.2.2: unsubscribing succeeds (the result may name the now 'none'
    subscription and its SubID); no notification follows."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = online(b, B)
        sid = subscription_of(subscribe(bob, 'news')).get('subid')
        r = ok(unsubscribe(bob, 'news'))
        s = r.find('%s/%s' % (P('pubsub'), P('subscription')))
        if s is not None:
            assert (s.get('node'), s.get('jid'), s.get('subscription'), s.get('subid')) == \
                ('news', B, 'none', sid), show(r)
        assert subs_of(bob, 'news') == []
        ok(publish(a, 'news', 'i1'))
        no_event(bob)
        a.close()


def test_unsubscribe_errors():
    """XEP-0060 §6.2.3: several subscriptions and no SubID -> <bad-request/> +
    <subid-required/>; not subscribed -> <unexpected-request/> + <not-subscribed/> (type
    cancel); someone else's JID -> <forbidden/>; unknown node -> <item-not-found/>; a SubID
    that is not current -> <not-acceptable/> + <invalid-subid/>. A SubID picks one
    subscription."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = b.client(B)
        err(unsubscribe(bob, 'news'), 'cancel', 'unexpected-request', 'not-subscribed')
        s1 = subscription_of(subscribe(bob, 'news')).get('subid')
        s2 = subscription_of(subscribe(bob, 'news', options={'pubsub#deliver': True})).get('subid')
        err(unsubscribe(bob, 'news'), 'modify', 'bad-request', 'subid-required')
        err(unsubscribe(bob, 'news', subid='0000'), 'modify', 'not-acceptable', 'invalid-subid')
        err(unsubscribe(b.client(C), 'news', jid=B, subid=s1), 'auth', 'forbidden')
        err(unsubscribe(bob, 'nope'), 'cancel', 'item-not-found')
        ok(unsubscribe(bob, 'news', subid=s2))
        assert [s['subid'] for s in subs_of(bob, 'news')] == [s1]
        ok(unsubscribe(bob, 'news'))                  # the only one left: no SubID needed
        assert subs_of(bob, 'news') == []
        a.close()


def test_unsubscribe_full_jid():
    """XEP-0060 §6.2: a full-JID subscription is cancelled by naming that JID; the bare
    JID is not subscribed (<not-subscribed/>)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = b.client(B, resource='desk')
        subscription_of(subscribe(bob, 'news', jid=bob.jid))
        err(unsubscribe(bob, 'news'), 'cancel', 'unexpected-request', 'not-subscribed')
        ok(unsubscribe(bob, 'news', jid=bob.jid))
        assert subs_of(bob, 'news') == []
        a.close()


# ------------------------------------------------------------------ §6.3 options
def options_get(c, node, jid=None, subid=None):
    return request(c, 'get', el(P('options'), {'node': node, 'jid': jid or c.bare_jid,
                                               'subid': subid}))


def options_set(c, node, fields, jid=None, subid=None, form_type=FT_SUB_OPTIONS):
    return request(c, 'set', el(P('options'), {'node': node, 'jid': jid or c.bare_jid,
                                               'subid': subid}, form(form_type, fields)))


def test_options_form_and_submission():
    """XEP-0060 §6.3.2 (the form: FORM_TYPE subscribe_options, pubsub#deliver) and
    §6.3.5-§6.3.6: submitting pubsub#deliver = false stops notifications, true restores
    them."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = online(b, B)
        subscription_of(subscribe(bob, 'news'))
        r = ok(options_get(bob, 'news'))
        o = r.find('%s/%s' % (P('pubsub'), P('options')))
        assert (o.get('node'), o.get('jid')) == ('news', B), show(r)
        x = o.find(X('x'))
        assert x is not None and x.get('type') == 'form', show(r)
        v = form_values(x)
        assert form_type_of(x) == FT_SUB_OPTIONS and v['pubsub#deliver'] in (['1'], ['true']), v
        ok(options_set(bob, 'news', {'pubsub#deliver': False}))
        v = form_values(ok(options_get(bob, 'news')).find(
            '%s/%s/%s' % (P('pubsub'), P('options'), X('x'))))
        assert v['pubsub#deliver'] in (['0'], ['false']), v
        ok(publish(a, 'news', 'i1'))
        no_event(bob)
        ok(options_set(bob, 'news', {'pubsub#deliver': True}))
        ok(publish(a, 'news', 'i2'))
        assert [i for _, i, _ in event_items(expect_event(bob, 'news'))] == ['i2']
        a.close()


def test_options_show_values():
    """XEP-0060 §6.3 pubsub#show-values with presence-based delivery (§13.6): a subscriber
    whose presence is 'away' gets nothing when it accepts only 'online' and 'chat'."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news', {'pubsub#presence_based_delivery': True})
        bob = online(b, B, 'desk')
        subscription_of(subscribe(bob, 'news', jid=bob.jid,
                                  options={'pubsub#show-values': ['online', 'chat']}))
        ok(publish(a, 'news', 'i1'))
        expect_event(bob, 'news')
        bob.send(el('presence', None, el('show', text='away')))
        time.sleep(0.2)
        bob.drain(0.1)
        ok(publish(a, 'news', 'i2'))
        no_event(bob)
        a.close()


def test_options_errors():
    """XEP-0060 §6.3.4: someone else's JID -> <forbidden/>; not subscribed ->
    <unexpected-request/> + <not-subscribed/> (type modify, as in §6.3.4.2); no JID ->
    <bad-request/> + <jid-required/>; several subscriptions and no SubID ->
    <subid-required/>; a stale SubID -> <not-acceptable/> + <invalid-subid/>; unknown node
    -> <item-not-found/>; §6.3.5: an invalid value, an unknown field or a form of another
    FORM_TYPE -> <bad-request/> + <invalid-options/>."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = b.client(B)
        err(options_get(bob, 'news'), 'modify', 'unexpected-request', 'not-subscribed')
        s1 = subscription_of(subscribe(bob, 'news')).get('subid')
        err(options_get(b.client(C), 'news', jid=B), 'auth', 'forbidden')
        err(options_set(b.client(C), 'news', {'pubsub#deliver': False}, jid=B), 'auth',
            'forbidden')
        r = request(bob, 'get', el(P('options'), {'node': 'news'}))
        err(r, 'modify', 'bad-request', 'jid-required')
        err(options_get(bob, 'nope'), 'cancel', 'item-not-found')
        err(options_set(bob, 'news', {'pubsub#deliver': 'perhaps'}), 'modify', 'bad-request',
            'invalid-options')
        err(options_set(bob, 'news', {'pubsub#no-such-option': '1'}), 'modify', 'bad-request',
            'invalid-options')
        err(options_set(bob, 'news', {'pubsub#deliver': '0'}, form_type='urn:bogus'), 'modify',
            'bad-request', 'invalid-options')
        s2 = subscription_of(subscribe(bob, 'news', options={'pubsub#deliver': True})).get('subid')
        err(options_get(bob, 'news'), 'modify', 'bad-request', 'subid-required')
        err(options_get(bob, 'news', subid='0000'), 'modify', 'not-acceptable', 'invalid-subid')
        for sid in (s1, s2):
            o = ok(options_get(bob, 'news', subid=sid)).find('%s/%s' % (P('pubsub'), P('options')))
            assert o.get('subid') == sid, show(o)
        a.close()


def test_subscribe_and_configure():
    """XEP-0060 §6.3.7: options sent with the subscription apply to it, and the result
    carries them as a form of type result; <options/> with a node or jid attribute is a
    <bad-request/>."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = online(b, B)
        r = subscribe(bob, 'news', options={'pubsub#deliver': False})
        s = subscription_of(r)
        assert s.get('subscription') == 'subscribed', show(r)
        x = r.find('%s/%s/%s' % (P('pubsub'), P('options'), X('x')))
        assert x is not None and x.get('type') == 'result', show(r)
        assert form_type_of(x) == FT_SUB_OPTIONS, show(r)
        assert form_values(x)['pubsub#deliver'] in (['0'], ['false']), show(r)
        ok(publish(a, 'news', 'i1'))
        no_event(bob)
        r = subscribe(b.client(C), 'news', options={'pubsub#deliver': True},
                      options_attrs={'node': 'news'})
        err(r, 'modify', 'bad-request')
        r = subscribe(b.client(C), 'news', options={'pubsub#deliver': True},
                      options_attrs={'jid': C})
        err(r, 'modify', 'bad-request')
        assert subs_of(b.client(C), 'news') == []
        a.close()


def test_options_must_follow_subscribe():
    """XEP-0060 §6.3.7: "The <options/> element MUST follow the <subscribe/> element ...
    if any of these rules are violated, the service MUST return a <bad-request/>": options
    placed before the subscribe are refused and no subscription is made."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = online(b, B)
        r = request(bob, 'set', el(P('options'), None,
                                   form(FT_SUB_OPTIONS, {'pubsub#deliver': True})),
                    el(P('subscribe'), {'node': 'news', 'jid': B}))
        err(r, 'modify', 'bad-request')
        assert subs_of(bob, 'news') == []
        a.close()


# A JID whose store keys (service, NodeID, JID, SubID) pass LMDB's 511-byte limit.
LONG = 'l' * 480 + '@localhost'


def test_long_jid_is_refused_cleanly():
    """XEP-0060 §6.1.3 and §8.1 with the store's key size: an entity whose JID is too long
    to be stored with a NodeID (here a 490-byte bare JID) cannot subscribe nor create a
    node, and is told so with <not-acceptable/> (not an internal error, nothing logged as
    an error); it can still discover and retrieve what it may."""
    with harness.Broker(users=USERS + [(LONG, 'pw-long')]) as b:
        a = b.client(A)
        create(a, 'news')
        ok(publish(a, 'news', 'i1'))
        lng = online(b, LONG)
        err(subscribe(lng, 'news'), 'modify', 'not-acceptable')
        err(create(lng, 'mine', check=False), 'modify', 'not-acceptable')
        err(publish(lng, 'mine', 'x'), 'modify', 'not-acceptable')
        assert subs_of(lng, 'news') == []
        r = ok(request(lng, 'get', el(P('items'), {'node': 'news'})))
        its = r.find('%s/%s' % (P('pubsub'), P('items')))
        assert [i.get('id') for i in its] == ['i1'], show(r)
        a.close()


def test_default_options():
    """XEP-0060 §6.4: <default/> with or without a node returns the default subscription
    options (FORM_TYPE subscribe_options); an unknown node is <item-not-found/>."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        for node in (None, 'news'):
            r = ok(request(a, 'get', el(P('default'), {'node': node})))
            d = r.find('%s/%s' % (P('pubsub'), P('default')))
            assert d is not None and d.get('node') == node, show(r)
            x = d.find(X('x'))
            assert x is not None and form_type_of(x) == FT_SUB_OPTIONS, show(r)
            assert 'pubsub#deliver' in form_values(x), show(r)
        err(request(a, 'get', el(P('default'), {'node': 'nope'})), 'cancel', 'item-not-found')
        a.close()


# ------------------------------------------------------------------ notify_sub
def test_notify_sub_tells_owners():
    """XEP-0060 §17.4.4 pubsub#notify_sub: owners are told of new subscriptions and
    unsubscriptions with an <event><subscription/></event> (the §8.8.4 format, §13.14); without
    notify_sub they are not."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        create(a, 'news', {'pubsub#notify_sub': True})
        create(a, 'quiet')
        bob = b.client(B)
        sid = subscription_of(subscribe(bob, 'news')).get('subid')
        m = a.expect(lambda e: e.find(E('event')) is not None and
                     e.find(E('event')).find(E('subscription')) is not None, timeout=5)
        s = m.find(E('event')).find(E('subscription'))
        assert m.get('from') == PS, show(m)
        assert (s.get('node'), s.get('jid'), s.get('subscription')) == ('news', B, 'subscribed'), \
            show(m)
        assert s.get('subid') in (None, sid), show(m)
        ok(unsubscribe(bob, 'news'))
        m = expect_event(a, 'news', kind='subscription')
        s = m.find(E('event')).find(E('subscription'))
        assert (s.get('jid'), s.get('subscription')) == (B, 'none'), show(m)
        subscription_of(subscribe(bob, 'quiet'))
        no_event(a, kind='subscription')
        a.close()


# ------------------------------------------------------------------ §13.4 bounces
def bounce(c, msg, etype, cond):
    c.send(el('message', {'to': PS, 'type': 'error', 'id': msg.get('id')},
              el('error', {'type': etype}, el(qn(xmpp.NS_STANZA_ERRORS, cond)))))
    time.sleep(0.3)


def test_bounced_notification_ends_the_subscription():
    """XEP-0060 §13.4: an error of type "cancel" (or <gone/>) answering a notification ends
    the bouncing entity's subscription to that node, and only that one; a temporary error
    ("wait") leaves it in place. Notifications carry a unique id (§7.1.2) to make this work."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        create(a, 'blog')
        bob = online(b, B)
        for node in ('news', 'blog'):
            subscription_of(subscribe(bob, node))
        ok(publish(a, 'news', 'i1'))
        m1 = expect_event(bob, 'news')
        ok(publish(a, 'news', 'i2'))
        m2 = expect_event(bob, 'news')
        assert m1.get('id') and m1.get('id') != m2.get('id'), (show(m1), show(m2))
        bounce(bob, m1, 'wait', 'resource-constraint')
        assert len(subs_of(bob, 'news')) == 1
        bounce(bob, m2, 'cancel', 'service-unavailable')
        assert subs_of(bob, 'news') == []
        assert len(subs_of(bob, 'blog')) == 1
        ok(publish(a, 'blog', 'i3'))
        m3 = expect_event(bob, 'blog')
        bounce(bob, m3, 'modify', 'gone')
        assert subs_of(bob, 'blog') == []
        a.close()


def test_bounce_from_one_resource_keeps_the_bare_subscription_of_the_others():
    """XEP-0060 §13.4 ends "the subscription of the entity": an error from one resource does
    not end a bare-JID subscription while another resource of the account is available and
    receiving; once that one is gone, the next bounce ends it."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        one = online(b, B, 'one')
        two = online(b, B, 'two')
        subscription_of(subscribe(one, 'news'))
        ok(publish(a, 'news', 'i1'))
        m = expect_event(one, 'news')
        expect_event(two, 'news')
        bounce(one, m, 'cancel', 'service-unavailable')
        assert len(subs_of(two, 'news')) == 1
        two.send(el('presence', {'type': 'unavailable'}))
        time.sleep(0.3)
        bounce(one, m, 'cancel', 'service-unavailable')
        assert subs_of(one, 'news') == []
        a.close()


if __name__ == '__main__':
    harness.main(globals())
