"""XML streams (RFC 6120 §4), stanza addressing and errors (§8), delivery (RFC 6121 §8)."""

import time

import harness
import xmpp
from core_helpers import assert_error, bound, header, raw, read_header
from xmpp import (NS_BIND, NS_CLIENT, NS_PING, NS_SASL, NS_SESSION, NS_STREAMS, NS_TLS, NS_XML,
                  el, qn)

ALICE = ('alice@localhost', 'alice-secret')
BOB = ('bob@localhost', 'bob-secret')


def stream_error(b, data, kind='c2s', before=None):
    """Open a raw connection, send before (a header) then data; return the stream error
    condition, checking the stream is closed with </stream:stream> and the TCP connection
    ends (RFC 6120 §4.9.1.1)."""
    c = raw(b, kind)
    if before is not None:
        c.send_raw(before)
        read_header(c)
    c.send_raw(data)
    return c.expect_stream_error(require_close_tag=True, require_eof=True)


def logged_in_error(c, data):
    c.send_raw(data)
    return c.expect_stream_error(require_close_tag=True, require_eof=True)


# ---------------------------------------------------------------- headers and features
def test_header_answer():
    """RFC 6120 §4.7.1-§4.7.5: the response header is from the served domain, to the
    client's 'from', carries a fresh id, version 1.0, xml:lang, in jabber:client."""
    with harness.Broker(users=[ALICE]) as b:
        c = raw(b)
        attrs, feats = c.open_stream(from_='alice@localhost')
        assert attrs.get('from') == 'localhost', attrs
        assert attrs.get('to') == 'alice@localhost', attrs
        assert attrs.get('version') == '1.0', attrs
        assert attrs.get(qn(NS_XML, 'lang')), attrs
        assert len(attrs.get('id') or '') >= 8, attrs
        assert c.stream_nsmap.get('') == NS_CLIENT and c.stream_nsmap.get('stream') == NS_STREAMS
        first_id = attrs['id']
        c.starttls()
        assert c.stream_id and c.stream_id != first_id, 'RFC 6120 §4.3.3: new id after restart'
        c2 = raw(b)
        c2.open_stream()
        assert c2.stream_id != first_id
        assert 'to' not in c2.stream_attrs, 'no client from, so no to (§4.7.2)'
        c3 = raw(b)
        attrs, _ = c3.open_stream(from_='Alice@LOCALHOST/desk')
        assert attrs.get('to') == 'alice@localhost', '§4.7.2: the bare JID of from: %r' % attrs
        c.close()
        c2.close()
        c3.close()


def test_header_without_to_uses_the_served_domain():
    """RFC 6120 §4.7.2 / §4.9.1.3: a header without 'to' gets the default (only) domain."""
    with harness.Broker() as b:
        c = raw(b)
        c.send_raw(header(to=None))
        assert read_header(c).get('from') == 'localhost'
        assert c.recv().tag == qn(NS_STREAMS, 'features')
        c.close()


def test_header_higher_version_answered_with_ours():
    """RFC 6120 §4.7.5 rule 2: the response carries the lower of the two versions."""
    with harness.Broker() as b:
        c = raw(b)
        c.send_raw(header(version='1.5'))
        assert read_header(c).get('version') == '1.0'
        assert c.recv().tag == qn(NS_STREAMS, 'features')
        c = raw(b)
        c.send_raw(header(version='2.0'))
        assert read_header(c).get('version') == '1.0'
        c.close()


def test_features_before_tls():
    """RFC 6120 §5.3.1, §4.3.2: on the c2s port STARTTLS is offered as <required/> and is
    the only feature; no SASL mechanisms before TLS."""
    with harness.Broker() as b:
        c = raw(b)
        _, f = c.open_stream()
        tls = f.find(qn(NS_TLS, 'starttls'))
        assert tls is not None and tls.find(qn(NS_TLS, 'required')) is not None, xmpp.to_xml(f)
        assert f.find(qn(NS_SASL, 'mechanisms')) is None, xmpp.to_xml(f)
        assert f.find(qn(NS_BIND, 'bind')) is None
        c.close()


def test_features_after_tls_and_after_sasl():
    """RFC 6120 §5.4.3.3, §6.4.6, §7.4: after TLS, SASL mechanisms (no STARTTLS); after
    SASL, bind (and the optional legacy session), no mechanisms."""
    with harness.Broker(users=[ALICE]) as b:
        c = raw(b)
        c.open_stream()
        f = c.starttls()
        assert f.find(qn(NS_TLS, 'starttls')) is None
        assert 'SCRAM-SHA-256' in c.mechanisms(), xmpp.to_xml(f)
        assert f.find(qn(NS_BIND, 'bind')) is None
        f = c.authenticate(*ALICE)
        assert f.find(qn(NS_BIND, 'bind')) is not None, xmpp.to_xml(f)
        assert f.find(qn(NS_SASL, 'mechanisms')) is None
        assert f.find(qn(NS_TLS, 'starttls')) is None
        s = f.find(qn(NS_SESSION, 'session'))
        assert s is not None and s.find(qn(NS_SESSION, 'optional')) is not None
        c.bind('r1')
        assert c.ping('localhost').get('type') == 'result'
        c.close()


def test_features_on_insecure_listener():
    """RFC 6120 §5.3.1 (TLS optional where policy allows): the insecure listener offers
    STARTTLS without <required/>, and SASL at once."""
    with harness.Broker(users=[ALICE]) as b:
        c = raw(b, 'c2s_insecure')
        _, f = c.open_stream()
        tls = f.find(qn(NS_TLS, 'starttls'))
        assert tls is not None and tls.find(qn(NS_TLS, 'required')) is None
        assert 'PLAIN' in c.mechanisms() and 'SCRAM-SHA-256' in c.mechanisms()
        assert not any(m.endswith('-PLUS') for m in c.mechanisms()), 'no channel binding w/o TLS'
        c.login(*ALICE, tls=None)
        c.close()


# ---------------------------------------------------------------- stream errors on the header
def test_host_unknown():
    """RFC 6120 §4.9.3.6: a 'to' that is not served here -> <host-unknown/>."""
    with harness.Broker() as b:
        assert stream_error(b, header(to='example.org')) == 'host-unknown'


def test_host_unknown_after_tls():
    """RFC 6120 §4.9.3.6 on the restarted stream too."""
    with harness.Broker() as b:
        c = raw(b)
        c.open_stream()
        c.send_raw("<starttls xmlns='%s'/>" % NS_TLS)
        assert c.recv().tag == qn(NS_TLS, 'proceed')
        c._wrap(c._tls_context())
        c._reset_parser()
        c.send_raw(header(to='other.example'))
        assert c.expect_stream_error(require_close_tag=True) == 'host-unknown'


def test_invalid_namespace_stream():
    """RFC 6120 §4.9.3.10: the stream element in a namespace other than
    http://etherx.jabber.org/streams."""
    with harness.Broker() as b:
        assert stream_error(b, header(stream_ns='http://example.com/streams')) == \
            'invalid-namespace'


def test_invalid_namespace_content():
    """RFC 6120 §4.9.3.10, §4.8.2: a content namespace other than jabber:client (here
    jabber:server, or none at all)."""
    with harness.Broker() as b:
        assert stream_error(b, header(ns='jabber:server')) == 'invalid-namespace'
        assert stream_error(b, header(ns=None)) == 'invalid-namespace'


def test_content_namespace_declared_in_header():
    """RFC 6120 §4.8.5: namespaces for stanza content "MUST NOT be declared in that stream
    header ... the other party SHOULD close the stream with an <invalid-namespace/>"."""
    with harness.Broker() as b:
        h = header()[:-1] + b" xmlns:x='urn:example:x'>"
        assert stream_error(b, h) == 'invalid-namespace'
        # Declaring the xml prefix (always bound, and legal to declare) is no such thing.
        c = raw(b)
        c.send_raw(header()[:-1] + b" xmlns:xml='http://www.w3.org/XML/1998/namespace'>")
        assert read_header(c).get('from') == 'localhost'
        assert c.recv().tag == qn(NS_STREAMS, 'features')
        c.abort()


def test_unsupported_version():
    """RFC 6120 §4.9.3.25, §4.7.5 rule 4: a 0.9 stream (or no version) is not supported."""
    with harness.Broker() as b:
        assert stream_error(b, header(version='0.9')) == 'unsupported-version'
        assert stream_error(b, header(version=None)) == 'unsupported-version'


def test_not_well_formed():
    """RFC 6120 §4.9.3.13: mismatched tags inside a stanza."""
    with harness.Broker() as b:
        assert stream_error(b, b'<message><body>x</message>', before=header()) == \
            'not-well-formed'


def test_not_well_formed_header():
    """RFC 6120 §4.9.3.13: garbage where the header should be."""
    with harness.Broker() as b:
        assert stream_error(b, b'<stream:stream <<<>') in ('not-well-formed',
                                                          'bad-namespace-prefix')
        assert stream_error(b, b'\x01\x02hello') == 'not-well-formed'


def test_bad_namespace_prefix():
    """RFC 6120 §4.9.3.2: an element with an undeclared prefix."""
    with harness.Broker() as b:
        assert stream_error(b, b'<foo:bar/>', before=header()) == 'bad-namespace-prefix'


def test_text_at_stream_level_is_bad_format():
    """RFC 6120 §4.9.3.1: character data (not white space) between stanzas."""
    with harness.Broker() as b:
        assert stream_error(b, b'hello', before=header()) == 'bad-format'


# ---------------------------------------------------------------- restricted XML
def test_restricted_xml_dtd():
    """RFC 6120 §11.1, §4.9.3.18: a document type declaration."""
    with harness.Broker(expect_log=[]) as b:
        data = (b"<?xml version='1.0'?><!DOCTYPE stream:stream>" + header(xmldecl=False))
        assert stream_error(b, data) == 'restricted-xml'


def test_restricted_xml_entity_declaration():
    """RFC 6120 §11.1, §4.9.3.18: an internal subset declaring an entity."""
    with harness.Broker() as b:
        data = (b"<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY boom 'bang'>]>"
                + header(xmldecl=False) + b"<message to='x@localhost'><body>&boom;</body>"
                b"</message>")
        assert stream_error(b, data) == 'restricted-xml'


def test_restricted_xml_undeclared_entity_reference():
    """RFC 6120 §11.1: only the five predefined entities exist; any other reference is
    restricted (it would need a DTD)."""
    with harness.Broker() as b:
        assert stream_error(b, b"<message><body>&nbsp;</body></message>",
                            before=header()) == 'restricted-xml'


def test_restricted_xml_comment():
    """RFC 6120 §11.1, §4.9.3.18: comments between stanzas and inside one."""
    with harness.Broker(users=[ALICE]) as b:
        assert stream_error(b, b'<!-- hi -->', before=header()) == 'restricted-xml'
        c = b.client(*ALICE)
        assert logged_in_error(c, b"<message to='bob@localhost'><!-- x --><body>a</body>"
                                  b"</message>") == 'restricted-xml'


def test_restricted_xml_processing_instruction():
    """RFC 6120 §11.1, §4.9.3.18: a processing instruction after the header and inside a
    stanza."""
    with harness.Broker(users=[ALICE]) as b:
        assert stream_error(b, b'<?foo bar?>', before=header()) == 'restricted-xml'
        c = b.client(*ALICE)
        assert logged_in_error(c, b"<iq type='get' id='1'><?pi x?><ping xmlns='urn:xmpp:ping'/>"
                                  b"</iq>") == 'restricted-xml'


def test_unsupported_encoding():
    """RFC 6120 §4.9.3.22, §11.6: only UTF-8."""
    with harness.Broker() as b:
        data = b"<?xml version='1.0' encoding='ISO-8859-1'?>" + header(xmldecl=False)
        assert stream_error(b, data) == 'unsupported-encoding'


# ---------------------------------------------------------------- stanzas in the wrong state
def test_not_authorized_before_auth():
    """RFC 6120 §4.9.3.12: a stanza before authentication ends the stream."""
    with harness.Broker() as b:
        c = b.client(login=False)          # TLS done, SASL not
        assert logged_in_error(c, b"<message to='bob@localhost'><body>hi</body></message>") \
            == 'not-authorized'
        c = b.client(login=False)
        assert logged_in_error(c, b"<iq type='get' id='p1' to='localhost'>"
                                  b"<ping xmlns='urn:xmpp:ping'/></iq>") == 'not-authorized'


def test_not_authorized_before_bind():
    """RFC 6120 §7.3.1 with §4.9.3.12: stanzas other than bind before a resource is bound."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(login=False)
        c.authenticate(*ALICE)
        assert logged_in_error(c, b"<presence/>") == 'not-authorized'


def test_unsupported_stanza_type():
    """RFC 6120 §4.9.3.24: a first-level element in jabber:client that is not a stanza,
    and one in an unknown namespace."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        assert logged_in_error(c, b"<foo/>") == 'unsupported-stanza-type'
        c = b.client(*ALICE)
        assert logged_in_error(c, b"<bar xmlns='urn:example:bar'/>") == 'unsupported-stanza-type'
        c = b.client(login=False)
        assert logged_in_error(c, b"<bar xmlns='urn:example:bar'/>") == 'unsupported-stanza-type'


def test_stream_error_from_the_client_closes_the_stream():
    """RFC 6120 §4.9.1.1: "The entity that receives the stream error then SHALL close the
    stream": the server answers a client's <stream:error/> with </stream:stream> and ends
    the connection, and sends no stream error of its own."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        c.send_raw("<stream:error><undefined-condition xmlns='urn:ietf:params:xml:ns:"
                   "xmpp-streams'/></stream:error>")
        deadline = time.monotonic() + 5
        while not c.eof and time.monotonic() < deadline:
            try:
                c._read_some(deadline, 'the end of the stream')
            except xmpp.Timeout:
                break
        assert c.peer_closed and c.eof, 'the server did not close the stream'
        got = [e for e in c._pending if e.tag == qn(NS_STREAMS, 'error')]
        assert got == [], 'the server answered a stream error with one: %s' % xmpp.to_xml(got[0])
        c.abort()


def test_invalid_from():
    """RFC 6120 §8.1.2.1, §4.9.3.9: a 'from' other than the session's own address."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        c = b.client(*ALICE, resource='home')
        assert logged_in_error(c, b"<message from='bob@localhost/x' to='bob@localhost'>"
                                  b"<body>spoof</body></message>") == 'invalid-from'
        c = b.client(*ALICE, resource='home')
        assert logged_in_error(c, b"<message from='alice@localhost/other' to='bob@localhost'>"
                                  b"<body>spoof</body></message>") == 'invalid-from'


def test_from_own_full_or_bare_jid_is_accepted():
    """RFC 6120 §8.1.2.1: the client may put its own full or bare JID in 'from'."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE, resource='home')
        for frm in ('alice@localhost/home', 'alice@localhost'):
            r = c.iq(el('iq', {'type': 'get', 'to': 'localhost', 'from': frm},
                        el(qn(NS_PING, 'ping'))))
            assert r.get('type') == 'result' and r.get('to') == 'alice@localhost/home', \
                xmpp.to_xml(r)
        c.close()


def test_jid_malformed_to():
    """RFC 6120 §8.3.3.8: a stanza whose 'to' is not a valid JID -> <jid-malformed/>,
    and the stream stays up."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        for bad in ('a@b@c', '@localhost', 'alice@', 'alice@localhost/', 'x' * 1100 + '@localhost'):
            r = c.iq(el('iq', {'type': 'get', 'to': bad}, el(qn(NS_PING, 'ping'))))
            assert_error(r, 'modify', 'jid-malformed')
            assert r.get('to') == c.jid
        c.message('bad@@localhost', 'x', id='m1')
        m = c.expect({'tag': 'message', 'id': 'm1'})
        assert_error(m, 'modify', 'jid-malformed')
        assert c.ping('localhost').get('type') == 'result'
        c.close()


def test_iq_with_unknown_namespace_to_server():
    """RFC 6120 §8.4, §8.3.3.19: an iq get/set the server does not understand ->
    <service-unavailable/> from the server."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        r = c.iq(el('iq', {'type': 'get', 'to': 'localhost'}, el('{urn:example:nothing}query')))
        assert_error(r, 'cancel', 'service-unavailable')
        assert r.get('from') == 'localhost' and r.get('to') == c.jid
        r = c.iq(el('iq', {'type': 'set'}, el('{urn:example:nothing}query')))
        assert_error(r, 'cancel', 'service-unavailable')
        c.close()


def test_iq_with_unknown_namespace_to_bare_jid():
    """RFC 6120 §8.4 with RFC 6121 §8.5.1: the server answers for an account's bare JID."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        c = b.client(*ALICE)
        r = c.iq(el('iq', {'type': 'get', 'to': 'bob@localhost'}, el('{urn:example:x}q')))
        assert_error(r, 'cancel', 'service-unavailable')
        assert r.get('from') == 'bob@localhost', xmpp.to_xml(r)
        c.close()


def test_iq_shape_errors():
    """RFC 6120 §8.2.3: an iq without id, with an unknown type, or get with two children
    -> <bad-request/>."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        r = c.iq(el('iq', {'type': 'fetch', 'to': 'localhost'}, el(qn(NS_PING, 'ping'))))
        assert_error(r, 'modify', 'bad-request')
        r = c.iq(el('iq', {'type': 'get', 'to': 'localhost'}, el(qn(NS_PING, 'ping')),
                    el(qn(NS_PING, 'ping'))))
        assert_error(r, 'modify', 'bad-request')
        c.send_raw("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        r = c.expect({'tag': 'iq', 'type': 'error'})
        assert xmpp.error_condition(r) == ('modify', 'bad-request')
        assert r.get('id') is None and r.get('to') == c.jid
        c.send_raw("<iq type='result' to='localhost'/>")     # never answered (§8.3.1)
        c.expect_none({'tag': 'iq'}, 0.3)
        assert c.ping('localhost').get('type') == 'result'
        c.close()


def test_remote_server_not_found():
    """RFC 6120 §8.3.3.16: stanzas for another domain (no server-to-server here)."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        r = c.ping('example.org')
        assert_error(r, 'cancel', 'remote-server-not-found')
        assert r.get('from') == 'example.org'
        c.message('someone@example.net', 'hi', id='m2')
        m = c.expect({'tag': 'message', 'id': 'm2'})
        assert_error(m, 'cancel', 'remote-server-not-found')
        c.close()


def test_error_stanzas_are_not_answered():
    """RFC 6120 §8.3.1: an error stanza is never answered with another error."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        c.send_raw("<iq type='error' id='e1' to='nobody@example.org'/>"
                   "<message type='error' to='nobody@localhost'/>")
        c.expect_none({'tag': 'iq', 'id': 'e1'}, 0.5)
        c.expect_none({'tag': 'message'}, 0.2)
        c.close()


# ---------------------------------------------------------------- closing, keepalives
def test_closing_handshake():
    """RFC 6120 §4.4: the server answers </stream:stream> with its own and closes TCP."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        c.send_raw('</stream:stream>')
        deadline = time.monotonic() + 5
        while not c.peer_closed:
            c._read_some(deadline, '</stream:stream>')
        while not c.eof:
            c._read_some(deadline, 'EOF')
        c.abort()
        c = b.client(login=False)            # before authentication too
        c.close(timeout=5)
        c = raw(b)
        c.open_stream()
        c.close(timeout=5)


def test_closing_ends_the_session():
    """RFC 6120 §4.4 with RFC 6121 §8.5.3.2: after close, the full JID is gone."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        a = b.client(*ALICE, resource='gone')
        full = a.jid
        a.close()
        c = b.client(*BOB)
        r = c.iq(el('iq', {'type': 'get', 'to': full}, el(qn(NS_PING, 'ping'))))
        assert_error(r, 'cancel', 'service-unavailable')
        c.close()


def test_whitespace_keepalives():
    """RFC 6120 §4.6.1: white space between stanzas (and before auth) keeps the stream."""
    with harness.Broker(users=[ALICE]) as b:
        c = raw(b)
        c.open_stream()
        c.send_raw(' \n \t \r\n')
        c.starttls()
        c.send_raw('  ')
        c.authenticate(*ALICE)
        c.send_raw('\n')
        c.bind()
        for _ in range(5):
            c.send_raw(' ')
        assert c.ping('localhost').get('type') == 'result'
        c.drain(0.2)
        assert not c.peer_closed and not c.eof
        c.close()


def test_stanzas_split_and_pipelined():
    """RFC 6120 §4.1: a stream is one document; stanza boundaries need not match TCP
    segments: byte-by-byte and many-in-one-write both work."""
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(*ALICE)
        data = "<iq type='get' id='split' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"
        for ch in data.encode():
            c.send_raw(bytes([ch]))
        assert c.expect({'tag': 'iq', 'id': 'split'}).get('type') == 'result'
        many = ''.join("<iq type='get' id='p%d' to='localhost'><ping xmlns='urn:xmpp:ping'/>"
                       "</iq>" % i for i in range(50))
        c.send_raw(many)
        for i in range(50):
            assert c.expect({'tag': 'iq', 'id': 'p%d' % i}).get('type') == 'result'
        c.close()


def test_pipelined_stream_restart_after_sasl():
    """RFC 6120 §6.4.6: a client may send the new stream header right after the SASL
    data; bytes after <success/> belong to the restarted stream."""
    import base64
    import xml.etree.ElementTree as ET
    with harness.Broker(users=[ALICE]) as b:
        c = b.client(login=False)
        msg = '\0alice\0alice-secret'.encode()
        c.send_raw("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                   % (NS_SASL, base64.b64encode(msg).decode()) + header().decode())
        # The old stream's parser must not see the new document: read the raw bytes.
        data = b''
        deadline = time.monotonic() + 10
        c.sock.settimeout(1)
        while b'</stream:features>' not in data and time.monotonic() < deadline:
            try:
                chunk = c.sock.recv(65536)
            except OSError:
                continue
            if not chunk:
                break
            data += chunk
        old, sep, new = data.partition(b"<?xml")
        assert sep, data
        p = ET.XMLPullParser(events=('end',))
        p.feed(b"<w xmlns='jabber:client'>" + old + b"</w>")
        kids = [e for _, e in p.read_events()]
        assert [e.tag for e in kids[:-1]] == [qn(NS_SASL, 'success')], data
        c._reset_parser()
        c._parser.feed(sep + new)
        c._depth = 0
        for ev, obj in c._parser.read_events():
            if ev == 'start':
                c._depth += 1
                if c._depth == 1:
                    c._root, c.stream_attrs = obj, dict(obj.attrib)
            elif ev == 'end':
                c._depth -= 1
                if c._depth == 1:
                    c._pending.append(obj)
        f = c.recv()
        assert f.tag == qn(NS_STREAMS, 'features') and f.find(qn(NS_BIND, 'bind')) is not None
        c.features = f
        c.bind()
        assert c.ping('localhost').get('type') == 'result'
        c.close()


# ---------------------------------------------------------------- delivery
def test_message_to_full_jid():
    """RFC 6121 §8.5.3.1: a message to an available (or not) full JID is delivered to
    that resource only, stamped with the sender's full JID (RFC 6120 §8.1.2.1)."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        a = bound(b, ALICE[0], 'phone')
        b1 = bound(b, BOB[0], 'one')
        b2 = bound(b, BOB[0], 'two')
        a.message(b1.jid, 'to one', id='m1')
        m = b1.expect({'tag': 'message', 'id': 'm1'})
        assert m.get('from') == a.jid and m.get('to') == b1.jid
        assert m.findtext(qn(NS_CLIENT, 'body')) == 'to one'
        b2.expect_none({'tag': 'message', 'id': 'm1'}, 0.3)
        for c in (a, b1, b2):
            c.close()


def test_message_to_missing_resource():
    """RFC 6121 §8.5.3.2.1: a message to a full JID with no such resource goes on to the
    account's other resources only when it is of type chat; a normal (or untyped) one gets
    <service-unavailable/>, a headline is dropped, and neither reaches the other resource."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        a = bound(b, ALICE[0], 'phone', presence=True)
        b1 = bound(b, BOB[0], 'one', presence=True)
        a.drain(0.2)
        gone = 'bob@localhost/gone'
        a.message(gone, 'chat', id='c1')
        assert b1.expect({'tag': 'message', 'id': 'c1'}).get('to') == gone
        for type_, mid in (('normal', 'n1'), (None, 'n2')):
            m = el('message', {'to': gone, 'id': mid, 'type': type_}, el('body', text='x'))
            a.send(m)
            assert_error(a.expect({'tag': 'message', 'id': mid}), 'cancel',
                         'service-unavailable')
        a.message(gone, 'news', type='headline', id='h1')
        a.expect_none({'tag': 'message', 'id': 'h1'}, 0.3)
        for mid in ('n1', 'n2', 'h1'):
            b1.expect_none({'tag': 'message', 'id': mid}, 0.2)
        for c in (a, b1):
            c.close()


def test_stanzas_get_the_stream_language():
    """RFC 6120 §8.1.5: a stanza without xml:lang gets the one of the sender's stream
    header (§4.7.4); one that has its own keeps it."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        a = b.client(login=False)
        a.lang = 'de'
        a.login(*ALICE, resource='phone')
        b1 = bound(b, BOB[0], 'one')
        a.message(b1.jid, 'hallo', id='l1')
        m = b1.expect({'tag': 'message', 'id': 'l1'})
        assert m.get(qn(NS_XML, 'lang')) == 'de', xmpp.to_xml(m)
        a.send(el('message', {'to': b1.jid, 'id': 'l2', qn(NS_XML, 'lang'): 'fr'},
                  el('body', text='salut')))
        m = b1.expect({'tag': 'message', 'id': 'l2'})
        assert m.get(qn(NS_XML, 'lang')) == 'fr', xmpp.to_xml(m)
        for c in (a, b1):
            c.close()


def test_prefixed_content_namespace_is_corrected():
    """RFC 6120 §4.8.5: a server "MUST NOT route or deliver" a stanza with a prefixed
    content namespace "without first correcting the error": it arrives unprefixed."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        a = bound(b, ALICE[0], 'phone')
        b1 = bound(b, BOB[0], 'one')
        b1._received.clear()
        a.send_raw("<foo:message xmlns:foo='jabber:client' to='%s' id='pf1' type='chat'>"
                   "<foo:body>hi</foo:body></foo:message>" % b1.jid)
        m = b1.expect({'tag': 'message', 'id': 'pf1'})
        assert m.findtext(qn(NS_CLIENT, 'body')) == 'hi'
        wire = bytes(b1._received)
        assert b'<message' in wire and b'foo:' not in wire, wire
        for c in (a, b1):
            c.close()


def test_message_to_bare_jid():
    """RFC 6121 §8.5.2.1.1: a chat message to a bare JID goes to the available resources
    with the highest non-negative priority; a negative one gets nothing."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        a = bound(b, ALICE[0], 'phone', presence=True)
        b1 = b.client(*BOB, resource='one')
        b1.presence(el('priority', text='5'))
        b2 = b.client(*BOB, resource='two')
        b2.presence(el('priority', text='-1'))
        b1.drain(0.3)
        b2.drain(0.1)
        a.message('bob@localhost', 'hello bob', id='m2')
        m = b1.expect({'tag': 'message', 'id': 'm2'})
        assert m.get('from') == a.jid and m.get('type') == 'chat'
        assert m.findtext(qn(NS_CLIENT, 'body')) == 'hello bob'
        b2.expect_none({'tag': 'message', 'id': 'm2'}, 0.3)
        b1.message('alice@localhost', 'hi back', id='m3')
        r = a.expect({'tag': 'message', 'id': 'm3'})
        assert r.get('from') == b1.jid
        for c in (a, b1, b2):
            c.close()


def test_message_to_unknown_account():
    """RFC 6121 §8.5.1: no such account -> <service-unavailable/>."""
    with harness.Broker(users=[ALICE]) as b:
        a = bound(b, ALICE[0])
        a.message('nobody@localhost', 'anyone?', id='m4')
        e = a.expect({'tag': 'message', 'id': 'm4'})
        assert_error(e, 'cancel', 'service-unavailable')
        assert e.get('from') == 'nobody@localhost'
        a.close()


def test_iq_between_full_jids():
    """RFC 6120 §8.2.3, RFC 6121 §8.5.3.1: an iq to a full JID reaches that session, and
    its result returns to the requester."""
    with harness.Broker(users=[ALICE, BOB]) as b:
        a = bound(b, ALICE[0], 'a')
        bb = bound(b, BOB[0], 'b')
        a.send(el('iq', {'type': 'get', 'id': 'q1', 'to': bb.jid}, el('{urn:example:x}query')))
        q = bb.expect({'tag': 'iq', 'id': 'q1'})
        assert q.get('from') == a.jid and q.get('type') == 'get'
        bb.send(el('iq', {'type': 'result', 'id': 'q1', 'to': a.jid}))
        r = a.expect({'tag': 'iq', 'id': 'q1'})
        assert r.get('type') == 'result' and r.get('from') == bb.jid
        a.close()
        bb.close()


if __name__ == '__main__':
    harness.main(globals())
