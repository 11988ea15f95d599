"""In-band registration (XEP-0077): before authentication (§3.1, §7 Registration with a
Server), and for an authenticated session its registration (§3.1), password change (§3.3)
and cancellation (§3.2)."""

import time

import harness
import xmpp
from core_helpers import NS_FEATURE_REGISTER, NS_REGISTER, assert_error, disco_info
from xmpp import el, qn, NS_ROSTER

ALICE = ('alice@localhost', 'alice-secret')
BOB = ('bob@localhost', 'bob-secret')
CAROL = ('carol@localhost', 'carol-secret')
ON = {'registration': 'true'}
R = lambda local: qn(NS_ROSTER, local)  # noqa: E731


def reg_get(c):
    return c.iq(el('iq', {'type': 'get'}, el(qn(NS_REGISTER, 'query'))))


def reg_set(c, username=None, password=None, **kw):
    q = el(qn(NS_REGISTER, 'query'))
    if username is not None:
        q.append(el(qn(NS_REGISTER, 'username'), text=username))
    if password is not None:
        q.append(el(qn(NS_REGISTER, 'password'), text=password))
    return c.iq(el('iq', {'type': 'set'}, q), **kw)


def reg_query(*children, to=None, type='set'):
    return el('iq', {'type': type, 'to': to}, el(qn(NS_REGISTER, 'query'), None, *children))


def reg_el(local, text=None):
    return el(qn(NS_REGISTER, local), text=text)


def change_password(c, username, password, to=None):
    kids = []
    if username is not None:
        kids.append(reg_el('username', username))
    if password is not None:
        kids.append(reg_el('password', password))
    return c.iq(reg_query(*kids, to=to))


def remove(c, *extra, to=None):
    return c.iq(reg_query(reg_el('remove'), *extra, to=to))


def can_login(b, user, password):
    c = b.client(login=False)
    try:
        c.authenticate(user, password)
    except xmpp.SASLFailure:
        c.close()
        return False
    c.bind()
    c.close()
    return True


def test_registration_disabled():
    """XEP-0077 §3.1: a host without in-band registration returns <service-unavailable/>
    and does not advertise the stream feature (§5)."""
    with harness.Broker() as b:
        c = b.client(login=False)
        assert c.feature(qn(NS_FEATURE_REGISTER, 'register')) is None
        assert_error(reg_get(c), 'cancel', 'service-unavailable')
        assert_error(reg_set(c, 'eve', 'pw'), 'cancel', 'service-unavailable')
        c.close()
        assert not can_login(b, 'eve', 'pw')


def test_registration_fields():
    """XEP-0077 §3.1: the stream feature is advertised after TLS, and an iq get returns
    the required fields (username, password) with instructions, without <registered/>."""
    with harness.Broker(overrides=ON) as b:
        c = b.client(login=False)
        assert c.feature(qn(NS_FEATURE_REGISTER, 'register')) is not None
        r = reg_get(c)
        assert r.get('type') == 'result', xmpp.to_xml(r)
        q = r.find(qn(NS_REGISTER, 'query'))
        assert q is not None
        tags = {x.tag for x in q}
        assert {qn(NS_REGISTER, 'username'), qn(NS_REGISTER, 'password'),
                qn(NS_REGISTER, 'instructions')} <= tags, tags
        assert qn(NS_REGISTER, 'registered') not in tags
        assert (q.findtext(qn(NS_REGISTER, 'username')) or '') == ''
        c.close()


def test_register_then_login():
    """XEP-0077 §3.1, §7: a successful registration returns an empty result; the new
    account can then authenticate on the same stream (bootstrapping) and on new ones,
    also after a restart."""
    with harness.Broker(overrides=ON) as b:
        c = b.client(login=False)
        r = reg_set(c, 'newbie', 'n3wbie-pass')
        assert r.get('type') == 'result' and len(r) == 0, xmpp.to_xml(r)
        c.authenticate('newbie', 'n3wbie-pass', mech='SCRAM-SHA-256')
        assert c.bind().startswith('newbie@localhost/')
        c.close()
        assert can_login(b, 'newbie', 'n3wbie-pass')
        assert not can_login(b, 'newbie', 'other')
        b.restart()
        assert can_login(b, 'newbie', 'n3wbie-pass')


def test_register_for_another_host_before_auth():
    """XEP-0077 §3.1: registration is with the host addressed; before authentication only
    the server itself can answer, so a request to another entity (a remote domain, the
    pubsub service, an account) gets <service-unavailable/> and creates nothing."""
    with harness.Broker(overrides=ON) as b:
        c = b.client(login=False)
        for to in ('example.org', 'pubsub.localhost', 'alice@localhost'):
            r = c.iq(reg_query(reg_el('username', 'erin'), reg_el('password', 'pw-erin1'),
                               to=to))
            assert_error(r, 'cancel', 'service-unavailable')
        assert not can_login(b, 'erin', 'pw-erin1')
        r = c.iq(reg_query(reg_el('username', 'erin'), reg_el('password', 'pw-erin1'),
                           to='LOCALHOST'))
        assert r.get('type') == 'result', xmpp.to_xml(r)
        c.close()


def test_register_rate_limited_per_address():
    """Every input has a limit: in-band registrations (XEP-0077 §3.1) from one address are
    rationed (max_registrations_per_ip an hour; reconnecting does not reset it); beyond it
    the server answers <resource-constraint/> and creates nothing."""
    with harness.Broker(overrides=dict(ON, max_registrations_per_ip='2')) as b:
        for i in range(2):
            c = b.client(login=False)
            assert reg_set(c, 'user%d' % i, 'pw-%d' % i).get('type') == 'result'
            c.close()
        c = b.client(login=False)
        assert_error(reg_set(c, 'user2', 'pw-2'), 'wait', 'resource-constraint')
        c.close()
        assert can_login(b, 'user1', 'pw-1')
        assert not can_login(b, 'user2', 'pw-2')


def test_register_conflict():
    """XEP-0077 §3.1: a taken user name -> <conflict/> (cancel); the existing account's
    password is unchanged. The name is compared after preparation (RFC 7613 case
    mapping), so 'Alice' is taken too. §9: errors carry the old-style code as well (409)."""
    with harness.Broker(overrides=ON, users=[ALICE]) as b:
        c = b.client(login=False)
        r = reg_set(c, 'alice', 'hijack')
        assert_error(r, 'cancel', 'conflict')
        err = next(e for e in r if xmpp.localname(e.tag) == 'error')
        assert err.get('code') == '409', xmpp.to_xml(r)
        assert_error(reg_set(c, 'ALICE', 'hijack'), 'cancel', 'conflict')
        c.close()
        assert can_login(b, *ALICE)
        assert not can_login(b, 'alice', 'hijack')


def test_register_missing_fields():
    """XEP-0077 §3.1: a missing or empty username or password -> <not-acceptable/>."""
    with harness.Broker(overrides=ON) as b:
        c = b.client(login=False)
        assert_error(reg_set(c, 'nopass'), 'modify', 'not-acceptable')
        assert_error(reg_set(c, 'nopass', ''), 'modify', 'not-acceptable')
        assert_error(reg_set(c, None, 'pw'), 'modify', 'not-acceptable')
        assert_error(reg_set(c, '', 'pw'), 'modify', 'not-acceptable')
        c.close()
        assert not can_login(b, 'nopass', 'x')


def test_register_invalid_username():
    """XEP-0077 §3.1 with RFC 7622 §3.3: a user name that is not a valid localpart
    (containing '@', '/', a space, or too long) is refused."""
    with harness.Broker(overrides=ON) as b:
        c = b.client(login=False)
        for bad in ('a@b', 'a/b', 'two words', 'x' * 1024):
            r = reg_set(c, bad, 'pw')
            assert r.get('type') == 'error'
            assert xmpp.error_condition(r) in (('modify', 'jid-malformed'),
                                               ('modify', 'not-acceptable')), xmpp.to_xml(r)
        c.close()


def test_register_remove_before_auth_refused():
    """XEP-0077 §3.2: cancelling a registration needs an authenticated stream; before it
    the sender is not registered (the error table: <unexpected-request/>)."""
    with harness.Broker(overrides=ON, users=[ALICE]) as b:
        c = b.client(login=False)
        q = el(qn(NS_REGISTER, 'query'), None, el(qn(NS_REGISTER, 'username'), text='alice'),
               el(qn(NS_REGISTER, 'remove')))
        r = c.iq(el('iq', {'type': 'set'}, q))
        assert xmpp.error_condition(r)[1] == 'unexpected-request', xmpp.to_xml(r)
        c.close()
        assert can_login(b, *ALICE)


def test_register_feature_in_disco():
    """XEP-0077 §6: the server advertises jabber:iq:register in disco#info when enabled,
    not when disabled."""
    with harness.Broker(overrides=ON, users=[ALICE]) as b:
        c = b.client(*ALICE)
        feats = {f.get('var') for f in disco_info(c, 'localhost').iter(qn(xmpp.NS_DISCO_INFO, 'feature'))}
        assert NS_REGISTER in feats
        c.close()
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        feats = {f.get('var') for f in disco_info(c, 'localhost').iter(qn(xmpp.NS_DISCO_INFO, 'feature'))}
        assert NS_REGISTER not in feats
        c.close()


def test_register_on_insecure_listener():
    """Herald's c2s_insecure listener (loopback testing) allows registration without TLS."""
    with harness.Broker(overrides=ON) as b:
        c = b.client(tls=None, login=False)
        assert reg_set(c, 'plainuser', 'pw-pw-pw').get('type') == 'result'
        c.login('plainuser', 'pw-pw-pw', tls=None)
        c.close()



# ------------------------------------------------------------------ authenticated sessions
def test_registered_query_after_auth():
    """XEP-0077 §3.1: an authenticated entity asking for the registration fields gets
    <registered/> with its user name (never its password), addressed to the server or
    with no 'to'; an anonymous session has no account (forbidden)."""
    with harness.Broker(overrides=dict(ON, anonymous='true'), users=[ALICE]) as b:
        c = b.client(*ALICE)
        for to in (None, 'localhost'):
            r = c.iq(reg_query(type='get', to=to))
            assert r.get('type') == 'result', xmpp.to_xml(r)
            q = r.find(qn(NS_REGISTER, 'query'))
            assert q is not None and q.find(qn(NS_REGISTER, 'registered')) is not None, \
                xmpp.to_xml(r)
            assert q.findtext(qn(NS_REGISTER, 'username')) == 'alice', xmpp.to_xml(r)
            assert not (q.findtext(qn(NS_REGISTER, 'password')) or ''), xmpp.to_xml(r)
        c.close()
        anon = b.client(mech='ANONYMOUS')
        assert_error(anon.iq(reg_query(type='get')), 'auth', 'forbidden')
        anon.close()


def test_password_change():
    """XEP-0077 §3.3: an authenticated user changes its password with <username/> and
    <password/>, to the server or with no 'to'. The result comes once the change is
    stored: after a SIGKILL right after it, only the new password works."""
    with harness.Broker(overrides=ON, users=[ALICE]) as b:
        c = b.client(*ALICE)
        r = change_password(c, 'alice', 'first-new', to='localhost')
        assert r.get('type') == 'result' and len(r) == 0, xmpp.to_xml(r)
        assert r.get('from') in (None, 'localhost'), xmpp.to_xml(r)
        r = change_password(c, 'alice', 'second-new')
        assert r.get('type') == 'result' and len(r) == 0, xmpp.to_xml(r)
        assert c.ping('localhost').get('type') == 'result'  # the session goes on
        b.kill9()
        assert can_login(b, 'alice', 'second-new')
        assert not can_login(b, 'alice', 'first-new')
        assert not can_login(b, *ALICE)


def test_password_change_errors():
    """XEP-0077 §3.3 error cases, each leaving the password as it was: incomplete request
    (<bad-request/>), an empty password (<not-acceptable/>: the existing one is kept),
    another account's user name or bare JID (<forbidden/>), a stream that is not
    encrypted (<not-authorized/>), an anonymous session (<forbidden/>)."""
    with harness.Broker(overrides=dict(ON, anonymous='true'), users=[ALICE, BOB]) as b:
        c = b.client(*ALICE)
        assert_error(change_password(c, None, 'x-pass'), 'modify', 'bad-request')
        assert_error(change_password(c, 'alice', None), 'modify', 'bad-request')
        assert_error(change_password(c, '', 'x-pass'), 'modify', 'bad-request')
        assert_error(change_password(c, 'alice', ''), 'modify', 'not-acceptable')
        assert_error(c.iq(reg_query(reg_el('username', 'alice'), reg_el('password')),),
                     'modify', 'not-acceptable')
        assert_error(change_password(c, 'bob', 'stolen'), 'auth', 'forbidden')
        assert_error(change_password(c, 'a@b', 'x-pass'), 'modify', 'bad-request')
        r = change_password(c, 'alice', 'stolen', to='bob@localhost')
        assert_error(r, 'auth', 'forbidden')
        assert r.get('from') == 'bob@localhost', xmpp.to_xml(r)
        c.close()
        plain = b.client(tls=None, login=False)
        plain.login('alice', ALICE[1], tls=None)
        assert_error(change_password(plain, 'alice', 'in-clear'), 'auth', 'not-authorized')
        plain.close()
        anon = b.client(mech='ANONYMOUS')
        local = anon.bare_jid.split('@')[0]
        assert_error(change_password(anon, local, 'x-pass'), 'auth', 'forbidden')
        anon.close()
        assert can_login(b, *ALICE)
        assert can_login(b, *BOB)


def test_disabled_after_auth():
    """XEP-0077 §3.1 (and §6: not advertised in disco): with registration off, the
    namespace is not offered to authenticated sessions either: <service-unavailable/>."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        assert_error(c.iq(reg_query(type='get')), 'cancel', 'service-unavailable')
        assert_error(change_password(c, 'alice', 'new-pass'), 'cancel', 'service-unavailable')
        assert_error(remove(c), 'cancel', 'service-unavailable')
        c.close()
        assert can_login(b, *ALICE)


def test_cancel_registration():
    """XEP-0077 §3.2: <remove/> from an authenticated session: the result, then every
    stream of the account ends with the stream error <not-authorized/>; the account is
    gone (also after a SIGKILL right after the result) and its name is free again."""
    with harness.Broker(overrides=ON, users=[ALICE, BOB]) as b:
        c1 = b.client(*ALICE, resource='one')
        c2 = b.client(*ALICE, resource='two')
        other = b.client(*BOB)
        r = remove(c1)
        assert r.get('type') == 'result' and len(r) == 0, xmpp.to_xml(r)
        assert c1.expect_stream_error() == 'not-authorized'
        assert c2.expect_stream_error() == 'not-authorized'
        assert other.ping('localhost').get('type') == 'result'  # others go on
        other.close()
        b.kill9()
        assert not can_login(b, *ALICE)
        assert can_login(b, *BOB)
        c = b.client(login=False)
        r = reg_set(c, 'alice', 'reborn-pass')
        assert r.get('type') == 'result', xmpp.to_xml(r)
        c.close()
        assert can_login(b, 'alice', 'reborn-pass')


def test_cancel_forgets_pubsub_state():
    """XEP-0077 §3.2 with XEP-0060 §4.1: a cancelled account takes its node subscriptions
    and affiliations with it, so an account registered later under the same name does not
    inherit ownership of its nodes; other subscribers keep theirs."""
    P = 'http://jabber.org/protocol/pubsub'
    PS = 'pubsub.localhost'

    def ps(c, type, xml):
        return c.iq(xmpp.parse("<iq type='%s' to='%s'><pubsub xmlns='%s'>%s</pubsub></iq>"
                               % (type, PS, P, xml)))
    with harness.Broker(overrides=ON, users=[ALICE, BOB]) as b:
        a = b.client(*ALICE)
        assert ps(a, 'set', "<create node='mine'/>").get('type') == 'result'
        assert ps(a, 'set', "<subscribe node='mine' jid='alice@localhost'/>").get('type') == 'result'
        bob = b.client(*BOB)
        assert ps(bob, 'set', "<subscribe node='mine' jid='bob@localhost'/>").get('type') == 'result'
        assert remove(a).get('type') == 'result'
        assert a.expect_stream_error() == 'not-authorized'
        c = b.client(login=False)
        assert reg_set(c, 'alice', 'again-pass').get('type') == 'result'
        c.close()
        a = b.client('alice@localhost', 'again-pass')
        r = ps(a, 'get', '<affiliations/>')
        assert r.find('{%s}pubsub/{%s}affiliations/{%s}affiliation' % (P, P, P)) is None, \
            xmpp.to_xml(r)
        r = ps(a, 'get', '<subscriptions/>')
        assert r.find('{%s}pubsub/{%s}subscriptions/{%s}subscription' % (P, P, P)) is None, \
            xmpp.to_xml(r)
        r = a.iq(xmpp.parse("<iq type='set' to='%s'><pubsub xmlns='%s#owner'><delete node='mine'/>"
                            "</pubsub></iq>" % (PS, P)))
        assert xmpp.error_condition(r) == ('auth', 'forbidden'), xmpp.to_xml(r)
        r = ps(bob, 'get', '<subscriptions/>')
        subs = r.findall('{%s}pubsub/{%s}subscriptions/{%s}subscription' % (P, P, P))
        assert [s.get('node') for s in subs] == ['mine'], xmpp.to_xml(r)
        a.close()
        bob.close()


def test_cancel_to_server_address():
    """XEP-0077 §3.2: the request may also be addressed to the server itself."""
    with harness.Broker(overrides=ON, users=[ALICE]) as b:
        c = b.client(*ALICE)
        r = remove(c, to='localhost')
        assert r.get('type') == 'result' and r.get('from') in (None, 'localhost'), \
            xmpp.to_xml(r)
        assert c.expect_stream_error() == 'not-authorized'
        assert not can_login(b, *ALICE)


def test_cancel_errors():
    """XEP-0077 §3.2 error cases, each leaving the account in place: <remove/> not the
    only child (<bad-request/>), another account's bare JID (<forbidden/>), an anonymous
    session, which was never registered (<registration-required/>)."""
    with harness.Broker(overrides=dict(ON, anonymous='true'), users=[ALICE, BOB]) as b:
        c = b.client(*ALICE)
        assert_error(remove(c, reg_el('username', 'alice')), 'modify', 'bad-request')
        assert_error(remove(c, to='bob@localhost'), 'auth', 'forbidden')
        assert c.ping('localhost').get('type') == 'result'
        c.close()
        anon = b.client(mech='ANONYMOUS')
        assert_error(remove(anon), 'auth', 'registration-required')
        assert anon.ping('localhost').get('type') == 'result'
        anon.close()
        assert can_login(b, *ALICE)
        assert can_login(b, *BOB)


def test_cancel_drops_what_the_stream_sent_after_it():
    """XEP-0077 §3.2: once the account is removed its streams only wait for the end:
    a roster set pipelined in the same packet after <remove/> is not handled, so nothing
    of it survives into a new account registered under the same name."""
    with harness.Broker(overrides=ON, users=[ALICE, BOB]) as b:
        c = b.client(*ALICE)
        rm = reg_query(reg_el('remove'))
        rm.set('id', 'rm1')
        rs = el('iq', {'type': 'set', 'id': 'rs1'},
                el(R('query'), None, el(R('item'), {'jid': BOB[0], 'name': 'Bob'})))
        c.send_raw(xmpp.to_xml(rm) + xmpp.to_xml(rs))
        r = c.expect(dict(tag='iq', id='rm1'))
        assert r.get('type') == 'result', xmpp.to_xml(r)
        assert c.expect_stream_error() == 'not-authorized'
        assert not [e for e in c.drain(0.2) if e.get('id') == 'rs1']
        n = b.client(login=False)
        assert reg_set(n, 'alice', 'second-life').get('type') == 'result'
        n.close()
        c = b.client('alice@localhost', 'second-life')
        assert roster_items(c) == {}, roster_items(c)
        c.close()


def test_removed_account_cannot_bind():
    """XEP-0077 §3.2 (RFC 6120 §7): a stream that authenticated before its account was
    removed cannot bind a resource afterwards; it ends with <not-authorized/>."""
    with harness.Broker(overrides=ON, users=[ALICE, BOB]) as b:
        late = b.client(login=False)
        late.authenticate(*ALICE)  # authenticated, not bound yet
        c = b.client(*ALICE)
        assert remove(c).get('type') == 'result'
        assert c.expect_stream_error() == 'not-authorized'
        late.send(el('iq', {'type': 'set', 'id': 'b1'}, el(qn(xmpp.NS_BIND, 'bind'))))
        assert late.expect_stream_error() == 'not-authorized'
        assert can_login(b, *BOB)


# RFC 6121 roster helpers for the cancellation's effect on contacts.
def roster_items(c):
    r = c.iq(el('iq', {'type': 'get'}, el(R('query'))))
    assert r.get('type') == 'result', xmpp.to_xml(r)
    return {i.get('jid'): i for i in r.find(R('query')).findall(R('item'))}


def presence_from(c, frm, type, timeout=5):
    return c.expect(dict(tag='presence', type=type, **{'from': frm}), timeout=timeout)


def last_push(c, jid, timeout=1.0):
    """The last roster push for jid received within timeout (each acknowledged)."""
    item = None
    deadline = time.monotonic() + timeout
    while True:
        try:
            p = c.expect(lambda e: e.tag == qn(xmpp.NS_CLIENT, 'iq') and e.get('type') == 'set'
                         and e.find(R('query')) is not None
                         and e.find(R('query')).find(R('item')).get('jid') == jid,
                         timeout=max(0.05, deadline - time.monotonic()))
        except xmpp.Timeout:
            return item
        c.send(el('iq', {'type': 'result', 'id': p.get('id')}))
        item = p.find(R('query')).find(R('item'))


def test_cancel_ends_presence_subscriptions():
    """XEP-0077 §3.2 (an IM server SHOULD cancel the entity's presence subscriptions) with
    RFC 6121 §2.5.2: a contact with a mutual subscription sees the account go unavailable
    and receives <unsubscribe/> and <unsubscribed/>, its roster item ends at
    subscription 'none' (pushed); a contact whose request was pending gets
    <unsubscribed/> and its 'ask' is cleared. Other contacts' rosters stay consistent
    after a restart."""
    with harness.Broker(overrides=ON, users=[ALICE, BOB, CAROL]) as b:
        a, d, k = (b.client(*u) for u in (ALICE, BOB, CAROL))
        for x in (a, d, k):
            roster_items(x)
            x.presence()
        time.sleep(0.3)
        # Alice and Bob: mutual ('both').
        for x, y in ((a, d), (d, a)):
            x.send(el('presence', {'to': y.bare_jid, 'type': 'subscribe'}))
            presence_from(y, x.bare_jid, 'subscribe')
            y.send(el('presence', {'to': x.bare_jid, 'type': 'subscribed'}))
        time.sleep(0.3)
        # Carol asks Alice, who does not answer.
        k.send(el('presence', {'to': a.bare_jid, 'type': 'subscribe'}))
        presence_from(a, k.bare_jid, 'subscribe')
        assert roster_items(d)[a.bare_jid].get('subscription') == 'both'
        assert roster_items(k)[a.bare_jid].get('ask') == 'subscribe'
        for x in (a, d, k):
            x.drain(0.3)
        r = remove(a)
        assert r.get('type') == 'result', xmpp.to_xml(r)
        assert a.expect_stream_error() == 'not-authorized'
        presence_from(d, a.jid, 'unavailable')
        presence_from(d, a.bare_jid, 'unsubscribe')
        presence_from(d, a.bare_jid, 'unsubscribed')
        item = last_push(d, a.bare_jid)
        assert item is not None and item.get('subscription') == 'none', \
            xmpp.to_xml(item) if item is not None else 'no push'
        presence_from(k, a.bare_jid, 'unsubscribed')
        item = last_push(k, a.bare_jid)
        assert item is not None and item.get('ask') is None, \
            xmpp.to_xml(item) if item is not None else 'no push'
        d.close()
        k.close()
        b.restart()
        d = b.client(*BOB)
        it = roster_items(d)[ALICE[0]]
        assert it.get('subscription') == 'none' and it.get('ask') is None, xmpp.to_xml(it)
        d.close()
        k = b.client(*CAROL)
        it = roster_items(k)[ALICE[0]]
        assert it.get('subscription') == 'none' and it.get('ask') is None, xmpp.to_xml(it)
        k.close()


if __name__ == '__main__':
    harness.main(globals())
