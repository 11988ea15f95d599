"""In-band registration before authentication (XEP-0077 §3.1, §7 Registration with a
Server)."""

import harness
import xmpp
from core_helpers import NS_FEATURE_REGISTER, NS_REGISTER, assert_error, disco_info
from xmpp import el, qn

ALICE = ('alice@localhost', 'alice-secret')
ON = {'registration': 'true'}


def reg_get(c):
    return c.iq(el('iq', {'type': 'get'}, el(qn(NS_REGISTER, 'query'))))


def reg_set(c, username=None, password=None, **kw):
    q = el(qn(NS_REGISTER, 'query'))
    if username is not None:
        q.append(el(qn(NS_REGISTER, 'username'), text=username))
    if password is not None:
        q.append(el(qn(NS_REGISTER, 'password'), text=password))
    return c.iq(el('iq', {'type': 'set'}, q), **kw)


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


def test_register_conflict():
    """XEP-0077 §3.1: a taken user name -> <conflict/> (cancel); the existing account's
    password is unchanged. The name is compared after preparation (RFC 7613 case
    mapping), so 'Alice' is taken too."""
    with harness.Broker(overrides=ON, users=[ALICE]) as b:
        c = b.client(login=False)
        assert_error(reg_set(c, 'alice', 'hijack'), 'cancel', 'conflict')
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
    """XEP-0077 §3.2: cancelling a registration needs an authenticated stream."""
    with harness.Broker(overrides=ON, users=[ALICE]) as b:
        c = b.client(login=False)
        q = el(qn(NS_REGISTER, 'query'), None, el(qn(NS_REGISTER, 'username'), text='alice'),
               el(qn(NS_REGISTER, 'remove')))
        r = c.iq(el('iq', {'type': 'set'}, q))
        assert r.get('type') == 'error', xmpp.to_xml(r)
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


if __name__ == '__main__':
    harness.main(globals())
