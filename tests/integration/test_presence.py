"""Presence subscriptions (RFC 6121 §3, Appendix A) and presence exchange (§4), with the
message routing that presence priority drives (§8.5.2.1.1)."""

import time

import harness
import xmpp
from xmpp import el, qn, NS_ROSTER

R = lambda local: qn(NS_ROSTER, local)  # noqa: E731
PREAPPROVAL = qn('urn:xmpp:features:pre-approval', 'sub')
ROSTERVER = qn('urn:xmpp:features:rosterver', 'ver')
USERS = [('alice@localhost', 'pw-alice'), ('bob@localhost', 'pw-bob'),
         ('carol@localhost', 'pw-carol')]
A, B, C = 'alice@localhost', 'bob@localhost', 'carol@localhost'


# ------------------------------------------------------------------ helpers
def roster_get(c):
    r = c.iq(el('iq', {'type': 'get'}, el(R('query'))))
    assert r.get('type') == 'result', xmpp.to_xml(r)
    return {i.get('jid'): i for i in r.find(R('query')).findall(R('item'))}


def is_push(e):
    return (e.tag == qn(xmpp.NS_CLIENT, 'iq') and e.get('type') == 'set'
            and e.find(R('query')) is not None)


def expect_push(c, jid, timeout=5, **want):
    """The next roster push for jid (RFC 6121 §2.1.6); checks the attributes in want
    (None: absent)."""
    def match(e):
        return is_push(e) and e.find(R('query')).find(R('item')).get('jid') == jid
    p = c.expect(match, timeout=timeout, what='roster push for %s' % jid)
    item = p.find(R('query')).find(R('item'))
    c.send(el('iq', {'type': 'result', 'id': p.get('id')}))
    for k, v in want.items():
        assert item.get(k) == v, 'push %s=%r, wanted %r: %s' % (k, item.get(k), v,
                                                                xmpp.to_xml(p))
    return item


def no_push(c, timeout=0.5):
    c.expect_none(is_push, timeout=timeout)


def pres(c, frm, type=None, timeout=5, **attrs):
    """Wait for a presence from `frm` of `type` (None: available)."""
    spec = dict(tag='presence', type=type, **attrs)
    spec['from'] = frm
    return c.expect(spec, timeout=timeout)


def no_pres(c, frm=None, type='*', timeout=0.5):
    def match(e):
        return (e.tag == qn(xmpp.NS_CLIENT, 'presence')
                and (frm is None or e.get('from') == frm)
                and (type == '*' or e.get('type') == type))
    c.expect_none(match, timeout=timeout)


def online(b, user, resource=None, roster=True, *children, **attrs):
    """Logged in, roster requested (interested, §2.2) and initial presence sent (available,
    §4.2); waits for the server's echo of that presence (§4.2.2)."""
    c = b.client(user, resource=resource)
    if roster:
        roster_get(c)
    c.presence(*children, **attrs)
    pres(c, c.jid)
    return c


def sub_request(c, to, type, id=None, status=None):
    p = el('presence', {'to': to, 'type': type, 'id': id})
    if status:
        p.append(el('status', text=status))
    c.send(p)


def subscribe_one_way(u, ct):
    """u subscribes to ct's presence and ct approves (RFC 6121 §3.1): u has 'to', ct
    'from'. Both clients are online and interested; their queues are drained after."""
    sub_request(u, ct.bare_jid, 'subscribe')
    expect_push(u, ct.bare_jid, ask='subscribe')
    pres(ct, u.bare_jid, 'subscribe')
    sub_request(ct, u.bare_jid, 'subscribed')
    assert expect_push(u, ct.bare_jid).get('subscription') in ('to', 'both')
    pres(u, ct.jid)
    assert expect_push(ct, u.bare_jid).get('subscription') in ('from', 'both')
    time.sleep(0.2)
    u.drain()
    ct.drain()


def mutual(x, y):
    subscribe_one_way(x, y)
    subscribe_one_way(y, x)
    assert roster_get(x)[y.bare_jid].get('subscription') == 'both'
    assert roster_get(y)[x.bare_jid].get('subscription') == 'both'


def error_of(e):
    return xmpp.error_condition(e)[1]


# ------------------------------------------------------------------ §3.1 requesting
def test_stream_features_announce_preapproval_and_rosterver():
    """RFC 6121 §3.4 and §2.6.1: the stream features advertise pre-approval and roster
    versioning."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        assert c.feature(PREAPPROVAL) is not None and c.feature(ROSTERVER) is not None
        c.close()


def test_subscription_handshake_both_ways():
    """RFC 6121 §3.1.2-§3.1.6: the request is stamped with the user's bare JID and keeps its
    id and status; the user gets a push with ask='subscribe'; the contact's roster gets no
    item before approving; approval pushes 'from' to the contact, delivers 'subscribed' and
    pushes 'to' to the user, who then receives the contact's presence. The reverse request
    ends in 'both' on both sides (Appendix A)."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        d = online(b, B, None, True, el('show', text='dnd'), id='bob-pres')
        sub_request(a, B, 'subscribe', id='sub1', status='hi, it is Alice')
        expect_push(a, B, subscription='none', ask='subscribe')
        p = pres(d, A, 'subscribe')
        assert p.get('id') == 'sub1' and p.get('to') == B, xmpp.to_xml(p)
        assert p.findtext(qn(xmpp.NS_CLIENT, 'status')) == 'hi, it is Alice'
        no_push(d)
        assert roster_get(d) == {}                    # §3.1.3 security warning
        sub_request(d, A, 'subscribed', id='ok1')
        expect_push(d, A, subscription='from', ask=None)
        s = pres(a, B, 'subscribed')
        assert s.get('id') == 'ok1', xmpp.to_xml(s)
        expect_push(a, B, subscription='to', ask=None)
        bp = pres(a, d.jid)                           # §3.1.5: current presence
        assert bp.get('id') == 'bob-pres' and bp.findtext(qn(xmpp.NS_CLIENT, 'show')) == 'dnd'
        # And the other way (Appendix A: From + Pending Out, then Both).
        sub_request(d, A, 'subscribe')
        expect_push(d, A, subscription='from', ask='subscribe')
        pres(a, B, 'subscribe')
        sub_request(a, B, 'subscribed')
        expect_push(a, B, subscription='both')
        pres(d, A, 'subscribed')
        expect_push(d, A, subscription='both', ask=None)
        pres(d, a.jid)
        assert roster_get(a)[B].get('subscription') == 'both'
        assert roster_get(d)[A].get('subscription') == 'both'
        a.close()
        d.close()


def test_request_to_full_jid_is_for_the_bare_jid():
    """RFC 6121 §3.1.2 #1: a subscribe to a full JID is treated as sent to the bare JID."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        d = online(b, B, 'phone')
        sub_request(a, B + '/elsewhere', 'subscribe')
        expect_push(a, B, ask='subscribe')
        p = pres(d, A, 'subscribe')
        assert p.get('to') == B, xmpp.to_xml(p)
        a.close()
        d.close()


def test_request_kept_for_offline_contact_until_answered():
    """RFC 6121 §3.1.3 #4: with no available resource the request is kept and delivered
    at every initial presence until answered; while pending a second request is not
    delivered (A.3.1 "None + Pending In": S.N.); a denial (A.2.4, A.3.4) ends it."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        sub_request(a, B, 'subscribe', id='req1')
        expect_push(a, B, ask='subscribe')
        d = b.client(B)
        roster_get(d)
        no_pres(d, A, 'subscribe')                   # connected, not available: not yet
        d.presence()
        p = pres(d, A, 'subscribe')
        assert p.get('id') == 'req1'
        sub_request(a, B, 'subscribe', id='req2')     # again: already pending
        no_pres(d, A, 'subscribe')
        d.close()
        d = online(b, B)                              # not answered: delivered again
        assert pres(d, A, 'subscribe').get('id') == 'req1'
        d.close()
        d = b.client(B)
        roster_get(d)
        d.presence()
        pres(d, A, 'subscribe')
        sub_request(d, A, 'unsubscribed')             # deny (§3.2.1)
        pres(a, B, 'unsubscribed')
        expect_push(a, B, subscription='none', ask=None)
        no_push(d)                                    # no item was ever made for Alice
        d.close()
        d = online(b, B)
        no_pres(d, A, 'subscribe')
        assert roster_get(d) == {}
        a.close()
        d.close()


def test_unsubscribe_withdraws_a_pending_request():
    """RFC 6121 A.2.2 (None + Pending Out -> None) and A.3.2 (None + Pending In -> None, and
    §3.3.3: the kept request is removed): the contact never sees the request."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        sub_request(a, B, 'subscribe')
        expect_push(a, B, ask='subscribe')
        sub_request(a, B, 'unsubscribe')
        expect_push(a, B, subscription='none', ask=None)
        d = online(b, B)
        no_pres(d, A, 'subscribe')
        a.close()
        d.close()


def test_pending_requests_are_bounded():
    """RFC 6121 §3.1.3 security warning: max_pending_subscriptions bounds the requests kept
    for one user; one more is refused with <resource-constraint/>."""
    with harness.Broker(users=USERS, overrides={'max_pending_subscriptions': '1'}) as b:
        a = online(b, A)
        c = online(b, C)
        sub_request(a, B, 'subscribe')
        expect_push(a, B, ask='subscribe')
        sub_request(c, B, 'subscribe', id='c1')
        e = pres(c, B, 'error')
        assert error_of(e) == 'resource-constraint', xmpp.to_xml(e)
        d = online(b, B)
        pres(d, A, 'subscribe')
        no_pres(d, C, 'subscribe')
        a.close()
        c.close()
        d.close()


def test_subscribe_errors():
    """RFC 6121 §3.1.2: a request that cannot be delivered gets an error: no such local
    account (<item-not-found/>), a domain we cannot reach (<remote-server-not-found/>);
    no roster item is made."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        sub_request(a, 'nobody@localhost', 'subscribe', id='e1')
        e = pres(a, 'nobody@localhost', 'error')
        assert error_of(e) == 'item-not-found' and e.get('id') == 'e1', xmpp.to_xml(e)
        sub_request(a, 'juliet@example.com', 'subscribe', id='e2')
        e = pres(a, 'juliet@example.com', 'error')
        assert error_of(e) == 'remote-server-not-found', xmpp.to_xml(e)
        no_push(a)
        assert roster_get(a) == {}
        a.close()


# ------------------------------------------------------------------ §3.4 pre-approval
def test_preapproval():
    """RFC 6121 §3.4.2 #4: 'subscribed' with no request makes an item with approved='true'
    and is not routed; the later request is answered by the server (§3.1.3 #2): the user
    gets 'subscribed' and 'to', the contact 'from' and never sees the request."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        d = online(b, B)
        sub_request(d, A, 'subscribed')
        expect_push(d, A, subscription='none', approved='true')
        no_pres(a, B)
        sub_request(a, B, 'subscribe')
        expect_push(a, B, subscription='none', ask='subscribe')
        pres(a, B, 'subscribed')
        expect_push(a, B, subscription='to', ask=None)
        pres(a, d.jid)
        expect_push(d, A, subscription='from', approved=None)
        no_pres(d, A, 'subscribe')
        a.close()
        d.close()


def test_preapproval_cancelled_by_unsubscribed():
    """RFC 6121 §3.2.2 #2: 'unsubscribed' removes a pre-approval and is not routed; a later
    request needs the contact's approval again."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        d = online(b, B)
        sub_request(d, A, 'subscribed')
        expect_push(d, A, approved='true')
        sub_request(d, A, 'unsubscribed')
        expect_push(d, A, subscription='none', approved=None)
        no_pres(a, B)
        sub_request(a, B, 'subscribe')
        pres(d, A, 'subscribe')
        no_pres(a, B, 'subscribed')
        a.close()
        d.close()


# ------------------------------------------------------------------ §3.2, §3.3 ending
def test_contact_cancels_subscription():
    """RFC 6121 §3.2.2-§3.2.3: the contact's resources go unavailable for the user first,
    then 'unsubscribed' is delivered and both rosters are pushed ('none')."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        d = online(b, B)
        subscribe_one_way(a, d)
        sub_request(d, A, 'unsubscribed', id='bye')
        pres(a, d.jid, 'unavailable')
        u = pres(a, B, 'unsubscribed')
        assert u.get('id') == 'bye'
        expect_push(a, B, subscription='none')
        expect_push(d, A, subscription='none')
        # Now subscription-less: B's updates no longer reach Alice (§4.4.2).
        d.presence(el('show', text='away'))
        no_pres(a, d.jid)
        a.close()
        d.close()


def test_user_unsubscribes():
    """RFC 6121 §3.3.2-§3.3.3: the user's roster is pushed at once ('none'); the contact
    gets 'unsubscribe' and a push ('none'), and the user gets unavailable from the
    contact's resources."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        d = online(b, B)
        subscribe_one_way(a, d)
        sub_request(a, B, 'unsubscribe', id='u1')
        expect_push(a, B, subscription='none')
        assert pres(d, A, 'unsubscribe').get('id') == 'u1'
        expect_push(d, A, subscription='none')
        pres(a, d.jid, 'unavailable')
        a.close()
        d.close()


def test_both_to_from_by_unsubscribe():
    """RFC 6121 A.2.2 (Both -> From) and A.3.2 (Both -> To)."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        d = online(b, B)
        mutual(a, d)
        sub_request(a, B, 'unsubscribe')
        expect_push(a, B, subscription='from')
        pres(d, A, 'unsubscribe')
        expect_push(d, A, subscription='to')
        a.close()
        d.close()


def test_stanzas_that_change_nothing_are_not_routed():
    """RFC 6121 A.2.4: 'unsubscribed' in state None is not routed; A.2.3: 'subscribed' in
    state From is not routed; A.3.1 [2]: a repeated request from a subscriber is answered
    by the server, not delivered."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        d = online(b, B)
        c = online(b, C)
        sub_request(c, A, 'unsubscribed')
        no_pres(a, C)
        subscribe_one_way(a, d)
        sub_request(d, A, 'subscribed')
        no_pres(a, B, 'subscribed')
        no_push(d)
        sub_request(a, B, 'subscribe')
        no_pres(d, A, 'subscribe')
        no_push(a)
        for x in (a, c, d):
            x.close()


# ------------------------------------------------------------------ §4 presence
def test_initial_presence_broadcast_and_probe():
    """RFC 6121 §4.2.2: initial presence goes to contacts with 'from'/'both' and back to
    the user's own resources; §4.3: the server probes the contacts and delivers each
    available resource's last presence with its own id (§4.3.2.1); an entity without a
    subscription sees nothing."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        d = online(b, B, None, True, el('status', text='here'), id='bp1')
        c = online(b, C)
        mutual(a, d)
        a.close()
        pres(d, a.jid, 'unavailable')
        a = b.client(A, resource='laptop')
        roster_get(a)
        a.presence(el('show', text='chat'), el('priority', text='3'), id='ap1')
        got = pres(d, a.jid)
        assert got.get('id') == 'ap1' and got.findtext(qn(xmpp.NS_CLIENT, 'show')) == 'chat'
        assert got.get('to') == B, xmpp.to_xml(got)
        pres(a, a.jid)                                # own echo
        probe = pres(a, d.jid)
        assert probe.get('id') == 'bp1' and probe.findtext(qn(xmpp.NS_CLIENT, 'status')) == 'here'
        no_pres(c, a.jid)
        for x in (a, c, d):
            x.close()


def test_subsequent_presence_and_other_resources():
    """RFC 6121 §4.4.2: updates go to subscribers and to all of the user's available
    resources; §4.2.2: a new resource also learns the others' presence."""
    with harness.Broker(users=USERS) as b:
        a1 = online(b, A, 'one')
        d = online(b, B)
        subscribe_one_way(d, a1)                      # Bob sees Alice
        a2 = online(b, A, 'two')
        pres(a1, a2.jid)
        pres(a2, a1.jid)
        pres(d, a2.jid)
        a1.presence(el('show', text='away'))
        for x in (a1, a2, d):
            p = pres(x, a1.jid)
            assert p.findtext(qn(xmpp.NS_CLIENT, 'show')) == 'away', xmpp.to_xml(p)
        for x in (a1, a2, d):
            x.close()


def test_unavailable_presence():
    """RFC 6121 §4.5.2: unavailable (with its status) goes to the subscribers and all the
    user's resources, the sender included; a later presence is a new initial presence."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        d = online(b, B)
        subscribe_one_way(d, a)
        a.presence(el('status', text='gone fishing'), type='unavailable')
        u = pres(d, a.jid, 'unavailable')
        assert u.findtext(qn(xmpp.NS_CLIENT, 'status')) == 'gone fishing'
        pres(a, a.jid, 'unavailable')
        a.presence()                                  # a new presence session (§4.5.2 note)
        pres(d, a.jid)
        pres(a, a.jid)
        a.close()
        d.close()


def test_unavailable_when_stream_closes():
    """RFC 6121 §4.5.2: a resource leaving without unavailable presence (closing its stream,
    or its TCP connection dropping) is broadcast as unavailable by the server."""
    with harness.Broker(users=USERS) as b:
        d = online(b, B)
        a = online(b, A)
        mutual(a, d)
        a.close()
        pres(d, a.jid, 'unavailable')
        a = online(b, A)
        pres(d, a.jid)
        a.abort()                                     # abrupt TCP close
        pres(d, a.jid, 'unavailable')
        d.close()


def test_directed_presence():
    """RFC 6121 §4.6.3 #2: directed presence reaches a non-subscriber, which is left out of
    later broadcasts but gets unavailable when the resource goes away; directed unavailable
    takes it off the list (§4.6.1) so it hears of the logout only once."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        c = online(b, C)
        d = online(b, B)
        a.presence(el('status', text='for you'), to=C)
        p = pres(c, a.jid)
        assert p.findtext(qn(xmpp.NS_CLIENT, 'status')) == 'for you' and p.get('to') == C
        a.presence(el('show', text='away'))           # broadcast: not to Carol
        no_pres(c, a.jid)
        a.presence(to=B)
        pres(d, a.jid)
        a.presence(to=B, type='unavailable')
        pres(d, a.jid, 'unavailable')
        a.close()
        pres(c, a.jid, 'unavailable')
        no_pres(d, a.jid)
        c.close()
        d.close()


def test_directed_presence_while_unavailable():
    """RFC 6121 §4.6.3 #3: directed presence from a connected but unavailable resource is
    tracked the same way: the entity hears unavailable when the stream goes."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        c = online(b, C)
        a.presence(to=C)
        pres(c, a.jid)
        a.abort()
        pres(c, a.jid, 'unavailable')
        c.close()


def test_presence_to_full_jid():
    """RFC 6121 §8.5.3.1: presence to a full JID reaches only that resource; §8.5.3.2.2: to
    a resource that does not exist it is silently ignored."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        d1 = online(b, B, 'one')
        d2 = online(b, B, 'two')
        a.presence(to=d1.jid)
        p = pres(d1, a.jid)
        assert p.get('to') == d1.jid
        no_pres(d2, a.jid)
        a.presence(to=B + '/nowhere')
        no_pres(a, B + '/nowhere', timeout=0.5)
        for x in (a, d1, d2):
            x.close()


def test_probes():
    """RFC 6121 §4.3.2: a subscriber's probe gets the last presence of each available
    resource with its own id (#4, §4.3.2.1), or unavailable from the bare JID with the
    probe's id when there is none (#3); a probe of a full JID learns only that resource's
    availability; §4.6.6: an entity that got directed presence gets mere presence. An
    entity with neither learns nothing (§11: no presence leak): the 'unsubscribed' answer
    (#1) changes nothing in its roster, so its server does not deliver it (A.3.4)."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A, 'r1', True, el('show', text='xa'), id='a-pres')
        d = online(b, B)
        c = online(b, C)
        subscribe_one_way(d, a)                       # Bob sees Alice
        c.presence(to=A, type='probe', id='pr1')
        no_pres(c, timeout=0.7)
        d.presence(to=A, type='probe', id='pr2')
        p = pres(d, a.jid)
        assert p.get('id') == 'a-pres' and p.findtext(qn(xmpp.NS_CLIENT, 'show')) == 'xa'
        d.presence(to=a.jid, type='probe', id='pr3')
        p = pres(d, a.jid)
        assert len(p) == 0, xmpp.to_xml(p)
        a.presence(to=C)                              # directed presence to Carol
        pres(c, a.jid)
        c.presence(to=a.jid, type='probe', id='pr4')
        p = pres(c, a.jid)
        assert p.get('type') is None and len(p) == 0, xmpp.to_xml(p)
        a.close()
        pres(d, a.jid, 'unavailable')
        d.presence(to=A, type='probe', id='pr5')
        u = pres(d, A, 'unavailable')
        assert u.get('id') == 'pr5'
        c.close()
        d.close()


def test_probe_of_deleted_account_repairs_subscription():
    """RFC 6121 §4.3.2 #1 and §8.5.1: probing an account that no longer exists is answered
    with 'unsubscribed', which (A.3.4: To -> None) is delivered and pushed."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        d = online(b, B)
        subscribe_one_way(a, d)                       # Alice sees Bob
        d.close()
        pres(a, d.jid, 'unavailable')
        b.herald('user', 'del', B)
        a.presence(to=B, type='probe', id='gone1')
        u = pres(a, B, 'unsubscribed')
        assert u.get('id') == 'gone1', xmpp.to_xml(u)
        expect_push(a, B, subscription='none')
        a.close()


def test_invalid_presence_is_bad_request():
    """RFC 6121 §4.7.2.3: priority is an integer from -128 to 127, at most one; §4.7.2.1:
    one <show/> with a defined value. Anything else gets <bad-request/> and is not
    broadcast; the limits themselves are accepted."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        bad = [[el('priority', text='128')], [el('priority', text='-129')],
               [el('priority', text='high')], [el('priority', text='1'), el('priority', text='2')],
               [el('show', text='busy')], [el('show', text='away'), el('show', text='xa')]]
        for i, children in enumerate(bad):
            a.presence(*children, id='bad%d' % i)
            e = pres(a, A, 'error')
            assert error_of(e) == 'bad-request' and e.get('id') == 'bad%d' % i, xmpp.to_xml(e)
        no_pres(a, a.jid)
        for v in ('127', ' -128 ', '+5'):
            a.presence(el('priority', text=v))
            pres(a, a.jid)
        a.close()


# ------------------------------------------------------------------ §8.5.2.1.1 routing
def is_msg(e):
    return e.tag == qn(xmpp.NS_CLIENT, 'message') and e.get('type') != 'error'


def test_message_to_bare_jid_follows_priority():
    """RFC 6121 §8.5.2.1.1: a chat message to the bare JID goes to the highest-priority
    available resource, never to a negative one; with only negative ones the sender gets
    <service-unavailable/> (§8.5.2.2.1); normal messages reach every non-negative one."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        d1 = online(b, B, 'low', True, el('priority', text='1'))
        d2 = online(b, B, 'high', True, el('priority', text='5'))
        a.message(B, 'one')
        assert d2.expect(is_msg).findtext(qn(xmpp.NS_CLIENT, 'body')) == 'one'
        d1.expect_none(is_msg)
        d2.presence(el('priority', text='-1'))
        pres(d1, d2.jid)
        a.message(B, 'two')
        assert d1.expect(is_msg).findtext(qn(xmpp.NS_CLIENT, 'body')) == 'two'
        d2.expect_none(is_msg)
        d2.presence(el('priority', text='0'))
        pres(d1, d2.jid)
        a.message(B, 'three', type='normal')
        d1.expect(is_msg)
        d2.expect(is_msg)
        d1.presence(el('priority', text='-5'))
        pres(d1, d1.jid)                              # processed: the echo came back
        d2.presence(el('priority', text='-5'))
        pres(d2, d2.jid)
        a.message(B, 'four', id='m4')
        e = a.expect({'tag': 'message', 'type': 'error', 'id': 'm4'})
        assert error_of(e) == 'service-unavailable', xmpp.to_xml(e)
        d1.expect_none(is_msg)
        for x in (a, d1, d2):
            x.close()


# ------------------------------------------------------------------ anonymous accounts
def test_anonymous_roster_goes_with_the_session():
    """RFC 6121 §2.5.2 applied to an anonymous account ending: its contacts are told
    (unsubscribe / unsubscribed) and its roster is not kept."""
    with harness.Broker(users=USERS, overrides={'anonymous': 'true'}) as b:
        d = online(b, B)
        anon = b.client(mech='ANONYMOUS')
        roster_get(anon)
        anon.presence()
        pres(anon, anon.jid)
        subscribe_one_way(anon, d)
        anon.close()
        pres(d, anon.bare_jid, 'unsubscribe')
        expect_push(d, anon.bare_jid, subscription='none')
        d.close()


if __name__ == '__main__':
    harness.main(globals())
