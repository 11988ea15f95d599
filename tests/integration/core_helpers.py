"""Small helpers shared by the XMPP-core integration tests (test_stream, test_tls, test_sasl,
test_bind, test_register, test_limits, test_disco, test_cli). Standard library only."""

import os
import time

import xmpp
from xmpp import NS_CLIENT, NS_STREAMS, el, qn

NS_REGISTER = 'jabber:iq:register'
NS_VERSION = 'jabber:iq:version'
NS_FEATURE_REGISTER = 'http://jabber.org/features/iq-register'


def header(to='localhost', version='1.0', ns=NS_CLIENT, stream_ns=NS_STREAMS, from_=None,
           prefix='stream', xmldecl=True, lang='en'):
    """A stream header as bytes, with each part replaceable for hostile-input tests."""
    h = "<?xml version='1.0'?>" if xmldecl else ''
    name = '%s:stream' % prefix if prefix else 'stream'
    h += '<%s' % name
    if ns is not None:
        h += " xmlns='%s'" % ns
    if prefix:
        h += " xmlns:%s='%s'" % (prefix, stream_ns)
    if to is not None:
        h += " to='%s'" % to
    if from_ is not None:
        h += " from='%s'" % from_
    if version is not None:
        h += " version='%s'" % version
    if lang is not None:
        h += " xml:lang='%s'" % lang
    return (h + '>').encode()


def raw(b, kind='c2s', direct_tls=None, timeout=10):
    """A connected client (TCP, and TLS for c2s_tls), nothing sent yet."""
    c = xmpp.Client('127.0.0.1', b.port(kind), b.domain, timeout=timeout)
    b._clients.append(c)
    c.connect(direct_tls=(kind == 'c2s_tls') if direct_tls is None else direct_tls)
    return c


def read_header(c, timeout=None):
    """Wait for the peer's stream header; returns its attributes."""
    deadline = time.monotonic() + (c.timeout if timeout is None else timeout)
    while c.stream_attrs is None:
        c._check_open('the stream header')
        c._read_some(deadline, 'the stream header')
    return c.stream_attrs


def error_of(stanza):
    return xmpp.error_condition(stanza)


def assert_error(stanza, etype, cond):
    got = xmpp.error_condition(stanza)
    assert stanza.get('type') == 'error' and got == (etype, cond), \
        'expected %s/%s, got %r in %s' % (etype, cond, got, xmpp.to_xml(stanza))


def bound(b, user, resource=None, presence=False, **kw):
    """A logged-in, bound client; with presence, initial presence sent (and any presence
    echoed back drained)."""
    c = b.client(user, resource=resource, **kw)
    if presence:
        c.presence()
        c.drain(0.2)
    return c


def rss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return None


def feature_names(features):
    return {c.tag for c in features}


def read_file(path):
    with open(path) as f:
        return f.read()


def repo_path(*parts):
    import harness
    return os.path.join(harness.source_dir(), *parts)


def iq_get(c, to, payload, **kw):
    return c.iq(el('iq', {'type': 'get', 'to': to}, payload), **kw)


def disco_info(c, to, node=None):
    return iq_get(c, to, el(qn(xmpp.NS_DISCO_INFO, 'query'), {'node': node}))


def disco_items(c, to, node=None):
    return iq_get(c, to, el(qn(xmpp.NS_DISCO_ITEMS, 'query'), {'node': node}))
