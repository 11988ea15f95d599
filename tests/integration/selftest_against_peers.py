"""Check xmpp.py against real servers (not part of the suite: the name is not test_*.py).

Needs the reference peers (/work/shared/peers/peers.sh start prosody|ejabberd) and, for the
TLS checks, a Prosody of one's own that offers STARTTLS and direct TLS (see README.md):
    PEER_TLS_PORT (default 25248, STARTTLS), PEER_DTLS_PORT (25249, direct TLS),
    PEER_TLS_DOMAIN (tls.localhost), PEER_TLS_USER/PEER_TLS_PASS (tester/tsecret).
The TLS Prosody used (files owned by user prosody, started with
`setpriv --reuid=prosody --regid=prosody --init-groups prosody --config DIR/prosody.cfg.lua -F`,
user made with `prosodyctl --config ... register tester tls.localhost tsecret`; cert from
`openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=tls.localhost ...`):
    pidfile, data_path, log, certificates = paths under DIR
    c2s_ports = { 25248 }; c2s_direct_tls_ports = { 25249 }; interfaces = { "127.0.0.1" }
    c2s_interfaces = { "127.0.0.1" }; c2s_require_encryption = true; storage = "internal"
    modules_enabled = { "roster", "saslauth", "tls", "disco", "ping" }
    modules_disabled = { "s2s", "offline" }
    VirtualHost "tls.localhost"
        authentication = "internal_hashed"
        ssl = { certificate = "DIR/certs/tls.localhost.crt", key = "DIR/certs/tls.localhost.key" }
Missing servers make their checks 'skip'. Run: /usr/bin/python3 selftest_against_peers.py [filter]
Also runs SCRAM against the RFC 5802 test vector with an in-process fake server.
"""

import base64
import os
import socket
import ssl
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import xmpp  # noqa: E402
from xmpp import NS_SASL, Client, el, qn  # noqa: E402

PROSODY = int(os.environ.get('PEER_PROSODY_PORT', 25222))
EJABBERD = int(os.environ.get('PEER_EJABBERD_PORT', 25232))
TLS_PORT = int(os.environ.get('PEER_TLS_PORT', 25248))
DTLS_PORT = int(os.environ.get('PEER_DTLS_PORT', 25249))
TLS_DOMAIN = os.environ.get('PEER_TLS_DOMAIN', 'tls.localhost')
TLS_USER = os.environ.get('PEER_TLS_USER', 'tester')
TLS_PASS = os.environ.get('PEER_TLS_PASS', 'tsecret')


def need(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
    except OSError:
        raise harness.Skip('nothing listening on 127.0.0.1:%d' % port)


def exercise(c):
    """bind done: ping the server, message ourselves, close."""
    r = c.ping(c.domain)
    assert r.get('type') == 'result', xmpp.to_xml(r)
    c.message(c.jid, 'hello & <you>', id='m1')
    m = c.expect({'tag': '{jabber:client}message', 'id': 'm1'})
    assert m.findtext(qn('jabber:client', 'body')) == 'hello & <you>'
    assert m.get('from') == c.jid, m.attrib
    # an iq to a bad namespace gets an error we can decode
    r = c.iq(el('iq', {'type': 'get', 'to': c.domain}, el('{urn:example:nope}query')))
    t, cond = xmpp.error_condition(r)
    assert r.get('type') == 'error' and t == 'cancel' and cond in (
        'service-unavailable', 'feature-not-implemented'), (t, cond)
    c.close()
    assert c.peer_closed and c.eof


def login_anonymous(port, domain='localhost'):
    c = Client('127.0.0.1', port, domain, timeout=5)
    c.connect()
    attrs, feats = c.open_stream()
    assert attrs.get('id') and attrs.get('version') == '1.0', attrs
    assert 'ANONYMOUS' in c.mechanisms(), c.mechanisms()
    c.auth_anonymous()
    jid = c.bind()
    assert jid.split('@')[1].startswith(domain), jid
    return c


def test_prosody_anonymous():
    need(PROSODY)
    exercise(login_anonymous(PROSODY))


def test_ejabberd_anonymous():
    need(EJABBERD)
    exercise(login_anonymous(EJABBERD))


def test_prosody_plain_and_scram():
    need(PROSODY)
    for mech in ('PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256'):
        c = Client('127.0.0.1', PROSODY, 'admin.localhost', timeout=5)
        c.connect()
        c.open_stream()
        print('  admin.localhost offers %s' % c.mechanisms())
        jid = c.login('hbadmin', 'hbsecret', mech=mech, tls=None, resource='r-' + mech)
        assert jid == 'hbadmin@admin.localhost/r-' + mech, jid
        if mech.startswith('SCRAM'):
            assert c.scram['gs2_header'] == 'n,,' and c.scram['iterations'] >= 4096
        exercise(c)


def test_prosody_bad_password():
    need(PROSODY)
    for mech in ('PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256'):
        c = Client('127.0.0.1', PROSODY, 'admin.localhost', timeout=5)
        c.connect()
        c.open_stream()
        try:
            c.authenticate('hbadmin', 'wrong', mech)
        except xmpp.SASLFailure as e:
            assert e.condition == 'not-authorized', e.condition
        else:
            raise AssertionError('bad password accepted')
        c.close()


def test_stream_error_on_bad_xml():
    for port in (PROSODY, EJABBERD):
        need(port)
        c = Client('127.0.0.1', port, 'localhost', timeout=5)
        c.connect()
        c.open_stream()
        c.send_raw(b'<message><body>unclosed</mess>')
        cond = c.expect_stream_error(require_close_tag=True, require_eof=True)
        assert cond in ('not-well-formed', 'xml-not-well-formed', 'bad-format'), cond
        print('  port %d: <%s/>, closing tag %s, EOF %s' % (port, cond, c.peer_closed, c.eof))
        assert c.eof or c.peer_closed
        c.abort()


def test_expect_queues_and_timeouts():
    need(PROSODY)
    c = login_anonymous(PROSODY)
    c.message(c.jid, 'one', id='a')
    c.message(c.jid, 'two', id='b')
    assert c.expect({'tag': 'message', 'id': 'b'}).get('id') == 'b'
    assert c.recv().get('id') == 'a'          # queued, not dropped
    try:
        c.recv(timeout=0.3)
    except xmpp.Timeout as e:
        assert 'last bytes received' in str(e)
    else:
        raise AssertionError('no timeout')
    c.expect_none({'tag': 'message'}, timeout=0.2)
    c.close()


def test_tls_starttls_scram_and_plus():
    need(TLS_PORT)
    c = Client('127.0.0.1', TLS_PORT, TLS_DOMAIN, timeout=5)
    c.connect()
    c.open_stream()
    assert c.feature(qn(xmpp.NS_TLS, 'starttls')) is not None
    c.starttls()
    assert c.tls and c.sock.version(), c.sock
    mechs = c.mechanisms()
    print('  %s over %s offers %s; channel-binding feature: %s' % (
        TLS_DOMAIN, c.sock.version(), mechs,
        [t.get('type') for t in (c.feature(qn(xmpp.NS_SASL_CB, 'sasl-channel-binding')) or [])]))
    c.auth_scram('SCRAM-SHA-1', TLS_USER, TLS_PASS)
    expected_flag = 'n,,' if any(m.endswith('-PLUS') for m in mechs) else 'y,,'
    assert c.scram['gs2_header'] == expected_flag, c.scram
    c.bind()
    exercise(c)


def test_tls_scram_plus_tls_unique_tls12():
    """Prosody 0.12 binds with tls-unique, which exists only in TLS <= 1.2."""
    need(TLS_PORT)
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    c = Client('127.0.0.1', TLS_PORT, TLS_DOMAIN, timeout=5, ssl_context=ctx)
    c.connect()
    c.open_stream()
    c.starttls()
    if 'SCRAM-SHA-1-PLUS' not in c.mechanisms():
        raise harness.Skip('no SCRAM-SHA-1-PLUS offered: %s' % c.mechanisms())
    c.auth_scram('SCRAM-SHA-1-PLUS', TLS_USER, TLS_PASS, cb_type='tls-unique')
    assert c.scram['gs2_header'] == 'p=tls-unique,,'
    c.bind()
    c.close()
    # a wrong binding must be refused: SCRAM-SHA-1-PLUS with tls-server-end-point data
    # sent under a tls-unique header
    c = Client('127.0.0.1', TLS_PORT, TLS_DOMAIN, timeout=5, ssl_context=ctx)
    c.connect()
    c.open_stream()
    c.starttls()
    real = c.channel_binding
    c.channel_binding = lambda t: real('tls-server-end-point')
    try:
        c.auth_scram('SCRAM-SHA-1-PLUS', TLS_USER, TLS_PASS, cb_type='tls-unique')
    except xmpp.SASLFailure as e:
        print('  wrong channel binding refused: %s' % e.condition)
    else:
        raise AssertionError('wrong channel binding accepted')
    c.abort()


def test_tls_direct_alpn():
    need(DTLS_PORT)
    c = Client('127.0.0.1', DTLS_PORT, TLS_DOMAIN, timeout=5)
    jid = c.login(TLS_USER, TLS_PASS, mech='PLAIN', tls='direct')
    assert c.tls and jid.startswith(TLS_USER + '@' + TLS_DOMAIN + '/'), jid
    print('  direct TLS %s, ALPN %r' % (c.sock.version(), c.sock.selected_alpn_protocol()))
    exercise(c)


def test_tls_server_end_point_hash():
    need(TLS_PORT)
    c = Client('127.0.0.1', TLS_PORT, TLS_DOMAIN, timeout=5)
    c.connect()
    c.open_stream()
    c.starttls()
    der = c.sock.getpeercert(binary_form=True)
    assert xmpp.cert_signature_hash(der) == 'sha256'   # openssl req default: sha256WithRSA
    import hashlib
    assert c.channel_binding('tls-server-end-point') == hashlib.sha256(der).digest()
    c.abort()


# ------------------------------------------------------------------ RFC 5802 test vector
def _fake_scram_server(sock, mech, first, server_final):
    """Minimal XMPP server: stream, features, one SCRAM exchange with fixed messages."""
    conn, _ = sock.accept()
    conn.settimeout(5)
    buf = b''

    def read_until(token):
        nonlocal buf
        while token not in buf:
            d = conn.recv(4096)
            if not d:
                raise EOFError
            buf += d
        i = buf.index(token) + len(token)
        out, buf = buf[:i], buf[i:]
        return out

    try:
        read_until(b'>')
        read_until(b'>')
        conn.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                     b"xmlns:stream='http://etherx.jabber.org/streams' id='x1' from='fake' "
                     b"version='1.0'><stream:features><mechanisms xmlns='" + NS_SASL.encode() +
                     b"'><mechanism>" + mech.encode() + b"</mechanism></mechanisms></stream:features>")
        read_until(b'</auth>')
        conn.sendall(b"<challenge xmlns='%s'>%s</challenge>" % (NS_SASL.encode(), base64.b64encode(first)))
        resp = read_until(b'</response>')
        final = base64.b64decode(resp.split(b'>')[1].split(b'<')[0]).decode()
        conn.sendall(b"<success xmlns='%s'>%s</success>" % (NS_SASL.encode(), base64.b64encode(server_final)))
        conn.recv(4096)  # the new stream header (or close)
        conn.sendall(b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/"
                     b"streams' id='x2' version='1.0'><stream:features/></stream:stream>")
        _fake_scram_server.client_final = final
    finally:
        conn.close()


def _run_vector(mech, nonce, first, server_final):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    s.listen(1)
    t = threading.Thread(target=_fake_scram_server, args=(s, mech, first, server_final), daemon=True)
    t.start()
    c = Client('127.0.0.1', s.getsockname()[1], 'fake', timeout=5)
    c.connect()
    c.open_stream()
    try:
        c.auth_scram(mech, 'user', 'pencil', nonce=nonce)
    finally:
        c.abort()
        t.join(5)
        s.close()


V1 = ('SCRAM-SHA-1', 'fyko+d2lbbFgONRv9qkxdawL',
      b'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096')
V256 = ('SCRAM-SHA-256', 'rOprNGfwEbeRWgbNEkqO',
        b'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')


def test_scram_rfc5802_rfc7677_vectors_and_bad_signature():
    _run_vector(*V1, b'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')
    assert _fake_scram_server.client_final == (
        'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=')
    _run_vector(*V256, b'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')
    assert _fake_scram_server.client_final == (
        'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,'
        'p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=')
    for vec in (V1, V256):
        try:
            _run_vector(*vec, b'v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=')
        except xmpp.SASLFailure as e:
            assert 'signature mismatch' in str(e)
        else:
            raise AssertionError('bad server signature accepted')


if __name__ == '__main__':
    harness.main(globals())
