"""Helpers shared by the XEP-0060 integration tests (test_pubsub_*.py): requests to the
pubsub service, data forms, checks of replies and event notifications, and the roster and
presence set-up the presence/roster access models need. Standard library only."""

import time

import xmpp
from xmpp import el, qn

PS = 'pubsub.localhost'
NS_PUBSUB = xmpp.NS_PUBSUB
NS_EVENT = xmpp.NS_PUBSUB_EVENT
NS_OWNER = xmpp.NS_PUBSUB_OWNER
NS_ERRORS = xmpp.NS_PUBSUB_ERRORS
NS_DATA = xmpp.NS_DATA
NS_RSM = 'http://jabber.org/protocol/rsm'
NS_SHIM = 'http://jabber.org/protocol/shim'
NS_DELAY = 'urn:xmpp:delay'
NS_ROSTER = xmpp.NS_ROSTER
NS_DISCO_INFO = xmpp.NS_DISCO_INFO
NS_DISCO_ITEMS = xmpp.NS_DISCO_ITEMS
FT_NODE_CONFIG = 'http://jabber.org/protocol/pubsub#node_config'
FT_SUB_OPTIONS = 'http://jabber.org/protocol/pubsub#subscribe_options'
FT_PUB_OPTIONS = 'http://jabber.org/protocol/pubsub#publish-options'
FT_META = 'http://jabber.org/protocol/pubsub#meta-data'

USERS = [('alice@localhost', 'pw-alice'), ('bob@localhost', 'pw-bob'),
         ('carol@localhost', 'pw-carol'), ('dave@localhost', 'pw-dave')]
A, B, C, D = (u for u, _ in USERS)


def P(local):
    return qn(NS_PUBSUB, local)


def E(local):
    return qn(NS_EVENT, local)


def O(local):
    return qn(NS_OWNER, local)


def X(local):
    return qn(NS_DATA, local)


def R(local):
    return qn(NS_RSM, local)


def show(e):
    return xmpp.to_xml(e)


# ------------------------------------------------------------------ data forms
def form(form_type, fields, type='submit'):
    """A jabber:x:data form: fields maps var -> value (str/int/bool) or a list of values."""
    x = el(X('x'), {'type': type})
    if form_type is not None:
        x.append(el(X('field'), {'var': 'FORM_TYPE', 'type': 'hidden'},
                    el(X('value'), text=form_type)))
    for var, v in fields.items():
        f = el(X('field'), {'var': var})
        for one in (v if isinstance(v, (list, tuple)) else [v]):
            if isinstance(one, bool):
                one = 'true' if one else 'false'
            f.append(el(X('value'), text=str(one)))
        x.append(f)
    return x


def form_values(x):
    """{var: [values]} of a data form element."""
    out = {}
    for f in x.findall(X('field')):
        out[f.get('var')] = [v.text or '' for v in f.findall(X('value'))]
    return out


def form_type_of(x):
    return form_values(x).get('FORM_TYPE', [None])[0]


def cfg_fields(**kw):
    """node_config fields from keywords: access_model='whitelist' -> pubsub#access_model."""
    return {'pubsub#' + k: v for k, v in kw.items()}


# ------------------------------------------------------------------ requests
def iq(type, *children, ns=NS_PUBSUB, to=PS):
    return el('iq', {'type': type, 'to': to}, el(qn(ns, 'pubsub'), None, *children))


def request(c, type, *children, ns=NS_PUBSUB, to=PS):
    return c.iq(iq(type, *children, ns=ns, to=to))


def ok(r, what=''):
    assert r.get('type') == 'result', 'expected a result%s: %s' % (
        ' for ' + what if what else '', show(r))
    return r


def err(r, etype, cond, app=None, **app_attrs):
    """Check an error reply: <error type=etype> with the defined condition `cond` and the
    pubsub#errors condition `app` (None: no application condition)."""
    assert r.get('type') == 'error', 'expected an error, got %s' % show(r)
    t, c = xmpp.error_condition(r)
    assert (t, c) == (etype, cond), 'expected %s/%s, got %s/%s: %s' % (etype, cond, t, c, show(r))
    got = xmpp.error_app_condition(r)
    want = qn(NS_ERRORS, app) if app else None
    assert got == want, 'expected app condition %s, got %s: %s' % (want, got, show(r))
    if app_attrs:
        e = next(x for x in r if xmpp.localname(x.tag) == 'error')
        a = e.find(qn(NS_ERRORS, app))
        for k, v in app_attrs.items():
            assert a.get(k) == v, '%s=%r expected %r: %s' % (k, a.get(k), v, show(r))
    return r


def create(c, node, config=None, check=True):
    children = [el(P('create'), {'node': node})]
    if config is not None:
        children.append(el(P('configure'), None, form(FT_NODE_CONFIG, config)))
    r = request(c, 'set', *children)
    return ok(r, 'create ' + node) if check else r


def configure(c, node, check=True, **kw):
    r = request(c, 'set', el(O('configure'), {'node': node},
                             form(FT_NODE_CONFIG, cfg_fields(**kw))), ns=NS_OWNER)
    return ok(r, 'configure ' + node) if check else r


def set_affiliation(owner, node, jid, aff):
    """§8.9.2 (owner use case, needed as set-up here): make jid member/outcast/publisher..."""
    r = request(owner, 'set', el(O('affiliations'), {'node': node},
                                 el(O('affiliation'), {'jid': jid, 'affiliation': aff})),
                ns=NS_OWNER)
    assert r.get('type') == 'result', \
        'set-up needs XEP-0060 §8.9.2 affiliation management: %s' % show(r)
    return r


def entry(text='hello', ns='http://www.w3.org/2005/Atom'):
    return el(qn(ns, 'entry'), None, el(qn(ns, 'title'), text=text))


def publish(c, node, item_id=None, payload='default', options=None, item=True):
    """Publish; payload 'default' is an Atom entry, None an empty item, or an Element /
    list of Elements."""
    pub = el(P('publish'), {'node': node})
    if item:
        it = el(P('item'), {'id': item_id})
        if isinstance(payload, str) and payload == 'default':
            it.append(entry(item_id or 'x'))
        elif isinstance(payload, (list, tuple)):
            for p in payload:
                it.append(p)
        elif payload is not None:
            it.append(payload)
        pub.append(it)
    children = [pub]
    if options is not None:
        children.append(el(P('publish-options'), None, form(FT_PUB_OPTIONS, options)))
    return request(c, 'set', *children)


def published_id(r):
    ok(r, 'publish')
    it = r.find('%s/%s/%s' % (P('pubsub'), P('publish'), P('item')))
    assert it is not None and it.get('id'), 'no <item id/> in the publish result: ' + show(r)
    return it.get('id')


def subscribe(c, node, jid=None, options=None, options_attrs=None):
    children = [el(P('subscribe'), {'node': node, 'jid': jid or c.bare_jid})]
    if options is not None:
        children.append(el(P('options'), options_attrs, form(FT_SUB_OPTIONS, options)))
    return request(c, 'set', *children)


def subscription_of(r):
    ok(r, 'subscribe')
    s = r.find('%s/%s' % (P('pubsub'), P('subscription')))
    assert s is not None, 'no <subscription/>: ' + show(r)
    return s


def unsubscribe(c, node, jid=None, subid=None):
    return request(c, 'set', el(P('unsubscribe'), {'node': node, 'jid': jid or c.bare_jid,
                                                    'subid': subid}))


def retract(c, node, item_id, notify=None):
    return request(c, 'set', el(P('retract'), {'node': node, 'notify': notify},
                                el(P('item'), {'id': item_id})))


def items(c, node, max_items=None, ids=(), rsm=None, subid=None):
    """§6.5 retrieve; rsm: dict with max/after/before/index (value None: empty element)."""
    i = el(P('items'), {'node': node, 'max_items': max_items, 'subid': subid})
    for x in ids:
        i.append(el(P('item'), {'id': x}))
    children = [i]
    if rsm is not None:
        s = el(R('set'))
        for k, v in rsm.items():
            s.append(el(R(k), text=None if v is None else str(v)))
        children.append(s)
    return request(c, 'get', *children)


def item_ids(r):
    """ItemIDs of an items result, in order."""
    ok(r, 'items')
    its = r.find('%s/%s' % (P('pubsub'), P('items')))
    assert its is not None, 'no <items/>: ' + show(r)
    return [i.get('id') for i in its.findall(P('item'))]


def rsm_of(r):
    s = r.find('%s/%s' % (P('pubsub'), R('set')))
    if s is None:
        return None
    first = s.find(R('first'))
    return {'first': first.text if first is not None else None,
            'index': first.get('index') if first is not None else None,
            'last': s.findtext(R('last')), 'count': s.findtext(R('count'))}


# ------------------------------------------------------------------ notifications
def is_event(node=None, kind='items'):
    """Spec for expect(): a <message/> from the service with <event><kind node=.../>."""
    def match(e):
        if e.tag != qn(xmpp.NS_CLIENT, 'message') or e.get('from') != PS:
            return False
        ev = e.find(E('event'))
        if ev is None:
            return False
        k = ev.find(E(kind))
        return k is not None and (node is None or k.get('node') == node)
    return match


def expect_event(c, node, kind='items', timeout=5):
    return c.expect(is_event(node, kind), timeout=timeout,
                    what='%s event for node %s' % (kind, node))


def no_event(c, node=None, kind='items', timeout=0.5):
    c.expect_none(is_event(node, kind), timeout=timeout)


def event_items(msg):
    """[(tag, id, payload element or None)] of an items event."""
    out = []
    for x in msg.find(E('event')).find(E('items')):
        kids = list(x)
        out.append((xmpp.localname(x.tag), x.get('id'), kids[0] if kids else None))
    return out


def shim_subids(msg):
    h = msg.find(qn(NS_SHIM, 'headers'))
    if h is None:
        return None
    return sorted(x.text for x in h.findall(qn(NS_SHIM, 'header')) if x.get('name') == 'SubID')


# ------------------------------------------------------------------ sessions, rosters
def online(b, user, resource=None, priority=None):
    """Logged in, roster requested, available (initial presence echoed back)."""
    c = b.client(user, resource=resource)
    roster_get(c)
    p = el('presence')
    if priority is not None:
        p.append(el('priority', text=str(priority)))
    c.send(p)
    c.expect({'tag': 'presence', 'from': c.jid}, timeout=5)
    time.sleep(0.05)
    c.drain(0.1)
    return c


def roster_get(c):
    r = c.iq(el('iq', {'type': 'get'}, el(qn(NS_ROSTER, 'query'))))
    assert r.get('type') == 'result', show(r)
    return {i.get('jid'): i for i in r.find(qn(NS_ROSTER, 'query')).findall(qn(NS_ROSTER, 'item'))}


def roster_set(c, jid, groups=()):
    item = el(qn(NS_ROSTER, 'item'), {'jid': jid})
    for g in groups:
        item.append(el(qn(NS_ROSTER, 'group'), text=g))
    r = c.iq(el('iq', {'type': 'set'}, el(qn(NS_ROSTER, 'query'), None, item)))
    assert r.get('type') == 'result', show(r)
    time.sleep(0.1)
    c.drain(0.1)


def _is_push(e, jid):
    q = e.find(qn(NS_ROSTER, 'query')) if e.tag == qn(xmpp.NS_CLIENT, 'iq') else None
    return (q is not None and e.get('type') == 'set' and q.find(qn(NS_ROSTER, 'item')) is not None
            and q.find(qn(NS_ROSTER, 'item')).get('jid') == jid)


def _ack_push(c, jid):
    p = c.expect(lambda e: _is_push(e, jid), timeout=5, what='roster push for ' + jid)
    c.send(el('iq', {'type': 'result', 'id': p.get('id')}))
    return p.find(qn(NS_ROSTER, 'query')).find(qn(NS_ROSTER, 'item'))


def presence_subscribe(u, ct):
    """RFC 6121 §3.1: u subscribes to ct's presence and ct approves, so that ct's roster has
    u with subscription 'from' (what the presence access model asks of the owner's roster).
    Both clients are online and have requested their rosters."""
    u.send(el('presence', {'to': ct.bare_jid, 'type': 'subscribe'}))
    _ack_push(u, ct.bare_jid)
    ct.expect({'tag': 'presence', 'from': u.bare_jid, 'type': 'subscribe'}, timeout=5)
    ct.send(el('presence', {'to': u.bare_jid, 'type': 'subscribed'}))
    item = _ack_push(ct, u.bare_jid)
    assert item.get('subscription') in ('from', 'both'), show(item)
    time.sleep(0.2)
    u.drain(0.1)
    ct.drain(0.1)
