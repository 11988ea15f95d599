"""Resource binding (RFC 6120 §7) and the legacy session request (RFC 3921 §3)."""

import harness
import xmpp
from core_helpers import assert_error
from xmpp import NS_BIND, NS_SESSION, el, qn

ALICE = ('alice@localhost', 'alice-secret')
BOB = ('bob@localhost', 'bob-secret')


def authed(b, user=ALICE):
    c = b.client(login=False)
    c.authenticate(*user)
    return c


def bind_iq(c, resource=None, **attrs):
    b = el(qn(NS_BIND, 'bind'))
    if resource is not None:
        b.append(el(qn(NS_BIND, 'resource'), text=resource))
    a = {'type': 'set'}
    a.update(attrs)
    return c.iq(el('iq', a, b))


def bound_jid(r):
    return r.findtext('%s/%s' % (qn(NS_BIND, 'bind'), qn(NS_BIND, 'jid')))


def test_bind_client_resource():
    """RFC 6120 §7.7.1: the server binds the requested resource and returns the full JID."""
    with harness.Broker(users=[ALICE]) as b:
        c = authed(b)
        r = bind_iq(c, 'laptop')
        assert r.get('type') == 'result', xmpp.to_xml(r)
        assert bound_jid(r) == 'alice@localhost/laptop'
        c.jid = bound_jid(r)
        assert c.ping('localhost').get('to') == 'alice@localhost/laptop'
        c.close()


def test_bind_resource_is_prepared():
    """RFC 6120 §7.7.1, RFC 7622 §3.4, RFC 8265 §4.2: the resource is enforced with the
    OpaqueString profile (non-ASCII spaces become U+0020, NFC; no width mapping): the
    bound resource is the canonical one."""
    with harness.Broker(users=[ALICE]) as b:
        c = authed(b)
        r = bind_iq(c, 'Cafe\u0301\u00a0\uff21')   # combining acute, no-break space, fullwidth A
        assert r.get('type') == 'result', xmpp.to_xml(r)
        assert bound_jid(r) == 'alice@localhost/Caf\u00e9 \uff21', bound_jid(r)
        c.close()


def test_bind_server_generated_resource():
    """RFC 6120 §7.6.1: without <resource/> (or with an empty one) the server makes one,
    different for each session."""
    with harness.Broker(users=[ALICE]) as b:
        jids = set()
        for res in (None, ''):
            c = authed(b)
            r = bind_iq(c, res)
            jid = bound_jid(r)
            assert r.get('type') == 'result' and jid.startswith('alice@localhost/'), xmpp.to_xml(r)
            assert len(jid.split('/', 1)[1]) >= 8
            jids.add(jid)
        assert len(jids) == 2


def test_bind_invalid_resource():
    """RFC 6120 §7.7.2.1: a resource that violates the resourcepart rules (a control
    character; more than 1023 bytes) -> <bad-request/> (modify); the stream stays and a
    good bind follows."""
    with harness.Broker(users=[ALICE]) as b:
        c = authed(b)
        for bad in ('tab\there', 'x' * 1024):
            assert_error(bind_iq(c, bad), 'modify', 'bad-request')
        r = bind_iq(c, 'ok')
        assert bound_jid(r) == 'alice@localhost/ok'
        c.close()


def test_bind_bad_request_shapes():
    """RFC 6120 §7.7.2.1, §8.2.3: bind as type='get', or with two <resource/> elements
    (the Appendix A.5 schema) -> <bad-request/>."""
    with harness.Broker(users=[ALICE]) as b:
        c = authed(b)
        r = c.iq(el('iq', {'type': 'get'}, el(qn(NS_BIND, 'bind'))))
        assert_error(r, 'modify', 'bad-request')
        # Appendix A.5: one <resource/> at most.
        r = c.iq(el('iq', {'type': 'set'}, el(qn(NS_BIND, 'bind'), None,
                                               el(qn(NS_BIND, 'resource'), text='a'),
                                               el(qn(NS_BIND, 'resource'), text='b'))))
        assert_error(r, 'modify', 'bad-request')
        c.bind('fine')
        c.close()


def test_conflict_replace():
    """RFC 6120 §7.7.2.2 (policy 'replace', the default): the new session takes the
    resource; the old stream ends with <conflict/>."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        old = b.client(*ALICE, resource='desk')
        new = b.client(*ALICE, resource='desk')
        assert new.jid == 'alice@localhost/desk'
        assert old.expect_stream_error(require_close_tag=True) == 'conflict'
        # The full JID now reaches the new session.
        other = b.client(*BOB)
        other.message('alice@localhost/desk', 'who?', id='m1')
        assert new.expect({'tag': 'message', 'id': 'm1'}).get('from') == other.jid
        new.close()
        other.close()


def test_conflict_reject():
    """RFC 6120 §7.7.2.2 (policy 'reject'): the new bind gets <conflict/> (cancel); the
    existing session is untouched and the new stream may bind another resource."""
    with harness.Broker(users=[ALICE], overrides={'resource_conflict': 'reject'}) as b:
        old = b.client(*ALICE, resource='desk')
        c = authed(b)
        assert_error(bind_iq(c, 'desk'), 'cancel', 'conflict')
        assert old.ping('localhost').get('type') == 'result'
        assert bound_jid(bind_iq(c, 'desk2')) == 'alice@localhost/desk2'
        old.close()
        c.close()


def test_conflict_rename():
    """RFC 6120 §7.7.2.2 (policy 'rename'): the new session gets a server-made resource;
    both sessions stay."""
    with harness.Broker(users=[ALICE], overrides={'resource_conflict': 'rename'}) as b:
        old = b.client(*ALICE, resource='desk')
        c = authed(b)
        r = bind_iq(c, 'desk')
        jid = bound_jid(r)
        assert r.get('type') == 'result' and jid.startswith('alice@localhost/'), xmpp.to_xml(r)
        assert jid != 'alice@localhost/desk'
        c.jid = jid
        assert old.ping('localhost').get('type') == 'result'
        assert c.ping('localhost').get('type') == 'result'
        old.close()
        c.close()


def test_max_sessions_per_user():
    """RFC 6120 §7.6.2.1: past max_sessions_per_user the bind gets <resource-constraint/>
    (wait); after one session ends, binding works again. Other accounts are not limited."""
    with harness.Broker(users=[ALICE, BOB], overrides={'max_sessions_per_user': '2'}) as b:
        s1 = b.client(*ALICE, resource='one')
        s2 = b.client(*ALICE, resource='two')
        c = authed(b)
        assert_error(bind_iq(c, 'three'), 'wait', 'resource-constraint')
        assert_error(bind_iq(c), 'wait', 'resource-constraint')
        bob = b.client(*BOB)
        s1.close()
        r = None
        for _ in range(20):                     # the server notices the close soon
            r = bind_iq(c, 'three')
            if r.get('type') == 'result':
                break
        assert bound_jid(r) == 'alice@localhost/three', xmpp.to_xml(r)
        # Replacing one's own resource is not an extra session.
        s2b = b.client(*ALICE, resource='two')
        assert s2.expect_stream_error() == 'conflict'
        for x in (c, s2b, bob):
            x.close()


def test_legacy_session():
    """RFC 3921 §3 / RFC 6121 App. E: the session feature is marked <optional/> and the
    session iq still gets an empty result for old clients."""
    with harness.Broker(users=[ALICE]) as b:
        c = authed(b)
        s = c.features.find(qn(NS_SESSION, 'session'))
        assert s is not None and s.find(qn(NS_SESSION, 'optional')) is not None
        c.bind('r')
        r = c.session()
        assert r.get('type') == 'result' and len(r) == 0, xmpp.to_xml(r)
        r = c.iq(el('iq', {'type': 'get'}, el(qn(NS_SESSION, 'session'))))
        assert r.get('type') == 'error'
        c.close()


def test_second_bind_on_bound_stream():
    """RFC 6120 §7.1: binding more than one resource per stream is not supported; the
    request gets an error and the session keeps its JID."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE, resource='first')
        r = bind_iq(c, 'second')
        assert r.get('type') == 'error', xmpp.to_xml(r)
        assert c.ping('localhost').get('to') == 'alice@localhost/first'
        c.close()


def test_bind_before_auth_is_refused():
    """RFC 6120 §7.3.1 / §4.9.3.12: bind before SASL -> <not-authorized/> stream error."""
    with harness.Broker() as b:
        c = b.client(login=False)
        c.send(el('iq', {'type': 'set', 'id': 'b1'}, el(qn(NS_BIND, 'bind'))))
        assert c.expect_stream_error(require_close_tag=True) == 'not-authorized'


def test_handshake_timeout():
    """RFC 6120 §4.9.3.4: a connection that does not authenticate and bind within
    handshake_timeout ends with <connection-timeout/>; a bound session does not."""
    import time
    with harness.Broker(users=[ALICE], overrides={'handshake_timeout': '1'}) as b:
        s = b.client(*ALICE)
        c = b.client(login=False)
        t0 = time.monotonic()
        assert c.expect_stream_error(timeout=5, require_close_tag=True,
                                     require_eof=True) == 'connection-timeout'
        assert 0.8 < time.monotonic() - t0 < 4
        time.sleep(0.5)
        assert s.ping('localhost').get('type') == 'result'
        s.close()


if __name__ == '__main__':
    harness.main(globals())
