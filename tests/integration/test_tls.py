"""TLS: STARTTLS (RFC 6120 §5), direct TLS (XEP-0368), protocol floor, certificates."""

import os
import signal
import socket
import ssl
import subprocess
import time
import warnings

import harness
import xmpp
from core_helpers import header, raw, read_header
from xmpp import NS_SASL, NS_STREAMS, NS_TLS, qn

ALICE = ('alice@localhost', 'alice-secret')


def no_verify_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def test_sasl_before_tls_is_refused():
    """RFC 6120 §5.3.1, §6.5.4: TLS is mandatory-to-negotiate on the c2s port: <auth/>
    before STARTTLS gets <encryption-required/> (for PLAIN and SCRAM alike), and TLS can
    still be negotiated afterwards."""
    with harness.Broker(users=[ALICE]) as b:
        c = raw(b)
        c.open_stream()
        assert c.mechanisms() == []
        for mech in ('PLAIN', 'SCRAM-SHA-256'):
            c.send_raw("<auth xmlns='%s' mechanism='%s'>AGFsaWNlAGFsaWNlLXNlY3JldA==</auth>"
                       % (NS_SASL, mech))
            e = c.recv()
            assert e.tag == qn(NS_SASL, 'failure'), xmpp.to_xml(e)
            assert e.find(qn(NS_SASL, 'encryption-required')) is not None, xmpp.to_xml(e)
            assert not c.authenticated
        c.starttls()
        c.login(*ALICE)
        c.close()


def test_registration_before_tls_is_refused():
    """RFC 6120 §5.3.1 with XEP-0077 §12: no in-band registration over an unencrypted
    c2s stream (the password would travel in clear): the stream ends."""
    with harness.Broker(overrides={'registration': 'true'}) as b:
        c = raw(b)
        c.open_stream()
        c.send_raw("<iq type='set' id='r1'><query xmlns='jabber:iq:register'>"
                   "<username>eve</username><password>pw</password></query></iq>")
        assert c.expect_stream_error(require_close_tag=True) == 'not-authorized'
        r = b.herald('user', 'passwd', 'eve@localhost', stdin='x\n', check=False)
        assert r.returncode != 0, 'the account must not exist'


def test_starttls_proceed_and_restart():
    """RFC 6120 §5.4.2.3, §5.4.3.3: <proceed/>, TLS, then a new stream with a new id and
    without the STARTTLS feature."""
    with harness.Broker() as b:
        c = raw(b)
        c.open_stream()
        first = c.stream_id
        f = c.starttls()
        assert c.tls and c.sock.version() in ('TLSv1.2', 'TLSv1.3')
        assert c.stream_id != first
        assert f.find(qn(NS_TLS, 'starttls')) is None
        c.close()


def test_starttls_twice_fails():
    """RFC 6120 §5.4.2.2: STARTTLS when TLS is already in place -> <failure/>, close."""
    with harness.Broker() as b:
        c = b.client(login=False)
        c.send_raw("<starttls xmlns='%s'/>" % NS_TLS)
        e = c.recv()
        assert e.tag == qn(NS_TLS, 'failure'), xmpp.to_xml(e)
        c._read_some(time.monotonic() + 5, 'close')
        while not c.eof:
            c._read_some(time.monotonic() + 5, 'EOF')
        assert c.peer_closed


def expect_tls_failure_and_close(c):
    e = c.recv()
    assert e.tag == qn(NS_TLS, 'failure'), xmpp.to_xml(e)
    deadline = time.monotonic() + 5
    while not c.eof:
        c._read_some(deadline, 'EOF')
    assert c.peer_closed


def test_starttls_after_authentication_fails():
    """RFC 6120 §5.4.2.1-§5.4.2.2: <starttls/> must be answered with <proceed/> or
    <failure/>; after authentication (here on the plaintext listener, where it is not
    offered) it is <failure/>, then the stream and connection close."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE, tls=None)
        c.send_raw("<starttls xmlns='%s'/>" % NS_TLS)
        expect_tls_failure_and_close(c)


def test_malformed_starttls_fails():
    """RFC 6120 §5.4.2.2 (failure case 1, a malformed command): <starttls/> has no
    content (whitespace inside it is no content)."""
    with harness.Broker() as b:
        c = raw(b)
        c.open_stream()
        c.send_raw("<starttls xmlns='%s'><foo/></starttls>" % NS_TLS)
        expect_tls_failure_and_close(c)
        c = raw(b)
        c.open_stream()
        c.send_raw("<starttls xmlns='%s'>\n</starttls>" % NS_TLS)
        assert c.recv().tag == qn(NS_TLS, 'proceed')
        c.abort()


def test_starttls_on_direct_tls_port_fails():
    """XEP-0368 with RFC 6120 §5.4.2.2: the direct TLS port is already encrypted."""
    with harness.Broker() as b:
        c = raw(b, 'c2s_tls')
        _, f = c.open_stream()
        assert f.find(qn(NS_TLS, 'starttls')) is None
        c.send_raw("<starttls xmlns='%s'/>" % NS_TLS)
        e = c.recv()
        assert e.tag == qn(NS_TLS, 'failure'), xmpp.to_xml(e)


def test_data_pipelined_after_starttls_is_refused():
    """RFC 6120 §5.4.3.3: the client must wait for <proceed/>; data sent after <starttls/>
    in the clear is never treated as part of the TLS stream."""
    with harness.Broker() as b:
        c = raw(b)
        c.open_stream()
        c.send_raw("<starttls xmlns='%s'/><message to='x@localhost'><body>x</body></message>"
                   % NS_TLS)
        got = []
        try:
            while True:
                got.append(c.recv(5))
        except (xmpp.StreamClosed, xmpp.ConnectionClosed):
            pass
        assert [e.tag for e in got] == [qn(NS_TLS, 'failure')], [xmpp.to_xml(e) for e in got]


def test_direct_tls_with_alpn():
    """XEP-0368 §3: direct TLS on the c2s_tls port, ALPN 'xmpp-client' selected; SASL
    offered at once (no STARTTLS), login works."""
    with harness.Broker(users=[ALICE]) as b:
        c = raw(b, 'c2s_tls')
        assert c.sock.selected_alpn_protocol() == 'xmpp-client'
        _, f = c.open_stream()
        assert f.find(qn(NS_TLS, 'starttls')) is None
        assert 'SCRAM-SHA-256-PLUS' in c.mechanisms(), c.mechanisms()
        c.login(*ALICE, tls='direct')
        assert c.ping('localhost').get('type') == 'result'
        c.close()


def test_direct_tls_without_alpn():
    """XEP-0368 §3 (ALPN is SHOULD): clients without ALPN still connect."""
    with harness.Broker(users=[ALICE]) as b:
        c = xmpp.Client('127.0.0.1', b.port('c2s_tls'), 'localhost', ssl_context=no_verify_ctx())
        b._clients.append(c)
        c.sock = socket.create_connection(('127.0.0.1', b.port('c2s_tls')), timeout=10)
        c._wrap(no_verify_ctx())
        assert c.sock.selected_alpn_protocol() is None
        c.login(*ALICE, tls='direct')
        c.close()


def test_direct_tls_with_another_alpn_protocol_fails():
    """XEP-0368 §3 with RFC 7301 §3.2: on the direct-TLS port a client that offers only
    other protocols (h2) gets a no_application_protocol alert instead of a connection; on
    the STARTTLS port the same client is served."""
    with harness.Broker() as b:
        ctx = no_verify_ctx()
        ctx.set_alpn_protocols(['h2'])
        sock = socket.create_connection(('127.0.0.1', b.port('c2s_tls')), timeout=10)
        try:
            try:
                tls = ctx.wrap_socket(sock, server_hostname='localhost')
            except ssl.SSLError as e:
                assert 'no application protocol' in str(e).lower(), e
            else:
                tls.close()
                raise AssertionError('TLS completed with no common ALPN protocol')
        finally:
            sock.close()
        # After STARTTLS the stream already says what is spoken: ALPN is not checked.
        c = raw(b)
        c.open_stream()
        c.send_raw("<starttls xmlns='%s'/>" % NS_TLS)
        assert c.recv().tag == qn(NS_TLS, 'proceed')
        c._wrap(ctx)
        c.open_stream()
        c.abort()


def test_plain_bytes_on_direct_tls_port():
    """XEP-0368: the direct TLS port speaks TLS first; a cleartext stream header fails the
    handshake and the connection is closed (no XMPP reply in clear)."""
    with harness.Broker() as b:
        s = socket.create_connection(('127.0.0.1', b.port('c2s_tls')), timeout=5)
        s.sendall(header())
        data = b''
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
        assert b'<stream' not in data, data


def test_tls12_minimum():
    """Herald's TLS floor is 1.2 (RFC 9325 §3.1.1): a TLS 1.1-only client fails the
    handshake with a protocol_version alert; TLS 1.2 and 1.3 work."""
    with harness.Broker() as b:
        ctx = no_verify_ctx()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            try:
                ctx.set_ciphers('DEFAULT:@SECLEVEL=0')
                ctx.minimum_version = ssl.TLSVersion.TLSv1_1
                ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            except (ValueError, ssl.SSLError) as e:
                raise harness.Skip('this OpenSSL cannot offer TLS 1.1: %s' % e)
        s = socket.create_connection(('127.0.0.1', b.port('c2s_tls')), timeout=5)
        try:
            ctx.wrap_socket(s, server_hostname='localhost')
            raise AssertionError('TLS 1.1 handshake succeeded')
        except ssl.SSLError as e:
            if 'NO_PROTOCOLS_AVAILABLE' in str(e) or 'no protocols available' in str(e):
                raise harness.Skip('this OpenSSL refuses to send TLS 1.1 at all')
            # The server's alert, not a local refusal.
            assert 'ALERT_PROTOCOL_VERSION' in str(e).upper(), e
        finally:
            s.close()
        for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = no_verify_ctx()
            ctx.minimum_version = ctx.maximum_version = v
            c = xmpp.Client('127.0.0.1', b.port('c2s'), 'localhost', ssl_context=ctx)
            b._clients.append(c)
            c.connect()
            c.open_stream()
            c.starttls()
            assert c.sock.version() == {ssl.TLSVersion.TLSv1_2: 'TLSv1.2',
                                        ssl.TLSVersion.TLSv1_3: 'TLSv1.3'}[v]
            c.close()


def test_self_signed_certificate_verifies_for_domain():
    """RFC 6120 §13.7.2 / RFC 6125: the generated certificate names the domain (and its
    subdomains such as pubsub.localhost), so a client pinning it can verify the name."""
    with harness.Broker() as b:
        cert = b.path('data', 'tls', 'cert.pem')
        assert os.path.exists(cert)
        key = b.path('data', 'tls', 'key.pem')
        assert os.stat(key).st_mode & 0o077 == 0, 'the private key must not be readable by others'
        for name in ('localhost', 'pubsub.localhost'):
            ctx = ssl.create_default_context(cafile=cert)
            s = socket.create_connection(('127.0.0.1', b.port('c2s_tls')), timeout=5)
            with ctx.wrap_socket(s, server_hostname=name) as t:
                assert t.getpeercert()['subject']
        c = xmpp.Client('127.0.0.1', b.port('c2s'), 'localhost', verify=True, cafile=cert)
        b._clients.append(c)
        c.connect()
        c.open_stream()
        c.starttls()
        c.close()


def _make_cert(d, cn):
    key, cert = os.path.join(d, cn + '.key'), os.path.join(d, cn + '.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
                    'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
                    '-days', '2', '-subj', '/CN=' + cn, '-addext',
                    'subjectAltName=DNS:localhost'], check=True, capture_output=True)
    return cert, key


def _peer_der(b):
    s = socket.create_connection(('127.0.0.1', b.port('c2s_tls')), timeout=5)
    with no_verify_ctx().wrap_socket(s, server_hostname='localhost') as t:
        return t.getpeercert(binary_form=True)


def test_sighup_reloads_certificate():
    """Herald: SIGHUP reloads tls_cert/tls_key; new connections get the new certificate,
    established sessions carry on."""
    with harness.Broker(users=[ALICE]) as b:
        old_der = _peer_der(b)
        a = b.client(*ALICE)
        cert, key = _make_cert(b.dir, 'reloaded')
        b.overrides.update({'tls_cert': cert, 'tls_key': key})
        with open(b.conf_path, 'w') as f:
            f.write(harness.render_conf(b.settings()))
        b.proc.send_signal(signal.SIGHUP)
        b.wait_for_log(r'configuration reloaded')
        new_der = _peer_der(b)
        assert new_der != old_der
        with open(cert) as f:
            assert ssl.PEM_cert_to_DER_cert(f.read()) == new_der
        assert a.ping('localhost').get('type') == 'result'
        a.close()


if __name__ == '__main__':
    harness.main(globals())
