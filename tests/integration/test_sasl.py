"""SASL (RFC 6120 §6): SCRAM (RFC 5802, RFC 7677) with and without channel binding
(RFC 5929, RFC 9266), PLAIN (RFC 4616), ANONYMOUS (RFC 4505), failures and slow-down."""

import base64
import ctypes
import ctypes.util
import statistics
import sys
import time

import harness
import xmpp
from core_helpers import raw
from xmpp import NS_BIND, NS_SASL, NS_SASL_CB, NS_STREAMS, qn

ALICE = ('alice@localhost', 'alice-secret')
BOB = ('bob@localhost', 'bob-secret')


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def sasl_reply(c, timeout=None):
    """The next SASL element (or stream error, raised)."""
    return c._sasl_next(timeout)


def failure_of(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except xmpp.SASLFailure as e:
        return e.condition
    raise AssertionError('authentication succeeded')


def tls_client(b, kind='c2s'):
    c = b.client(login=False) if kind == 'c2s' else raw(b, kind)
    if kind != 'c2s':
        c.open_stream()
    return c


# ---------------------------------------------------------------- offers
def test_mechanisms_offered_over_tls():
    """RFC 6120 §6.3.3-§6.3.4, XEP-0440: over TLS the server offers SCRAM-SHA-256(-PLUS),
    SCRAM-SHA-1(-PLUS) and PLAIN, strongest first, no ANONYMOUS unless enabled, and the
    channel-binding types it supports."""
    with harness.Broker() as b:
        c = tls_client(b)
        m = c.mechanisms()
        assert m[:4] == ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1'], m
        assert 'PLAIN' in m and 'ANONYMOUS' not in m, m
        cb = c.feature(qn(NS_SASL_CB, 'sasl-channel-binding'))
        assert cb is not None
        types = {x.get('type') for x in cb}
        assert 'tls-server-end-point' in types, types
        if c.sock.version() == 'TLSv1.3':
            assert 'tls-exporter' in types, types
        assert 'tls-unique' not in types
        c.close()


def test_plain_refused_without_tls():
    """RFC 6120 §6.5.4 / RFC 4616 §6: on the c2s port before STARTTLS no mechanism is
    offered, and PLAIN is refused with <encryption-required/>."""
    with harness.Broker(users=[ALICE]) as b:
        c = raw(b)
        c.open_stream()
        assert 'PLAIN' not in c.mechanisms()
        c._sasl_start('PLAIN', b'\0alice\0alice-secret')
        assert failure_of(sasl_reply, c) == 'encryption-required'


def test_plus_not_offered_without_tls():
    """RFC 5802 §6: no channel binding without TLS; -PLUS is refused on the insecure
    listener, plain SCRAM works there."""
    with harness.Broker(users=[ALICE]) as b:
        c = raw(b, 'c2s_insecure')
        c.open_stream()
        assert not any(m.endswith('-PLUS') for m in c.mechanisms())
        c._sasl_start('SCRAM-SHA-256-PLUS', b'p=tls-server-end-point,,n=alice,r=abcdefgh')
        assert failure_of(sasl_reply, c) == 'encryption-required'
        c.auth_scram('SCRAM-SHA-256', *ALICE)
        c.close()


# ---------------------------------------------------------------- successes
def test_scram_sha256():
    """RFC 7677, RFC 6120 §6.4.6: SCRAM-SHA-256; the server signature in <success/>
    verifies (checked by the client) and the stream restarts with a new id."""
    with harness.Broker(users=[ALICE]) as b:
        c = tls_client(b)
        before = c.stream_id
        f = c.auth_scram('SCRAM-SHA-256', *ALICE, gs2_flag='n')
        assert c.sasl_success.text, 'additional data with success (RFC 6120 §6.3.10)'
        assert c.scram['iterations'] >= 4096 and len(c.scram['salt']) >= 16
        assert c.stream_id != before
        assert f.find(qn(NS_BIND, 'bind')) is not None
        c.bind()
        c.close()


def test_scram_sha1():
    """RFC 5802: SCRAM-SHA-1."""
    with harness.Broker(users=[ALICE]) as b:
        c = tls_client(b)
        c.auth_scram('SCRAM-SHA-1', *ALICE, gs2_flag='n')
        c.bind()
        c.close()


def test_scram_plus_tls_server_end_point():
    """RFC 5802 §6, RFC 5929 §4: SCRAM-SHA-256-PLUS and SCRAM-SHA-1-PLUS bound to the
    server certificate, over STARTTLS and direct TLS."""
    with harness.Broker(users=[ALICE]) as b:
        for kind in ('c2s', 'c2s_tls'):
            for mech in ('SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS'):
                c = tls_client(b, kind)
                c.auth_scram(mech, *ALICE, cb_type='tls-server-end-point')
                assert c.scram['cb_data'] and c.scram['gs2_header'] == 'p=tls-server-end-point,,'
                c.bind()
                c.close()


def _tls_exporter(sock):
    """RFC 9266 tls-exporter of a Python SSLSocket: Python 3.13 has it; for CPython 3.11
    and 3.12 we read the SSL* from the _ssl object and ask libssl directly."""
    if 'tls-exporter' in getattr(__import__('ssl'), 'CHANNEL_BINDING_TYPES', []):
        return sock.get_channel_binding('tls-exporter')
    if (sys.implementation.name != 'cpython' or sys.version_info[:2] not in ((3, 11), (3, 12))
            or hasattr(sys, 'gettotalrefcount') or ctypes.sizeof(ctypes.c_void_p) != 8):
        raise harness.Skip('this Python cannot compute tls-exporter')
    import _ssl
    libssl = ctypes.CDLL(_ssl.__file__)       # libssl's symbols are visible through _ssl
    libssl.SSL_version.argtypes = [ctypes.c_void_p]
    libssl.SSL_export_keying_material.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
    # PySSLSocket: PyObject_HEAD (16 bytes), PyObject *Socket, SSL *ssl.
    ssl_ptr = ctypes.c_void_p.from_address(id(sock._sslobj) + 24).value
    if not ssl_ptr or libssl.SSL_version(ssl_ptr) != 0x0304:
        raise harness.Skip('cannot reach the SSL object of this Python')
    out = ctypes.create_string_buffer(32)
    label = b'EXPORTER-Channel-Binding'
    if libssl.SSL_export_keying_material(ssl_ptr, out, 32, label, len(label), None, 0, 0) != 1:
        raise harness.Skip('SSL_export_keying_material failed')
    return out.raw


def test_scram_plus_tls_exporter():
    """RFC 9266 (TLS 1.3): SCRAM-SHA-256-PLUS with tls-exporter; wrong exporter bytes are
    refused."""
    with harness.Broker(users=[ALICE]) as b:
        c = tls_client(b)
        if c.sock.version() != 'TLSv1.3':
            raise harness.Skip('not TLS 1.3')
        data = _tls_exporter(c.sock)
        c.channel_binding = lambda t, d=data: d if t == 'tls-exporter' else None
        c.auth_scram('SCRAM-SHA-256-PLUS', *ALICE, cb_type='tls-exporter')
        c.bind()
        c.close()
        c = tls_client(b)
        c.channel_binding = lambda t: b'\0' * 32
        assert failure_of(c.auth_scram, 'SCRAM-SHA-256-PLUS', *ALICE,
                          cb_type='tls-exporter') == 'not-authorized'


def test_scram_plus_wrong_binding_data():
    """RFC 5802 §6: channel-binding data that does not match ours -> not-authorized."""
    with harness.Broker(users=[ALICE]) as b:
        c = tls_client(b)
        c.channel_binding = lambda t: b'\x01' * 32
        assert failure_of(c.auth_scram, 'SCRAM-SHA-256-PLUS', *ALICE,
                          cb_type='tls-server-end-point') == 'not-authorized'


def test_scram_downgrade_detected():
    """RFC 5802 §6: gs2 flag 'y' (client could bind, thinks the server cannot) while the
    server advertised -PLUS means the offer was stripped: refuse."""
    with harness.Broker(users=[ALICE]) as b:
        c = tls_client(b)
        assert failure_of(c.auth_scram, 'SCRAM-SHA-256', *ALICE, gs2_flag='y') == 'not-authorized'


def test_scram_unsupported_binding_type():
    """RFC 5802 §6, RFC 9266 §3: tls-unique is not offered (undefined for TLS 1.3)."""
    with harness.Broker(users=[ALICE]) as b:
        c = tls_client(b)
        c.channel_binding = lambda t: b'\x02' * 12
        assert failure_of(c.auth_scram, 'SCRAM-SHA-256-PLUS', *ALICE,
                          gs2_flag='p=tls-unique') == 'not-authorized'


def test_plain_over_tls():
    """RFC 4616 over TLS (RFC 6120 §6.3.4)."""
    with harness.Broker(users=[ALICE]) as b:
        c = tls_client(b)
        c.auth_plain(*ALICE)
        c.bind()
        c.close()


def test_plain_on_insecure_listener():
    """Herald's c2s_insecure listener (loopback tests) allows PLAIN without TLS."""
    with harness.Broker(users=[ALICE]) as b:
        c = raw(b, 'c2s_insecure')
        c.open_stream()
        c.auth_plain(*ALICE)
        c.bind()
        c.close()


def test_plain_without_initial_response():
    """RFC 6120 §6.4.2-§6.4.3: <auth/> without data gets an empty challenge; the
    credentials follow in <response/>."""
    with harness.Broker(users=[ALICE]) as b:
        c = tls_client(b)
        c.send_raw("<auth xmlns='%s' mechanism='PLAIN'/>" % NS_SASL)
        kind, payload, _ = sasl_reply(c)
        assert kind == 'challenge' and payload == b''
        c.send_raw("<response xmlns='%s'>%s</response>" % (NS_SASL, b64('\0alice\0alice-secret')))
        kind, _, _ = sasl_reply(c)
        assert kind == 'success'
        c.open_stream()
        c.bind()
        c.close()


def test_plain_authzid():
    """RFC 6120 §6.3.8, §6.5.6: an authzid naming the account itself is fine; another
    account's is <invalid-authzid/>."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        c = tls_client(b)
        c.auth_plain(*ALICE, authzid='alice@localhost')
        c.close()
        c = tls_client(b)
        assert failure_of(c.auth_plain, *ALICE, authzid='bob@localhost') == 'invalid-authzid'
        c.close()


def test_anonymous_disabled_by_default():
    """RFC 4505, RFC 6120 §6.5.7: ANONYMOUS is refused unless enabled."""
    with harness.Broker() as b:
        c = tls_client(b)
        assert failure_of(c.auth_anonymous) == 'invalid-mechanism'
        c.close()


def test_anonymous_when_enabled():
    """RFC 4505: with anonymous = true, ANONYMOUS is offered and gives each session a
    fresh, unguessable JID."""
    with harness.Broker(overrides={'anonymous': 'true'}) as b:
        jids = set()
        for _ in range(2):
            c = tls_client(b)
            assert 'ANONYMOUS' in c.mechanisms()
            c.auth_anonymous('trace@example')
            jid = c.bind()
            local = jid.split('@')[0]
            assert len(local) >= 16 and jid.split('@')[1].startswith('localhost/'), jid
            jids.add(jid.split('/')[0])
            assert c.ping('localhost').get('type') == 'result'
            c.close()
        assert len(jids) == 2


# ---------------------------------------------------------------- failures
def test_wrong_password():
    """RFC 6120 §6.5.10: a wrong password -> <not-authorized/>, for SCRAM and PLAIN; the
    stream allows a retry (§6.4.5), which can succeed."""
    with harness.Broker(users=[ALICE], overrides={'auth_failure_delay': '0'}) as b:
        c = tls_client(b)
        assert failure_of(c.auth_scram, 'SCRAM-SHA-256', 'alice', 'wrong', gs2_flag='n') == \
            'not-authorized'
        assert failure_of(c.auth_plain, 'alice', 'wrong') == 'not-authorized'
        c.auth_scram('SCRAM-SHA-256-PLUS', *ALICE, cb_type='tls-server-end-point')
        c.bind()
        c.close()


def test_unknown_user_looks_like_wrong_password():
    """RFC 6120 §6.5.10, RFC 5802 §5.1: an unknown user gets a challenge with a salt and
    the same iteration count as a real account, the same salt on every try (also after a
    restart), then <not-authorized/>."""
    with harness.Broker(users=[ALICE], overrides={'auth_failure_delay': '0'}) as b:
        def first_challenge(user):
            c = tls_client(b)
            c.send_raw("<auth xmlns='%s' mechanism='SCRAM-SHA-256'>%s</auth>"
                       % (NS_SASL, b64('n,,n=%s,r=abcdefghijklmnop' % user)))
            kind, payload, _ = sasl_reply(c)
            assert kind == 'challenge'
            attrs = dict(p.split('=', 1) for p in payload.decode().split(','))
            c.abort()
            return attrs
        real = first_challenge('alice')
        fake = first_challenge('nobody')
        assert fake['i'] == real['i']
        assert len(base64.b64decode(fake['s'])) == len(base64.b64decode(real['s']))
        assert first_challenge('nobody')['s'] == fake['s'], 'a stable fake salt'
        assert first_challenge('someone')['s'] != fake['s']
        c = tls_client(b)
        assert failure_of(c.auth_scram, 'SCRAM-SHA-256', 'nobody', 'x', gs2_flag='n') == \
            'not-authorized'
        c.close()
        b.restart()
        assert first_challenge('nobody')['s'] == fake['s'], 'the fake salt survives restarts'


def _time_failure(c, user, password):
    t0 = time.monotonic()
    cond = failure_of(c.auth_plain, user, password)
    return cond, time.monotonic() - t0


def test_unknown_user_same_timing_class():
    """RFC 6120 §6.5.10 / §13.9.4: PLAIN for an unknown user costs the same PBKDF2 work as a
    wrong password, so timing does not reveal which accounts exist."""
    with harness.Broker(users=[ALICE], overrides={'auth_failure_delay': '0',
                                                  'auth_max_failures': '1000',
                                                  'scram_iterations': '200000'}) as b:
        c = tls_client(b)
        known, unknown = [], []
        for _ in range(5):
            cond, t = _time_failure(c, 'alice', 'wrong-password')
            assert cond == 'not-authorized'
            known.append(t)
            cond, t = _time_failure(c, 'nobody', 'wrong-password')
            assert cond == 'not-authorized'
            unknown.append(t)
        k, u = statistics.median(known), statistics.median(unknown)
        assert k > 0.02, 'PBKDF2 with 200000 iterations should take a while (%.4f s)' % k
        assert 0.5 < u / k < 2.0, 'known %.4f s, unknown %.4f s' % (k, u)
        c.close()


def test_failure_delay_and_policy_violation():
    """RFC 6120 §6.4.5: repeated failures are answered ever later (the delay doubles per
    failure from the same address), and after auth_max_failures the stream ends with
    <policy-violation/> (§4.9.3.14)."""
    with harness.Broker(users=[ALICE], overrides={'auth_failure_delay': '150',
                                                  'auth_max_failures': '3'}) as b:
        c = tls_client(b)
        times = []
        for i in range(3):
            t0 = time.monotonic()
            c._sasl_start('PLAIN', b'\0alice\0wrong')
            assert failure_of(sasl_reply, c) == 'not-authorized'
            times.append(time.monotonic() - t0)
        # Each delay is a lower bound (150, 300, 600 ms); a fixed delay would fail here.
        for t, want in zip(times, (0.15, 0.3, 0.6)):
            assert t >= 0.9 * want, times
        assert c.expect_stream_error(require_close_tag=True) == 'policy-violation'
        # The address is remembered: a new connection starts with a longer delay.
        c = tls_client(b)
        t0 = time.monotonic()
        assert failure_of(c.auth_plain, 'alice', 'wrong') == 'not-authorized'
        assert time.monotonic() - t0 >= 0.9 * 1.2, time.monotonic() - t0
        c.auth_plain(*ALICE)    # the right password still works at once
        c.close()


def test_pipelined_auth_after_failure():
    """RFC 6120 §6.4.5: a retry sent right behind a failing <auth/> (same TCP write) is
    held until the delayed <failure/> went out, then handled: failure, then success;
    with and without a failure delay."""
    for delay in ('0', '200'):
        with harness.Broker(users=[ALICE], overrides={'auth_failure_delay': delay}) as b:
            c = tls_client(b)
            t0 = time.monotonic()
            c.send_raw("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       "<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, b64('\0alice\0wrong'), NS_SASL, b64('\0alice\0alice-secret')))
            assert failure_of(sasl_reply, c) == 'not-authorized'
            assert time.monotonic() - t0 >= 0.9 * int(delay) / 1000.0
            kind, _, _ = sasl_reply(c)
            assert kind == 'success'
            c.open_stream()
            c.bind()
            assert c.ping('localhost').get('type') == 'result'
            c.close()


def test_timeout_during_failure_delay():
    """RFC 6120 §4.9.3.4: handshake_timeout also ends a stream whose failed attempt is
    being held back; the held-back <failure/> is not sent after the stream ended."""
    with harness.Broker(users=[ALICE], overrides={'auth_failure_delay': '3000',
                                                  'handshake_timeout': '1'}) as b:
        c = tls_client(b)
        t0 = time.monotonic()
        c._sasl_start('PLAIN', b'\0alice\0wrong')
        assert c.expect_stream_error(timeout=5, require_close_tag=True) == 'connection-timeout'
        assert time.monotonic() - t0 < 2.5
        assert not any(e.tag == qn(NS_SASL, 'failure') for e in c._pending)
        time.sleep(2.5)                 # past the delay: the broker must still be fine
        c2 = b.client(*ALICE)
        assert c2.ping('localhost').get('type') == 'result'
        c2.close()


def test_incorrect_encoding():
    """RFC 6120 §6.5.5: data that is not base64 -> <incorrect-encoding/>."""
    with harness.Broker() as b:
        c = tls_client(b)
        c.send_raw("<auth xmlns='%s' mechanism='PLAIN'>!!!not base64!!!</auth>" % NS_SASL)
        assert failure_of(sasl_reply, c) == 'incorrect-encoding'
        c.close()


def test_invalid_mechanism():
    """RFC 6120 §6.5.7: an unknown mechanism -> <invalid-mechanism/>."""
    with harness.Broker() as b:
        c = tls_client(b)
        for mech in ('DIGEST-MD5', 'X-UNKNOWN'):
            c._sasl_start(mech, b'')
            assert failure_of(sasl_reply, c) == 'invalid-mechanism'
        c.close()


def test_abort():
    """RFC 6120 §6.4.4: <abort/> during an exchange -> <aborted/>; a new exchange works."""
    with harness.Broker(users=[ALICE]) as b:
        c = tls_client(b)
        c.send_raw("<auth xmlns='%s' mechanism='SCRAM-SHA-256'>%s</auth>"
                   % (NS_SASL, b64('n,,n=alice,r=0123456789abcdef')))
        assert sasl_reply(c)[0] == 'challenge'
        c.send_raw("<abort xmlns='%s'/>" % NS_SASL)
        assert failure_of(sasl_reply, c) == 'aborted'
        c.auth_scram('SCRAM-SHA-256-PLUS', *ALICE, cb_type='tls-server-end-point')
        c.bind()
        c.close()


def test_header_from_must_match_the_login():
    """RFC 6120 §6.4.6: with a 'from' on the TLS-protected stream header, authenticating
    as another account ends the attempt (the stream error <invalid-from/>, §4.9.3.9); as
    the named one it succeeds."""
    with harness.Broker(users=[ALICE, ('bob@localhost', 'bob-secret')]) as b:
        for from_, ok in (('bob@localhost', False), ('Alice@localhost/desk', True)):
            c = raw(b)
            c.open_stream()
            c.send_raw("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            c.recv()
            c._wrap(c._tls_context())
            c.open_stream(from_=from_)
            if ok:
                c.auth_scram('SCRAM-SHA-256', *ALICE)
                assert c.bind().startswith('alice@localhost/')
                c.close()
            else:
                try:
                    c.auth_scram('SCRAM-SHA-256', *ALICE)
                    raise AssertionError('authenticated as another account than the header says')
                except xmpp.StreamError as e:
                    assert e.condition == 'invalid-from', e
                c.abort()


def test_abort_without_exchange():
    """RFC 6120 §6.4.4: "the receiving entity MUST return a <failure/> element containing
    the <aborted/> condition" - also when no exchange was started; login works after."""
    with harness.Broker(users=[ALICE]) as b:
        c = tls_client(b)
        c.send_raw("<abort xmlns='%s'/>" % NS_SASL)
        assert failure_of(sasl_reply, c) == 'aborted'
        c.auth_scram('SCRAM-SHA-256', *ALICE)
        c.bind()
        c.close()


def test_malformed_scram():
    """RFC 5802 §7 / RFC 6120 §6.5.8: a client-first-message without a nonce ->
    <malformed-request/>."""
    with harness.Broker(users=[ALICE]) as b:
        c = tls_client(b)
        c.send_raw("<auth xmlns='%s' mechanism='SCRAM-SHA-256'>%s</auth>"
                   % (NS_SASL, b64('n,,n=alice')))
        assert failure_of(sasl_reply, c) == 'malformed-request'
        c.close()


def test_no_sasl_after_authentication():
    """RFC 6120 §6.4.6: once authenticated, the restarted stream offers no mechanisms;
    a second <auth/> is not a negotiation step any more and ends the stream."""
    with harness.Broker(users=[ALICE]) as b:
        c = tls_client(b)
        f = c.auth_plain(*ALICE)
        assert f.find(qn(NS_SASL, 'mechanisms')) is None
        c.send_raw("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (NS_SASL, b64('\0bob\0x')))
        assert c.expect_stream_error() in ('unsupported-stanza-type', 'not-authorized',
                                           'policy-violation')


if __name__ == '__main__':
    harness.main(globals())
