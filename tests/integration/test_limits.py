"""Input and output limits (RFC 6120 §13.12 denial of service; §4.9.3.14 policy-violation)."""

import socket
import time

import harness
import xmpp
from core_helpers import header, raw, read_header
from xmpp import NS_PING, el, qn

ALICE = ('alice@localhost', 'alice-secret')
BOB = ('bob@localhost', 'bob-secret')


def ends_with(c, data, cond='policy-violation'):
    c.send_raw(data)
    got = c.expect_stream_error(require_close_tag=True)
    assert got == cond, got


def ping_raw(i, pad=0, attrs=''):
    return ("<iq type='get' id='p%s' to='localhost'%s><ping xmlns='urn:xmpp:ping'/>%s</iq>"
            % (i, attrs, ' ' * pad))


def test_oversize_stanza():
    """RFC 6120 §13.12 item 4, §4.9.3.14: a stanza larger than max_stanza_size ends the
    stream with <policy-violation/>; one just under the limit is fine."""
    with harness.Broker(users=[ALICE], overrides={'max_stanza_size': '10000', 'max_xml_token': '4096'},
                        expect_log=[]) as b:
        c = b.client(*ALICE)
        c.send(el('message', {'to': 'localhost', 'id': 'small'}, el('body', text='x' * 9000)))
        assert c.ping('localhost').get('type') == 'result'
        ends_with(c, "<message to='localhost'><body>" + 'x' * 20000 + '</body></message>')


def test_oversize_stanza_in_pieces():
    """RFC 6120 §13.12: the limit counts the bytes of an unfinished stanza, however they
    are split, before the stanza is complete."""
    with harness.Broker(users=[ALICE], overrides={'max_stanza_size': '10000', 'max_xml_token': '4096'}) as b:
        c = b.client(*ALICE)
        c.send_raw("<message to='localhost'><body>")
        for _ in range(30):
            try:
                c.send_raw('y' * 500)
            except xmpp.ConnectionClosed:
                break
            time.sleep(0.005)
        assert c.expect_stream_error() == 'policy-violation'


def test_oversize_before_authentication():
    """RFC 6120 §13.12: the limit holds before authentication too (unauthenticated peers
    are the cheapest attackers)."""
    with harness.Broker(overrides={'max_stanza_size': '10000', 'max_xml_token': '4096'}) as b:
        c = b.client(login=False)
        ends_with(c, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
                  + 'A' * 16000 + '</auth>')
        c = raw(b)
        ends_with(c, header()[:-1] + b" x='" + b'z' * 20000 + b"'>")


def test_too_deep():
    """RFC 6120 §13.12: nesting deeper than max_xml_depth -> <policy-violation/>; exactly
    max_xml_depth levels are accepted."""
    with harness.Broker(users=[ALICE], overrides={'max_xml_depth': '4'}) as b:
        c = b.client(*ALICE)
        ok = "<iq type='get' id='d4' to='localhost'><ping xmlns='urn:xmpp:ping'><a><b/></a></ping></iq>"
        c.send_raw(ok)
        assert c.expect({'tag': 'iq', 'id': 'd4'}).get('type') == 'result'
        deep = "<message to='localhost'>" + '<x>' * 10 + '</x>' * 10 + '</message>'
        ends_with(c, deep)


def test_too_many_attributes():
    """RFC 6120 §13.12: an element with more than max_xml_attrs attributes ->
    <policy-violation/>; max_xml_attrs are accepted."""
    with harness.Broker(users=[ALICE], overrides={'max_xml_attrs': '4'}) as b:
        c = b.client(*ALICE)
        c.send_raw(ping_raw('a4', attrs=" a='1'"))       # type, id, to, a
        assert c.expect({'tag': 'iq', 'id': 'pa4'}).get('type') == 'result'
        ends_with(c, "<message to='localhost' a='1' b='2' c='3' d='4' e='5'/>")


def test_huge_tag_unfinished():
    """RFC 6120 §13.12: a single tag larger than max_xml_token is refused while it is
    still arriving (it would make the parser re-scan it on every read)."""
    with harness.Broker(users=[ALICE], overrides={'max_xml_token': '1024'}) as b:
        c = b.client(*ALICE)
        c.send_raw("<message to='localhost' x='")
        for _ in range(20):
            try:
                c.send_raw('q' * 200)
            except xmpp.ConnectionClosed:
                break
            time.sleep(0.01)
        assert c.expect_stream_error() == 'policy-violation'


def test_huge_tag_in_one_write():
    """max_xml_token bounds a tag however it arrives: a complete 5000-byte start tag sent
    in one write is refused like one sent in pieces."""
    with harness.Broker(users=[ALICE], overrides={'max_xml_token': '1024'}) as b:
        c = b.client(*ALICE)
        c.send_raw(ping_raw('ok', attrs=" x='%s'" % ('q' * 900)))
        assert c.expect({'tag': 'iq', 'id': 'pok'}).get('type') == 'result'
        ends_with(c, "<message to='localhost' x='%s'/>" % ('q' * 5000))


def test_limits_leave_other_sessions_alone():
    """RFC 6120 §4.9.1.1: a stream error ends that stream only."""
    with harness.Broker(users=[ALICE, BOB], overrides={'max_stanza_size': '10000', 'max_xml_token': '4096'}) as b:
        a = b.client(*ALICE)
        bob = b.client(*BOB)
        ends_with(a, "<message><body>" + 'x' * 20000 + '</body></message>')
        assert bob.ping('localhost').get('type') == 'result'
        bob.close()


def test_slow_reader_is_disconnected():
    """Herald's slow-consumer policy (output_buffer_limit): a session that does not read
    its input while others send to it is dropped once its queued output passes the limit;
    the senders and the server carry on."""
    with harness.Broker(users=[ALICE, BOB], overrides={'output_buffer_limit': '65536'},
                        expect_log=[]) as b:
        slow = b.client(*ALICE, resource='slow')
        fast = b.client(*BOB)
        body = 'z' * 8000
        chunk = ''.join("<message to='alice@localhost/slow' type='normal'><body>%s</body></message>"
                        % body for _ in range(16))
        deadline = time.monotonic() + 30
        gone = False
        while time.monotonic() < deadline and not gone:
            fast.send_raw(chunk)
            for line in b.log_lines():
                if 'slow reader' in line:
                    gone = True
        assert gone, 'the slow reader was never disconnected'
        assert fast.ping('localhost').get('type') == 'result'
        fast.drain(0.2)
        # The slow client sees its connection end (after the data the kernel held).
        try:
            while True:
                slow._read_some(time.monotonic() + 10, 'EOF')
                slow._pending.clear()
                if slow.eof:
                    break
        except (xmpp.ConnectionClosed, xmpp.StreamError):
            pass
        assert slow.eof
        fast.close()


def test_max_connections():
    """Herald: past max_connections new connections are closed at once; when one ends,
    a new one is accepted."""
    with harness.Broker(users=[ALICE], overrides={'max_connections': '3'}) as b:
        held = []
        for _ in range(3):
            c = raw(b)
            c.open_stream()
            held.append(c)
        s = socket.create_connection(('127.0.0.1', b.port('c2s')), timeout=5)
        try:
            s.sendall(header())
            data = s.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            data = b''
        assert data == b'', 'the 4th connection must be closed, got %r' % data
        s.close()
        held[0].close()
        time.sleep(0.2)
        c = b.client(*ALICE)
        assert c.ping('localhost').get('type') == 'result'
        c.close()


if __name__ == '__main__':
    harness.main(globals())
