"""A small, strict XMPP client for Herald's integration tests.

Python 3 standard library only (socket, ssl, xml.etree); it shares no code with the server.
Received XML is parsed with a namespace-aware XMLPullParser (a fresh one per stream restart),
so tests compare elements and attributes ('{jabber:client}message', attrib['type']), never
strings.  Every wait has a deadline; failures raise Timeout, StreamError, StreamClosed,
ConnectionClosed, SASLFailure or XMPPError, whose messages end with the last bytes received.

Quick use:
    c = Client('127.0.0.1', port, 'localhost')
    c.login('alice', 'secret', mech='SCRAM-SHA-256', tls='starttls')   # -> full JID
    reply = c.iq(el('iq', {'type': 'get', 'to': 'localhost'}, el('{urn:xmpp:ping}ping')))
    c.close()

Element conventions: an element built with an unqualified tag ('iq') inherits its parent's
namespace when serialised (jabber:client at the top level); parse() gives such elements the
jabber:client namespace, as the server's parser will.  Set XMPP_TRACE=1 to print the wire.
"""

import base64
import collections
import hashlib
import hmac
import itertools
import os
import socket
import ssl
import stringprep
import sys
import time
import unicodedata
import xml.etree.ElementTree as ET

# ------------------------------------------------------------------ namespaces
NS_CLIENT = 'jabber:client'
NS_STREAMS = 'http://etherx.jabber.org/streams'
NS_STREAM_ERRORS = 'urn:ietf:params:xml:ns:xmpp-streams'
NS_STANZA_ERRORS = 'urn:ietf:params:xml:ns:xmpp-stanzas'
NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls'
NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl'
NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind'
NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session'
NS_SASL_CB = 'urn:xmpp:sasl-cb:0'
NS_PING = 'urn:xmpp:ping'
NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items'
NS_ROSTER = 'jabber:iq:roster'
NS_DATA = 'jabber:x:data'
NS_PUBSUB = 'http://jabber.org/protocol/pubsub'
NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event'
NS_PUBSUB_OWNER = 'http://jabber.org/protocol/pubsub#owner'
NS_PUBSUB_ERRORS = 'http://jabber.org/protocol/pubsub#errors'
NS_XML = 'http://www.w3.org/XML/1998/namespace'

LAST_BYTES = 2048  # how much received data the exception messages quote
TRACE = os.environ.get('XMPP_TRACE') == '1'


def qn(ns, local):
    """Clark notation: qn(NS_CLIENT, 'iq') -> '{jabber:client}iq'."""
    return '{%s}%s' % (ns, local)


def split_tag(tag):
    """'{ns}local' -> (ns, local); 'local' -> (None, local)."""
    if tag.startswith('{'):
        ns, _, local = tag[1:].partition('}')
        return ns, local
    return None, tag


def localname(tag):
    return split_tag(tag)[1]


# ------------------------------------------------------------------ exceptions
class XMPPException(Exception):
    """Base class. .last_received holds the tail of what the peer sent."""

    def __init__(self, message, last_received=b''):
        self.last_received = bytes(last_received)
        if last_received:
            message = '%s\n  last bytes received: %r' % (message, self.last_received[-LAST_BYTES:])
        super().__init__(message)


class Timeout(XMPPException):
    pass


class ConnectionClosed(XMPPException):
    """The TCP/TLS connection reached EOF (or was reset) while we needed data."""


class StreamClosed(XMPPException):
    """The peer sent </stream:stream> while we needed a stanza."""


class StreamError(XMPPException):
    """A stream-level error: a <stream:error/> from the peer (.condition, .text, .element),
    or a protocol violation detected by this client (.condition is None)."""

    def __init__(self, message, last_received=b'', condition=None, text=None, element=None):
        self.condition, self.text, self.element = condition, text, element
        super().__init__(message, last_received)


class SASLFailure(XMPPException):
    """<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/> (.condition, .text), or a SCRAM
    check that failed on our side (bad server signature, nonce, server error e=...)."""

    def __init__(self, message, last_received=b'', condition=None, text=None, element=None):
        self.condition, self.text, self.element = condition, text, element
        super().__init__(message, last_received)


class XMPPError(XMPPException):
    """A stanza of type='error' where a result was required (.type, .condition, .stanza),
    or a failed negotiation step (starttls <failure/>)."""

    def __init__(self, message, last_received=b'', stanza=None):
        self.stanza = stanza
        self.type, self.condition = error_condition(stanza) if stanza is not None else (None, None)
        super().__init__(message, last_received)


# ------------------------------------------------------------------ element helpers
def el(tag, attrs=None, *children, text=None):
    """Build an Element: el('iq', {'type': 'get'}, el('{urn:xmpp:ping}ping')).
    Children may be Elements or XML strings (parsed with parse())."""
    e = ET.Element(tag, {k: str(v) for k, v in (attrs or {}).items() if v is not None})
    if text is not None:
        e.text = str(text)
    for c in children:
        e.append(parse(c) if isinstance(c, str) else c)
    return e


def parse(text, default_ns=NS_CLIENT):
    """Parse one XML element from text; unqualified elements get default_ns (as inside a
    jabber:client stream)."""
    wrapper = ET.fromstring("<w xmlns='%s'>%s</w>" % (_escape_attr(default_ns), text))
    kids = list(wrapper)
    if len(kids) != 1 or (wrapper.text or '').strip() or (kids[0].tail or '').strip():
        raise ValueError('parse() wants exactly one element: %r' % (text,))
    kids[0].tail = None
    return kids[0]


def _escape_text(s):
    return s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def _escape_attr(s):
    return (_escape_text(s).replace('"', '&quot;').replace("'", '&apos;')
            .replace('\n', '&#10;').replace('\r', '&#13;').replace('\t', '&#9;'))


def to_xml(elem, parent_ns=NS_CLIENT):
    """Serialise an Element as XMPP expects: default xmlns declarations (no ns0: prefixes),
    xml:lang kept as such; an unqualified tag inherits parent_ns."""
    out = []
    _ser(elem, parent_ns, out)
    return ''.join(out)


def _ser(elem, parent_ns, out):
    ns, local = split_tag(elem.tag)
    if ns is None:
        ns = parent_ns
    out.append('<' + local)
    if ns != parent_ns:
        out.append(' xmlns="%s"' % _escape_attr(ns or ''))
    prefixes = {}
    for k, v in elem.attrib.items():
        ans, alocal = split_tag(k)
        if ans is None:
            name = alocal
        elif ans == NS_XML:
            name = 'xml:' + alocal
        else:
            if ans not in prefixes:
                prefixes[ans] = 'a%d' % len(prefixes)
                out.append(' xmlns:%s="%s"' % (prefixes[ans], _escape_attr(ans)))
            name = prefixes[ans] + ':' + alocal
        out.append(' %s="%s"' % (name, _escape_attr(v)))
    if elem.text is None and len(elem) == 0:
        out.append('/>')
    else:
        out.append('>')
        if elem.text:
            out.append(_escape_text(elem.text))
        for c in elem:
            _ser(c, ns, out)
            if c.tail:
                out.append(_escape_text(c.tail))
        out.append('</%s>' % local)


def error_condition(stanza):
    """(type, condition) of a stanza's <error/>, e.g. ('cancel', 'item-not-found');
    (None, None) when there is no <error/> child. The condition is the first child of <error/>
    in the urn:ietf:params:xml:ns:xmpp-stanzas namespace."""
    if stanza is None:
        return None, None
    err = stanza.find(qn(NS_CLIENT, 'error'))
    if err is None:
        err = next((c for c in stanza if localname(c.tag) == 'error'), None)
    if err is None:
        return None, None
    cond = next((localname(c.tag) for c in err
                 if split_tag(c.tag)[0] == NS_STANZA_ERRORS and localname(c.tag) != 'text'), None)
    return err.get('type'), cond


def error_app_condition(stanza):
    """The application-specific condition of an <error/> (e.g. '{...pubsub#errors}nodeid-required')."""
    err = next((c for c in stanza if localname(c.tag) == 'error'), None) if stanza is not None else None
    if err is None:
        return None
    return next((c.tag for c in err if split_tag(c.tag)[0] != NS_STANZA_ERRORS), None)


def stream_error_condition(elem):
    """Defined condition of a <stream:error/> element ('restricted-xml'), and its <text/>."""
    cond = text = None
    for c in elem:
        ns, local = split_tag(c.tag)
        if ns == NS_STREAM_ERRORS:
            if local == 'text':
                text = c.text
            elif cond is None:
                cond = local
    return cond, text


def matches(elem, spec):
    """Match an element against a dict: 'tag' is '{ns}local' (exact) or 'local' (any
    namespace); 'child' is a tag (same rules) that a direct child must have; 'text' the exact
    text; every other key is an attribute that must equal the value (None: must be absent).
    A callable spec is called with the element."""
    if callable(spec):
        return bool(spec(elem))
    for k, v in spec.items():
        if k == 'tag':
            if not _tag_is(elem.tag, v):
                return False
        elif k == 'child':
            if not any(_tag_is(c.tag, v) for c in elem):
                return False
        elif k == 'text':
            if (elem.text or '') != v:
                return False
        elif elem.get(k) != v:
            return False
    return True


def _tag_is(tag, want):
    return tag == want if want.startswith('{') else localname(tag) == want


# ------------------------------------------------------------------ SASL helpers
def saslprep(s):
    """RFC 4013 SASLprep (stored strings not allowed to be unassigned: we allow them, as a
    client, to let tests send odd names)."""
    s = ''.join(' ' if stringprep.in_table_c12(ch) else ch for ch in s
                if not stringprep.in_table_b1(ch))
    s = unicodedata.normalize('NFKC', s)
    for ch in s:
        if (stringprep.in_table_c12(ch) or stringprep.in_table_c21_c22(ch)
                or stringprep.in_table_c3(ch) or stringprep.in_table_c4(ch)
                or stringprep.in_table_c5(ch) or stringprep.in_table_c6(ch)
                or stringprep.in_table_c7(ch) or stringprep.in_table_c8(ch)
                or stringprep.in_table_c9(ch)):
            raise ValueError('SASLprep: prohibited character %r' % ch)
    if any(stringprep.in_table_d1(ch) for ch in s):
        if any(stringprep.in_table_d2(ch) for ch in s) or not (
                stringprep.in_table_d1(s[0]) and stringprep.in_table_d1(s[-1])):
            raise ValueError('SASLprep: bad bidi string')
    return s


def _scram_name(s):
    return saslprep(s).replace('=', '=3D').replace(',', '=2C')


def _b64(b):
    return base64.b64encode(b).decode('ascii')


def _b64d(s, what, last=b''):
    try:
        return base64.b64decode(s, validate=True)
    except (ValueError, TypeError):
        raise SASLFailure('bad base64 in %s: %r' % (what, s), last)


def _scram_attrs(msg, what, last=b''):
    out = {}
    for part in msg.split(','):
        if len(part) < 2 or part[1] != '=':
            raise SASLFailure('malformed SCRAM %s: %r' % (what, msg), last)
        out.setdefault(part[0], part[2:])
    return out


# OID of the certificate's signatureAlgorithm -> hash for tls-server-end-point (RFC 5929 §4.1:
# MD5 and SHA-1 are replaced by SHA-256; an unknown or hash-less algorithm such as Ed25519 has
# no defined binding: we use SHA-256, as most servers do).
_SIG_HASH = {
    '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384',
    '1.2.840.113549.1.1.13': 'sha512', '1.2.840.113549.1.1.14': 'sha224',
    '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384',
    '1.2.840.10045.4.3.4': 'sha512', '1.2.840.10045.4.3.1': 'sha224',
}


def _der_read(buf, pos):
    """One DER TLV at pos -> (tag, value_start, value_end)."""
    tag = buf[pos]
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(buf[pos:pos + n], 'big')
        pos += n
    if pos + length > len(buf):
        raise ValueError('truncated DER')
    return tag, pos, pos + length


def _der_oid(b):
    first = b[0]
    parts = [first // 40 if first < 80 else 2, first % 40 if first < 80 else first - 80]
    v = 0
    for byte in b[1:]:
        v = (v << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(v)
            v = 0
    return '.'.join(map(str, parts))


def cert_signature_hash(der):
    """Hash name used by tls-server-end-point for a DER certificate."""
    try:
        _, s, _ = _der_read(der, 0)                # Certificate SEQUENCE
        _, _, tbs_end = _der_read(der, s)          # tbsCertificate
        _, a, _ = _der_read(der, tbs_end)          # signatureAlgorithm SEQUENCE
        tag, o, oe = _der_read(der, a)             # algorithm OID
        if tag != 0x06:
            return 'sha256'
        return _SIG_HASH.get(_der_oid(der[o:oe]), 'sha256')
    except (IndexError, ValueError):
        return 'sha256'


# ------------------------------------------------------------------ the client
class Client:
    """One XMPP c2s connection. Not thread-safe. Use as a context manager to be sure the
    socket is closed (politely if possible)."""

    def __init__(self, host, port, domain, timeout=10, verify=False, cafile=None,
                 ssl_context=None):
        self.host, self.port, self.domain, self.timeout = host, port, domain, timeout
        self.verify, self.cafile, self.ssl_context = verify, cafile, ssl_context
        self.sock = None
        self.tls = False              # True once the socket is an SSLSocket
        self.stream_attrs = None      # attributes of the peer's current stream header
        self.stream_nsmap = {}        # namespace declarations on that header (prefix -> uri)
        self.features = None          # last <stream:features/>
        self.jid = None               # full JID after bind()
        self.authenticated = False
        self.sasl_success = None      # the <success/> element of the last SASL exchange
        self.scram = None             # dict describing the last SCRAM exchange
        self.peer_closed = False      # peer sent </stream:stream>
        self.eof = False              # peer closed the connection (EOF / reset)
        self.eof_reason = None
        self._pending = collections.deque()   # parsed top-level elements not yet consumed
        self._received = bytearray()
        self.lang = 'en'  # the xml:lang of the stream headers we send
        self._ids = itertools.count(1)
        self._reset_parser()

    # -------------------------------------------------------------- connection
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.sock is not None:
            try:
                if not (self.peer_closed or self.eof):
                    self.close(timeout=2)
            except (XMPPException, OSError):
                pass
            self.abort()
        return False

    def _tls_context(self):
        if self.ssl_context is not None:
            return self.ssl_context
        ctx = ssl.create_default_context(cafile=self.cafile)
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def connect(self, direct_tls=False):
        """TCP connect; with direct_tls, TLS handshake at once (XEP-0368, ALPN xmpp-client)."""
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if direct_tls:
            ctx = self._tls_context()
            ctx.set_alpn_protocols(['xmpp-client'])
            self._wrap(ctx)
        return self

    def _wrap(self, ctx):
        self.sock.settimeout(self.timeout)
        try:
            self.sock = ctx.wrap_socket(self.sock, server_hostname=self.domain)
        except socket.timeout:
            raise Timeout('TLS handshake timed out', self._received)
        except ssl.SSLError as e:
            raise XMPPError('TLS handshake failed: %s' % e, self._received)
        self.tls = True

    def abort(self):
        """Close the socket now, without any XMPP or TLS closing handshake."""
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    # -------------------------------------------------------------- raw I/O
    def send_raw(self, data):
        """Send bytes (or str, UTF-8 encoded) exactly as given: for hostile-input tests."""
        if isinstance(data, str):
            data = data.encode('utf-8')
        if TRACE:
            sys.stderr.write('SEND %r\n' % data)
        if self.sock is None:
            raise ConnectionClosed('send on a closed client', self._received)
        self.sock.settimeout(self.timeout)
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise Timeout('send timed out (%d bytes)' % len(data), self._received)
        except OSError as e:
            raise ConnectionClosed('send failed: %s' % e, self._received)

    def send(self, stanza):
        """Send an Element (serialised with to_xml) or an XML string (checked to be one
        well-formed element, then sent as written)."""
        if isinstance(stanza, ET.Element):
            text = to_xml(stanza)
        else:
            parse(stanza)
            text = stanza
        self.send_raw(text)

    def _reset_parser(self):
        self._parser = ET.XMLPullParser(events=('start', 'end', 'start-ns'))
        self._depth = 0
        self._root = None
        self._header_ns = {}
        self.stream_attrs = None
        self.peer_closed = False

    def _deadline(self, timeout):
        return time.monotonic() + (self.timeout if timeout is None else timeout)

    def _read_some(self, deadline, what):
        """Read one chunk from the socket and parse it; raise Timeout at the deadline."""
        if self.eof:
            raise ConnectionClosed('connection closed (%s) while waiting for %s'
                                   % (self.eof_reason, what), self._received)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Timeout('timed out waiting for %s' % what, self._received)
        if self.sock is None:
            raise ConnectionClosed('client socket is closed', self._received)
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise Timeout('timed out waiting for %s' % what, self._received)
        except ssl.SSLZeroReturnError:
            data, self.eof_reason = b'', 'TLS close_notify'
        except ssl.SSLError as e:
            data, self.eof_reason = b'', 'TLS error: %s' % e
        except ConnectionResetError:
            data, self.eof_reason = b'', 'connection reset'
        if not data:
            self.eof = True
            self.eof_reason = self.eof_reason or 'EOF'
            return
        if TRACE:
            sys.stderr.write('RECV %r\n' % data)
        self._received += data
        del self._received[:-LAST_BYTES]
        try:
            self._parser.feed(data)
            events = list(self._parser.read_events())
        except ET.ParseError as e:
            raise StreamError('peer sent malformed XML: %s' % e, self._received)
        for ev, obj in events:
            if ev == 'start-ns':
                if self._depth == 0:
                    self._header_ns[obj[0]] = obj[1]
            elif ev == 'start':
                self._depth += 1
                if self._depth == 1:
                    if obj.tag != qn(NS_STREAMS, 'stream'):
                        raise StreamError('expected a stream header, got <%s>' % obj.tag,
                                          self._received)
                    self._root = obj
                    self.stream_attrs = dict(obj.attrib)
                    self.stream_nsmap = dict(self._header_ns)
            elif ev == 'end':
                self._depth -= 1
                if self._depth == 1:
                    self._root.remove(obj)   # keep memory flat on long streams
                    obj.tail = None
                    self._pending.append(obj)
                elif self._depth == 0:
                    self.peer_closed = True

    # -------------------------------------------------------------- stanza input
    def recv(self, timeout=None):
        """Next top-level element (stanza, or stream-level element such as <stream:error/>
        or a SASL <failure/>). Raises StreamClosed / ConnectionClosed / Timeout."""
        deadline = self._deadline(timeout)
        while True:
            if self._pending:
                return self._pending.popleft()
            self._check_open('a stanza')
            self._read_some(deadline, 'a stanza')

    def _check_open(self, what):
        if self.peer_closed:
            raise StreamClosed('peer closed the stream while waiting for %s' % what,
                               self._received)
        if self.eof:
            raise ConnectionClosed('connection closed (%s) while waiting for %s'
                                   % (self.eof_reason, what), self._received)

    def expect(self, spec, timeout=None, what=None):
        """First element matching spec (see matches()), from already-received elements first.
        Elements that do not match stay queued for later recv()/expect(). A <stream:error/>
        that does not match raises StreamError."""
        what = what or ('element matching %r' % (spec,))
        deadline = self._deadline(timeout)
        while True:
            for i, e in enumerate(self._pending):
                if matches(e, spec):
                    del self._pending[i]
                    return e
                if e.tag == qn(NS_STREAMS, 'error'):
                    self._raise_stream_error(e, 'while waiting for ' + what)
            self._check_open(what)
            self._read_some(deadline, what)

    def expect_none(self, spec, timeout=0.5):
        """Assert that nothing matching spec arrives within timeout (e.g. no notification)."""
        try:
            e = self.expect(spec, timeout=timeout)
        except Timeout:
            return
        raise AssertionError('unexpected element: %s' % to_xml(e))

    def drain(self, timeout=0.2):
        """Return (and forget) everything received within timeout."""
        out = list(self._pending)
        self._pending.clear()
        deadline = self._deadline(timeout)
        try:
            while True:
                self._read_some(deadline, 'drain')
                out.extend(self._pending)
                self._pending.clear()
                if self.eof or self.peer_closed:
                    break
        except (Timeout, ConnectionClosed):
            pass
        return out

    def _raise_stream_error(self, e, context=''):
        cond, text = stream_error_condition(e)
        raise StreamError('stream error <%s/>%s %s' % (cond, ' (%s)' % text if text else '',
                                                         context), self._received,
                          condition=cond, text=text, element=e)

    def expect_stream_error(self, timeout=None, require_close_tag=False, require_eof=False):
        """Wait for <stream:error/> (other elements stay queued), then for the peer to close
        the stream: </stream:stream> or EOF, or both as required (RFC 6120 §4.9.1.1).
        Returns the defined condition name, e.g. 'restricted-xml'."""
        deadline = self._deadline(timeout)
        err = None
        while err is None:
            for i, e in enumerate(self._pending):
                if e.tag == qn(NS_STREAMS, 'error'):
                    del self._pending[i]
                    err = e
                    break
            else:
                self._check_open('<stream:error/>')
                self._read_some(deadline, '<stream:error/>')
        cond, _ = stream_error_condition(err)
        if cond is None:
            raise StreamError('<stream:error/> without a defined condition', self._received,
                              element=err)
        self.last_stream_error = err
        try:
            while not self.eof and not (self.peer_closed and not require_eof):
                self._read_some(deadline, 'the peer to close the stream after <%s/>' % cond)
        except ConnectionClosed:
            pass
        if require_close_tag and not self.peer_closed:
            raise StreamError('peer did not send </stream:stream> after <%s/>' % cond,
                              self._received)
        if require_eof and not self.eof:
            raise StreamError('peer did not close the connection after <%s/>' % cond,
                              self._received)
        return cond

    # -------------------------------------------------------------- stream
    def open_stream(self, timeout=None, from_=None, version='1.0', lang=None):
        """Send our stream header and read the peer's header and <stream:features/>.
        lang: the header's xml:lang (default: self.lang, 'en'; '' for none).
        Returns (header attributes dict, features element)."""
        if lang is None:
            lang = self.lang
        self._reset_parser()
        self._pending.clear()
        hdr = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
               "xmlns:stream='http://etherx.jabber.org/streams' to='%s'" % _escape_attr(self.domain))
        if from_:
            hdr += " from='%s'" % _escape_attr(from_)
        if version:
            hdr += " version='%s'" % version
        if lang:
            hdr += " xml:lang='%s'" % lang
        self.send_raw(hdr + '>')
        deadline = self._deadline(timeout)
        while self.stream_attrs is None:
            self._check_open('the stream header')
            self._read_some(deadline, 'the stream header')
        if self.stream_nsmap.get('') != NS_CLIENT:
            raise StreamError('stream default namespace is %r, not jabber:client'
                              % self.stream_nsmap.get(''), self._received)
        e = self.recv(max(0.0, deadline - time.monotonic()))
        if e.tag == qn(NS_STREAMS, 'error'):
            self._raise_stream_error(e, 'instead of <stream:features/>')
        if e.tag != qn(NS_STREAMS, 'features'):
            raise StreamError('expected <stream:features/>, got <%s>' % e.tag, self._received)
        self.features = e
        return self.stream_attrs, e

    @property
    def stream_id(self):
        return (self.stream_attrs or {}).get('id')

    def feature(self, tag):
        """The child of the current <stream:features/> with this tag (Clark), or None."""
        return None if self.features is None else self.features.find(tag)

    def mechanisms(self):
        m = self.feature(qn(NS_SASL, 'mechanisms'))
        return [] if m is None else [x.text for x in m.findall(qn(NS_SASL, 'mechanism'))]

    def starttls(self, timeout=None):
        """RFC 6120 §5: <starttls/>, <proceed/>, TLS handshake, new stream. Returns features."""
        if self.feature(qn(NS_TLS, 'starttls')) is None:
            raise XMPPError('STARTTLS not offered in features', self._received)
        self.send_raw("<starttls xmlns='%s'/>" % NS_TLS)
        e = self.recv(timeout)
        if e.tag == qn(NS_TLS, 'failure'):
            raise XMPPError('STARTTLS <failure/>', self._received, stanza=e)
        if e.tag != qn(NS_TLS, 'proceed'):
            if e.tag == qn(NS_STREAMS, 'error'):
                self._raise_stream_error(e, 'after <starttls/>')
            raise StreamError('expected <proceed/>, got <%s>' % e.tag, self._received)
        if self._pending:
            raise StreamError('data after <proceed/> before the TLS handshake', self._received)
        self._wrap(self._tls_context())
        return self.open_stream(timeout)[1]

    def close(self, timeout=None):
        """Send </stream:stream>, wait for the peer's closing tag, then EOF; close socket.
        Elements received meanwhile are discarded. Raises Timeout if the peer does neither."""
        deadline = self._deadline(timeout)
        if self.sock is None:
            return
        if not self.eof:
            try:
                self.send_raw('</stream:stream>')
            except ConnectionClosed:
                pass
        try:
            while not self.peer_closed:
                self._read_some(deadline, '</stream:stream>')
            while not self.eof:
                self._read_some(deadline, 'EOF after </stream:stream>')
        except ConnectionClosed:
            if not self.peer_closed:
                raise
        finally:
            self._pending.clear()
            self.abort()

    # -------------------------------------------------------------- SASL
    def _sasl_start(self, mech, initial):
        body = '=' if initial == b'' else (_b64(initial) if initial is not None else '')
        self.send_raw("<auth xmlns='%s' mechanism='%s'>%s</auth>" % (NS_SASL, mech, body))

    def _sasl_next(self, timeout=None):
        e = self.expect(lambda x: split_tag(x.tag)[0] == NS_SASL or x.tag == qn(NS_STREAMS, 'error'),
                        timeout, what='a SASL reply')
        if e.tag == qn(NS_STREAMS, 'error'):
            self._raise_stream_error(e, 'during SASL')
        local = localname(e.tag)
        if local == 'failure':
            cond = next((localname(c.tag) for c in e if localname(c.tag) != 'text'), None)
            text = e.findtext(qn(NS_SASL, 'text'))
            raise SASLFailure('SASL failure <%s/>%s' % (cond, ' (%s)' % text if text else ''),
                              self._received, condition=cond, text=text, element=e)
        if local not in ('challenge', 'success'):
            raise StreamError('unexpected SASL element <%s>' % local, self._received)
        data = (e.text or '').strip()
        payload = b'' if data in ('', '=') else _b64d(data, local, self._received)
        return local, payload, e

    def _sasl_succeeded(self, e, restart):
        self.sasl_success = e
        self.authenticated = True
        if restart:
            return self.open_stream()[1]
        return None

    def auth_plain(self, user, password, authzid='', restart=True):
        """SASL PLAIN (RFC 4616). user may be 'alice' or 'alice@domain' (localpart is used).
        Returns the features of the restarted stream (restart=False: None)."""
        msg = '%s\0%s\0%s' % (authzid, _local(user), password)
        self._sasl_start('PLAIN', msg.encode('utf-8'))
        kind, _, e = self._sasl_next()
        if kind != 'success':
            raise StreamError('PLAIN: expected <success/>, got <%s>' % kind, self._received)
        return self._sasl_succeeded(e, restart)

    def auth_anonymous(self, trace='', restart=True):
        """SASL ANONYMOUS (RFC 4505)."""
        self._sasl_start('ANONYMOUS', trace.encode('utf-8'))
        kind, _, e = self._sasl_next()
        if kind != 'success':
            raise StreamError('ANONYMOUS: expected <success/>, got <%s>' % kind, self._received)
        return self._sasl_succeeded(e, restart)

    def channel_binding(self, cb_type):
        """Channel-binding data of the TLS connection for cb_type."""
        if not self.tls:
            raise ValueError('channel binding needs TLS')
        if cb_type == 'tls-server-end-point':
            der = self.sock.getpeercert(binary_form=True)
            if not der:
                raise ValueError('no server certificate')
            return hashlib.new(cert_signature_hash(der), der).digest()
        data = self.sock.get_channel_binding(cb_type)
        if data is None:
            raise ValueError('%s unavailable on this connection' % cb_type)
        return data

    def default_cb_type(self):
        """tls-exporter when this Python can compute it (3.13+), else tls-server-end-point."""
        if 'tls-exporter' in getattr(ssl, 'CHANNEL_BINDING_TYPES', []):
            return 'tls-exporter'
        return 'tls-server-end-point'

    def auth_scram(self, mech, user, password, cb_type=None, gs2_flag=None, restart=True,
                   nonce=None):
        """SCRAM-SHA-1/-256 and their -PLUS variants (RFC 5802, RFC 7677), verifying the
        server signature. cb_type: for -PLUS (default default_cb_type()). gs2_flag overrides
        the GS2 header ('n', 'y' or 'p=<type>') for downgrade tests; default 'n', or 'y' when
        on TLS and the server offered no -PLUS mechanism. Returns the new features."""
        base = mech[:-5] if mech.endswith('-PLUS') else mech
        hname = {'SCRAM-SHA-1': 'sha1', 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-512': 'sha512'}.get(base)
        if hname is None:
            raise ValueError('unsupported SCRAM mechanism %r' % mech)
        plus = mech.endswith('-PLUS')
        cb_data = b''
        if gs2_flag is None:
            if plus:
                cb_type = cb_type or self.default_cb_type()
                gs2_flag = 'p=' + cb_type
            elif self.tls and not any(m.endswith('-PLUS') for m in self.mechanisms()):
                gs2_flag = 'y'
            else:
                gs2_flag = 'n'
        if gs2_flag.startswith('p='):
            cb_data = self.channel_binding(gs2_flag[2:])
        gs2_header = gs2_flag + ',,'
        cnonce = nonce or _b64(os.urandom(18))
        client_first_bare = 'n=%s,r=%s' % (_scram_name(_local(user)), cnonce)
        self._sasl_start(mech, (gs2_header + client_first_bare).encode('utf-8'))

        kind, payload, _ = self._sasl_next()
        if kind != 'challenge':
            raise SASLFailure('SCRAM: expected a challenge, got <%s>' % kind, self._received)
        server_first = payload.decode('utf-8')
        a = _scram_attrs(server_first, 'server-first-message', self._received)
        if 'm' in a:
            raise SASLFailure('SCRAM: unsupported mandatory extension', self._received)
        if not a.get('r', '').startswith(cnonce) or len(a['r']) <= len(cnonce):
            raise SASLFailure('SCRAM: server nonce does not extend ours', self._received)
        salt = _b64d(a.get('s', ''), 'salt', self._received)
        try:
            iterations = int(a.get('i', ''))
        except ValueError:
            raise SASLFailure('SCRAM: bad iteration count', self._received)
        if iterations < 1:
            raise SASLFailure('SCRAM: bad iteration count', self._received)

        def h(b):
            return hashlib.new(hname, b).digest()

        def hm(k, m):
            return hmac.new(k, m, hname).digest()

        salted = hashlib.pbkdf2_hmac(hname, saslprep(password).encode('utf-8'), salt, iterations)
        client_key = hm(salted, b'Client Key')
        server_key = hm(salted, b'Server Key')
        cbind = _b64(gs2_header.encode('utf-8') + cb_data)
        client_final_bare = 'c=%s,r=%s' % (cbind, a['r'])
        auth_message = ('%s,%s,%s' % (client_first_bare, server_first, client_final_bare)).encode('utf-8')
        sig = hm(h(client_key), auth_message)
        proof = bytes(x ^ y for x, y in zip(client_key, sig))
        self.send_raw("<response xmlns='%s'>%s</response>" % (
            NS_SASL, _b64(('%s,p=%s' % (client_final_bare, _b64(proof))).encode('utf-8'))))

        kind, payload, e = self._sasl_next()
        if kind == 'challenge':      # server-final in a challenge: answer with an empty response
            final_payload = payload
            self.send_raw("<response xmlns='%s'/>" % NS_SASL)
            kind, _, e = self._sasl_next()
            if kind != 'success':
                raise SASLFailure('SCRAM: expected <success/>', self._received)
        else:
            final_payload = payload
        f = _scram_attrs(final_payload.decode('utf-8'), 'server-final-message', self._received)
        if 'e' in f:
            raise SASLFailure('SCRAM server error e=%s' % f['e'], self._received, condition=f['e'])
        expected = hm(server_key, auth_message)
        got = _b64d(f.get('v', ''), 'server signature', self._received)
        if not hmac.compare_digest(expected, got):
            raise SASLFailure('SCRAM: server signature mismatch', self._received)
        self.scram = {'mech': mech, 'gs2_header': gs2_header, 'salt': salt,
                      'iterations': iterations, 'cb_data': cb_data}
        return self._sasl_succeeded(e, restart)

    def authenticate(self, user, password, mech=None):
        """Authenticate with mech, or the best offered of SCRAM-SHA-256, SCRAM-SHA-1, PLAIN."""
        offered = self.mechanisms()
        if mech is None:
            mech = next((m for m in ('SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN') if m in offered), None)
            if mech is None:
                raise SASLFailure('no usable SASL mechanism in %r' % offered, self._received)
        if mech == 'PLAIN':
            return self.auth_plain(user, password)
        if mech == 'ANONYMOUS':
            return self.auth_anonymous()
        return self.auth_scram(mech, user, password)

    # -------------------------------------------------------------- IQ, bind, session
    def new_id(self):
        return 'h%d' % next(self._ids)

    def iq(self, stanza, timeout=None, check=False):
        """Send an iq (Element or text; an id is added when it has none) and return the
        result/error with that id. check=True raises XMPPError on type='error'."""
        e = parse(stanza) if isinstance(stanza, str) else stanza
        if localname(e.tag) != 'iq':
            raise ValueError('iq() wants an <iq/>')
        if e.get('id') is None:
            e.set('id', self.new_id())
        iq_id = e.get('id')
        self.send(e)
        r = self.expect(lambda x: x.tag == qn(NS_CLIENT, 'iq') and x.get('id') == iq_id
                        and x.get('type') in ('result', 'error'), timeout,
                        what='iq reply id=%s' % iq_id)
        if check and r.get('type') == 'error':
            t, c = error_condition(r)
            raise XMPPError('iq id=%s failed: %s/%s' % (iq_id, t, c), self._received, stanza=r)
        return r

    def bind(self, resource=None, timeout=None):
        """RFC 6120 §7: bind a resource (server-generated if None). Returns the full JID."""
        b = el(qn(NS_BIND, 'bind'))
        if resource is not None:
            b.append(el(qn(NS_BIND, 'resource'), text=resource))
        r = self.iq(el('iq', {'type': 'set'}, b), timeout, check=True)
        jid = r.findtext('%s/%s' % (qn(NS_BIND, 'bind'), qn(NS_BIND, 'jid')))
        if not jid or '/' not in jid:
            raise XMPPError('bind result without a full <jid/>', self._received, stanza=r)
        self.jid = jid
        return jid

    def session(self, timeout=None):
        """RFC 3921 session establishment (legacy; harmless where optional)."""
        return self.iq(el('iq', {'type': 'set'}, el(qn(NS_SESSION, 'session'))), timeout, check=True)

    def login(self, user, password, mech=None, tls='starttls', resource=None):
        """connect (if needed) + stream + TLS + SASL + bind (+ session if required).
        tls: 'starttls', 'direct' (the port must be a direct-TLS port) or None. user None or
        mech 'ANONYMOUS' logs in anonymously. Returns the full JID."""
        if self.sock is None:
            self.connect(direct_tls=(tls == 'direct'))
        if self.features is None:
            self.open_stream()
        if tls == 'starttls' and not self.tls:
            self.starttls()
        if user is None or mech == 'ANONYMOUS':
            self.auth_anonymous()
        else:
            self.authenticate(user, password, mech)
        jid = self.bind(resource)
        s = self.feature(qn(NS_SESSION, 'session'))
        if s is not None and s.find(qn(NS_SESSION, 'optional')) is None:
            self.session()
        return jid

    # -------------------------------------------------------------- conveniences
    @property
    def bare_jid(self):
        return self.jid.split('/', 1)[0] if self.jid else None

    def ping(self, to=None, timeout=None):
        """XEP-0199 ping; returns the reply iq (result or error)."""
        return self.iq(el('iq', {'type': 'get', 'to': to}, el(qn(NS_PING, 'ping'))), timeout)

    def message(self, to, body=None, type='chat', children=(), id=None):
        """Send a <message/>; returns the element sent."""
        m = el('message', {'to': to, 'type': type, 'id': id or self.new_id()}, *children)
        if body is not None:
            m.append(el('body', text=body))
        self.send(m)
        return m

    def presence(self, *children, **attrs):
        """Send a <presence/>; attribute names may end in '_' (from_='...')."""
        p = el('presence', {k.rstrip('_'): v for k, v in attrs.items()}, *children)
        self.send(p)
        return p


def _local(user):
    return user.split('@', 1)[0] if '@' in user else user
