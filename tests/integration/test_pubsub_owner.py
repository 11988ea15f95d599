"""XEP-0060 §8 owner use cases against the real broker: create (§8.1), configure (§8.2),
default configuration (§8.3), delete (§8.4), purge (§8.5), subscription approval (§8.6) and
pending requests through XEP-0050 ad-hoc commands (§8.7), subscription management (§8.8)
and affiliation management (§8.9), with their error cases and the notifications of
subscription state changes (§12 "Notification of Subscription State Changes")."""

import harness
import xmpp
from xmpp import el, qn
from pubsub_common import (A, B, C, D, PS, USERS, FT_NODE_CONFIG, NS_DELAY, NS_DISCO_INFO,
                           NS_DISCO_ITEMS, NS_ERRORS, NS_OWNER, E, O, P, X, cfg_fields, create,
                           configure, err, event_items, expect_event, form, form_type_of,
                           form_values, is_event, items, item_ids, no_event, ok, online,
                           publish, request, show, subscribe, subscription_of)

NS_COMMANDS = 'http://jabber.org/protocol/commands'
FT_SUB_AUTH = 'http://jabber.org/protocol/pubsub#subscribe_authorization'
GET_PENDING = 'http://jabber.org/protocol/pubsub#get-pending'


# ------------------------------------------------------------------ helpers
def owner(c, type, child):
    return request(c, type, child, ns=NS_OWNER)


def config_of(c, node):
    r = ok(owner(c, 'get', el(O('configure'), {'node': node})))
    return form_values(r.find('%s/%s/%s' % (O('pubsub'), O('configure'), X('x'))))


def owner_list(r, what):
    lst = ok(r).find('%s/%s' % (O('pubsub'), O(what)))
    assert lst is not None, show(r)
    return lst


def subs(c, node):
    """§8.8.1: {(jid, subid): state}."""
    lst = owner_list(owner(c, 'get', el(O('subscriptions'), {'node': node})), 'subscriptions')
    assert lst.get('node') == node, show(lst)
    return {(s.get('jid'), s.get('subid')): s.get('subscription')
            for s in lst.findall(O('subscription'))}


def sub_jids(c, node):
    return sorted((j, st) for (j, _), st in subs(c, node).items())


def modify_subs(c, node, *entries):
    return owner(c, 'set', el(O('subscriptions'), {'node': node},
                              *[el(O('subscription'), e) for e in entries]))


def affs(c, node):
    """§8.9.1: {jid: affiliation}."""
    lst = owner_list(owner(c, 'get', el(O('affiliations'), {'node': node})), 'affiliations')
    assert lst.get('node') == node, show(lst)
    return {a.get('jid'): a.get('affiliation') for a in lst.findall(O('affiliation'))}


def modify_affs(c, node, *entries):
    return owner(c, 'set', el(O('affiliations'), {'node': node},
                              *[el(O('affiliation'), e) for e in entries]))


def returned(r, what, item):
    """The entries an error reply gives back (§8.8.2.4, §8.9.2.4)."""
    ps = r.find(O('pubsub'))
    assert ps is not None, 'no <pubsub/> in the error: ' + show(r)
    lst = ps.find(O(what))
    assert lst is not None, show(r)
    return [dict(x.attrib) for x in lst.findall(O(item))]


def sub_event(c, node, timeout=5):
    """§8.8.4 / §12: <event><subscription node jid subscription/></event>."""
    m = expect_event(c, node, 'subscription', timeout)
    return m.find(E('event')).find(E('subscription'))


def auth_form(c, node=None, timeout=5):
    """§8.6: the approval request a node owner receives."""
    def match(e):
        if e.tag != qn(xmpp.NS_CLIENT, 'message') or e.get('from') != PS:
            return False
        x = e.find(X('x'))
        return (x is not None and form_type_of(x) == FT_SUB_AUTH and
                (node is None or form_values(x).get('pubsub#node') == [node]))
    return c.expect(match, timeout=timeout, what='approval form')


def no_auth_form(c, timeout=0.5):
    c.expect_none(lambda e: e.tag == qn(xmpp.NS_CLIENT, 'message') and
                  e.find(X('x')) is not None, timeout)


def answer(c, msg, allow, type='submit', **override):
    """§8.6: submit the approval form back, reflecting the message id."""
    v = form_values(msg.find(X('x')))
    fields = {'pubsub#subid': v['pubsub#subid'][0], 'pubsub#node': v['pubsub#node'][0],
              'pubsub#subscriber_jid': v['pubsub#subscriber_jid'][0], 'pubsub#allow': allow}
    fields.update(override)
    fields = {k: x for k, x in fields.items() if x is not None}
    x = form(FT_SUB_AUTH, fields if type == 'submit' else {}, type=type)
    c.send(el('message', {'to': PS, 'id': msg.get('id')}, x))


def is_aff_notice(node):
    def match(e):
        if e.tag != qn(xmpp.NS_CLIENT, 'message') or e.get('from') != PS:
            return False
        ps = e.find(P('pubsub'))
        lst = ps.find(P('affiliations')) if ps is not None else None
        return lst is not None and lst.get('node') == node
    return match


def command(c, attrs, *children):
    a = {'node': GET_PENDING}
    a.update(attrs)
    a = {k: v for k, v in a.items() if v is not None}
    return c.iq(el('iq', {'type': 'set', 'to': PS}, el(qn(NS_COMMANDS, 'command'), a, *children)))


def command_of(r):
    cmd = ok(r).find(qn(NS_COMMANDS, 'command'))
    assert cmd is not None and cmd.get('node') == GET_PENDING, show(r)
    return cmd


def authorize_node(a, node='club', **kw):
    create(a, node, cfg_fields(access_model='authorize', **kw))


def pending(c, node):
    s = subscription_of(subscribe(c, node))
    assert s.get('subscription') == 'pending', show(s)
    return s


# ------------------------------------------------------------------ §8.1 create
def test_create_named_node():
    """XEP-0060 §8.1.2: a registered account creates a node and becomes its owner."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        r = create(a, 'princely_musings')
        c = r.find('%s/%s' % (P('pubsub'), P('create')))
        assert c is None or c.get('node') == 'princely_musings', show(r)
        assert affs(a, 'princely_musings') == {A: 'owner'}
        a.close()


def test_create_instant_node():
    """XEP-0060 §8.1.3: without a NodeID the service makes a unique one and names it."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        names = []
        for _ in range(2):
            r = ok(request(a, 'set', el(P('create'))))
            c = r.find('%s/%s' % (P('pubsub'), P('create')))
            assert c is not None and c.get('node'), show(r)
            names.append(c.get('node'))
        assert names[0] != names[1], names
        assert affs(a, names[0]) == {A: 'owner'}
        a.close()


def test_create_and_configure():
    """XEP-0060 §8.1.3 create-and-configure: the submitted configuration is applied."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'cfg', cfg_fields(title='Princely Musings (Atom)', access_model='whitelist',
                                    max_items=10))
        v = config_of(a, 'cfg')
        assert v['pubsub#title'] == ['Princely Musings (Atom)'], v
        assert v['pubsub#access_model'] == ['whitelist'], v
        assert v['pubsub#max_items'] == ['10'], v
        a.close()


def test_create_configure_with_node_is_bad_request():
    """XEP-0060 §8.1.3: <configure/> MUST NOT have a 'node' attribute (else bad-request)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        r = request(a, 'set', el(P('create'), {'node': 'n'}),
                    el(P('configure'), {'node': 'n'}, form(FT_NODE_CONFIG, {})))
        err(r, 'modify', 'bad-request')
        err(owner(a, 'get', el(O('configure'), {'node': 'n'})), 'cancel', 'item-not-found')
        a.close()


def test_create_conflict():
    """XEP-0060 §8.1.1: an existing NodeID is <conflict/>."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        err(create(a, 'news', check=False), 'cancel', 'conflict')
        err(create(b.client(B), 'news', check=False), 'cancel', 'conflict')
        assert affs(a, 'news') == {A: 'owner'}
        a.close()


def test_create_forbidden_for_anonymous():
    """XEP-0060 §8.1.1: an entity without the privilege (an anonymous session) gets
    <forbidden/>, and nothing is created."""
    with harness.Broker(users=USERS, overrides={'anonymous': 'true'}) as b:
        anon = b.client(mech='ANONYMOUS')
        err(create(anon, 'anon-node', check=False), 'auth', 'forbidden')
        err(request(anon, 'set', el(P('create'))), 'auth', 'forbidden')
        create(b.client(A), 'anon-node')  # the name is still free
        anon.close()


def test_create_with_bad_configuration_is_not_acceptable():
    """XEP-0060 §8.1.2 / §8.2.5.2: a configuration value the service cannot take is
    <not-acceptable/>; the node is not created."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        for bad in ({'pubsub#access_model': 'bogus'}, {'pubsub#max_items': 'many'},
                    {'pubsub#deliver_payloads': 'perhaps'}):
            r = create(a, 'badcfg', bad, check=False)
            assert xmpp.error_condition(r) == ('modify', 'not-acceptable'), show(r)
        err(owner(a, 'get', el(O('configure'), {'node': 'badcfg'})), 'cancel', 'item-not-found')
        a.close()


def test_unsupported_access_model():
    """XEP-0060 §8.1.2: an access model the service does not support is <not-acceptable/>
    with the pubsub condition <unsupported-access-model/>, at creation and at
    configuration (§8.2.5.2); the node is not created, or keeps its model."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        r = create(a, 'club', {'pubsub#access_model': 'bogus'}, check=False)
        err(r, 'modify', 'not-acceptable', 'unsupported-access-model')
        err(owner(a, 'get', el(O('configure'), {'node': 'club'})), 'cancel', 'item-not-found')
        create(a, 'club')
        r = owner(a, 'set', el(O('configure'), {'node': 'club'},
                                form(FT_NODE_CONFIG, cfg_fields(access_model='bogus'))))
        err(r, 'modify', 'not-acceptable', 'unsupported-access-model')
        assert config_of(a, 'club')['pubsub#access_model'] == ['open']
        # Other refused values carry no such condition.
        r = create(a, 'other', {'pubsub#max_items': 'many'}, check=False)
        err(r, 'modify', 'not-acceptable')
        a.close()


# ------------------------------------------------------------------ §8.2 configure
def test_configure_form():
    """XEP-0060 §8.2.2: the owner gets a node_config form with the current values."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news', cfg_fields(title='News'))
        r = ok(owner(a, 'get', el(O('configure'), {'node': 'news'})))
        c = r.find('%s/%s' % (O('pubsub'), O('configure')))
        assert c is not None and c.get('node') == 'news', show(r)
        x = c.find(X('x'))
        assert x is not None and x.get('type') == 'form', show(r)
        v = form_values(x)
        assert v['FORM_TYPE'] == [FT_NODE_CONFIG], v
        assert v['pubsub#title'] == ['News'] and v['pubsub#access_model'] == ['open'], v
        a.close()


def test_configure_submit():
    """XEP-0060 §8.2.4-§8.2.5.1: a submitted form is applied and answered with a result."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        ok(configure(a, 'news', title='Renamed', max_items=5))
        v = config_of(a, 'news')
        assert v['pubsub#title'] == ['Renamed'] and v['pubsub#max_items'] == ['5'], v
        a.close()


def test_configure_errors():
    """XEP-0060 §8.2.3.2 forbidden (not an owner), §8.2.3.3 nodeid-required, §8.2.3.5
    item-not-found; §8.2.5.2 an unacceptable value; a set without a form is bad-request."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = b.client(B)
        err(owner(bob, 'get', el(O('configure'), {'node': 'news'})), 'auth', 'forbidden')
        err(configure(bob, 'news', check=False, title='x'), 'auth', 'forbidden')
        err(owner(a, 'get', el(O('configure'))), 'modify', 'bad-request', 'nodeid-required')
        err(owner(a, 'get', el(O('configure'), {'node': 'nope'})), 'cancel', 'item-not-found')
        r = configure(a, 'news', check=False, access_model='bogus')
        assert xmpp.error_condition(r) == ('modify', 'not-acceptable'), show(r)
        err(owner(a, 'set', el(O('configure'), {'node': 'news'})), 'modify', 'bad-request')
        r = owner(a, 'set', el(O('configure'), {'node': 'news'},
                               form('urn:example:other', {'pubsub#title': 'x'})))
        assert xmpp.error_condition(r) == ('modify', 'bad-request'), show(r)
        assert config_of(a, 'news')['pubsub#access_model'] == ['open']
        a.close()


def test_configure_cancel_keeps_configuration():
    """XEP-0060 §8.2.4: a cancelled form keeps the configuration (and is no change to
    announce)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news', cfg_fields(title='Kept', notify_config=True))
        bob = online(b, B)
        subscription_of(subscribe(bob, 'news'))
        ok(owner(a, 'set', el(O('configure'), {'node': 'news'},
                              el(X('x'), {'type': 'cancel'}))))
        assert config_of(a, 'news')['pubsub#title'] == ['Kept']
        no_event(bob, 'news', 'configuration')
        a.close()


def test_configure_notify_config():
    """XEP-0060 §8.2.5.3: with notify_config, subscribers hear of the change: with the
    form (type result) when payloads are delivered, an empty <configuration/> otherwise."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news', cfg_fields(notify_config=True))
        bob = online(b, B)
        subscription_of(subscribe(bob, 'news'))
        ok(configure(a, 'news', title='New title'))
        m = expect_event(bob, 'news', 'configuration')
        x = m.find(E('event')).find(E('configuration')).find(X('x'))
        assert x is not None and x.get('type') == 'result', show(m)
        assert form_values(x)['FORM_TYPE'] == [FT_NODE_CONFIG], show(m)
        assert form_values(x)['pubsub#title'] == ['New title'], show(m)
        ok(configure(a, 'news', deliver_payloads=False))
        m = expect_event(bob, 'news', 'configuration')
        assert len(m.find(E('event')).find(E('configuration'))) == 0, show(m)
        ok(configure(a, 'news', notify_config=False))
        ok(configure(a, 'news', title='Quiet'))
        no_event(bob, 'news', 'configuration')
        a.close()


def test_pending_subscriber_hears_deletion_but_not_configuration():
    """XEP-0060 §8.2.5.3 / §4.2: a pending subscription gets no notifications (so not the
    configuration of an authorize node it was not admitted to); §8.4.2: deletion is
    told to every subscription, pending ones included."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'closed', cfg_fields(notify_config=True, access_model='authorize'))
        bob = online(b, B)
        sub = subscription_of(subscribe(bob, 'closed'))
        assert sub.get('subscription') == 'pending', show(sub)
        ok(configure(a, 'closed', title='Secret'))
        no_event(bob, 'closed', 'configuration')
        ok(owner(a, 'set', el(O('delete'), {'node': 'closed'})))
        expect_event(bob, 'closed', 'delete')
        a.close()


# ------------------------------------------------------------------ §8.3 default
def test_default_configuration():
    """XEP-0060 §8.3.2: the default node configuration as a node_config form; §8.3.1.1 a
    leaf type gives the same; collections are not supported (XEP-0248)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        for attrs in (None, {'type': 'leaf'}):
            r = ok(owner(a, 'get', el(O('default'), attrs)))
            x = r.find('%s/%s/%s' % (O('pubsub'), O('default'), X('x')))
            assert x is not None and x.get('type') == 'form', show(r)
            v = form_values(x)
            assert v['FORM_TYPE'] == [FT_NODE_CONFIG] and v['pubsub#access_model'] == ['open'], v
        err(owner(a, 'get', el(O('default'), {'type': 'collection'})), 'cancel',
            'feature-not-implemented', 'unsupported', feature='collections')
        a.close()


# ------------------------------------------------------------------ §8.4 delete
def test_delete_notifies_with_redirect():
    """XEP-0060 §8.4.2: the owner deletes; every subscriber, pending ones included, is told
    with <delete/> and the <redirect/> URI; the node is gone."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        authorize_node(a, 'club')
        ok(modify_subs(a, 'club', {'jid': B, 'subscription': 'subscribed'}))
        bob = online(b, B)
        carol = online(b, C)
        pending(carol, 'club')
        uri = 'xmpp:alice@localhost?;node=blog'
        ok(owner(a, 'set', el(O('delete'), {'node': 'club'}, el(O('redirect'), {'uri': uri}))))
        for c in (bob, carol):
            m = expect_event(c, 'club', 'delete')
            rd = m.find(E('event')).find(E('delete')).find(E('redirect'))
            assert rd is not None and rd.get('uri') == uri, show(m)
        err(items(a, 'club'), 'cancel', 'item-not-found')
        create(a, 'club')  # the NodeID is free again, with a fresh state
        assert sub_jids(a, 'club') == []
        a.close()


def test_delete_errors():
    """XEP-0060 §8.4.3.1 forbidden for a non-owner; §8.4.3.3 item-not-found."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        err(owner(b.client(B), 'set', el(O('delete'), {'node': 'news'})), 'auth', 'forbidden')
        err(owner(a, 'set', el(O('delete'), {'node': 'nope'})), 'cancel', 'item-not-found')
        assert affs(a, 'news') == {A: 'owner'}
        a.close()


# ------------------------------------------------------------------ §8.5 purge
def test_purge_notifies_subscribers():
    """XEP-0060 §8.5.2: every item goes; each subscriber gets one <purge/> (not one
    retraction per item)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news', cfg_fields(notify_retract=True))
        ok(publish(a, 'news', 'i1'))
        ok(publish(a, 'news', 'i2'))
        bob = online(b, B)
        subscription_of(subscribe(bob, 'news'))
        ok(owner(a, 'set', el(O('purge'), {'node': 'news'})))
        m = expect_event(bob, 'news', 'purge')
        assert m.find(E('event')).find(E('purge')).get('node') == 'news', show(m)
        no_event(bob, 'news', 'items')
        assert item_ids(items(a, 'news')) == []
        a.close()


def test_purge_errors():
    """XEP-0060 §8.5.3.2 forbidden; §8.5.3.3 a node without persistent items is
    feature-not-implemented + <unsupported feature='persistent-items'/>; §8.5.3.4
    item-not-found."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        ok(publish(a, 'news', 'i1'))
        create(a, 'transient', cfg_fields(persist_items=False))
        err(owner(b.client(B), 'set', el(O('purge'), {'node': 'news'})), 'auth', 'forbidden')
        err(owner(a, 'set', el(O('purge'), {'node': 'transient'})), 'cancel',
            'feature-not-implemented', 'unsupported', feature='persistent-items')
        err(owner(a, 'set', el(O('purge'), {'node': 'nope'})), 'cancel', 'item-not-found')
        assert item_ids(items(a, 'news')) == ['i1']
        a.close()


# ------------------------------------------------------------------ §8.6 approval
def test_approval_request_and_approve():
    """XEP-0060 §8.6: a pending subscription makes the service send the owner a
    subscribe_authorization form (subid, node, subscriber_jid, allow); the owner submits
    allow=true; the subscriber is told 'subscribed' and then receives the items."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        authorize_node(a)
        bob = online(b, B)
        s = pending(bob, 'club')
        m = auth_form(a, 'club')
        assert m.get('to') == A and m.get('id'), show(m)
        x = m.find(X('x'))
        assert x.get('type') == 'form', show(m)
        v = form_values(x)
        assert v['pubsub#node'] == ['club'] and v['pubsub#subscriber_jid'] == [B], v
        assert v['pubsub#subid'] == [s.get('subid')] and v['pubsub#allow'] == ['false'], v
        types = {f.get('var'): f.get('type') for f in x.findall(X('field'))}
        assert types['pubsub#allow'] == 'boolean' and types['FORM_TYPE'] == 'hidden', types
        no_event(bob)
        answer(a, m, True)
        e = sub_event(bob, 'club')
        assert (e.get('jid'), e.get('subscription')) == (B, 'subscribed'), show(e)
        ok(publish(a, 'club', 'i1'))
        assert [i for _, i, _ in event_items(expect_event(bob, 'club'))] == ['i1']
        assert sub_jids(a, 'club') == [(B, 'subscribed')]
        a.close()


def test_approval_deny():
    """XEP-0060 §8.6: allow=false removes the request; the subscriber is told 'none' and
    receives nothing; it may ask again."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        authorize_node(a)
        bob = online(b, B)
        pending(bob, 'club')
        answer(a, auth_form(a, 'club'), False)
        e = sub_event(bob, 'club')
        assert (e.get('jid'), e.get('subscription')) == (B, 'none'), show(e)
        ok(publish(a, 'club', 'i1'))
        no_event(bob, 'club')
        r = ok(request(bob, 'get', el(P('subscriptions'), {'node': 'club'})))
        assert len(r.find('%s/%s' % (P('pubsub'), P('subscriptions')))) == 0, show(r)
        pending(bob, 'club')
        auth_form(a, 'club')
        a.close()


def test_approval_cancel_keeps_pending():
    """XEP-0060 §8.6: a cancelled form leaves the request pending."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        authorize_node(a)
        bob = online(b, B)
        pending(bob, 'club')
        answer(a, auth_form(a, 'club'), True, type='cancel')
        no_event(bob, 'club', 'subscription')
        err(subscribe(bob, 'club'), 'auth', 'not-authorized', 'pending-subscription')
        a.close()


def test_approval_by_non_owner_is_ignored():
    """XEP-0060 §8.6 (only owners approve): a forged answer from another entity and a
    malformed answer from the owner change nothing; the service logs and ignores them."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        authorize_node(a)
        bob = online(b, B)
        carol = online(b, C)
        pending(bob, 'club')
        m = auth_form(a, 'club')
        answer(carol, m, True)
        answer(bob, m, True)
        answer(a, m, 'maybe')
        answer(a, m, True, **{'pubsub#subscriber_jid': None})
        answer(a, m, True, **{'pubsub#subid': 'not-a-subid'})
        no_event(bob, 'club', 'subscription', timeout=1)
        b.wait_for_log(r'ignored an approval answer from carol@localhost')
        b.wait_for_log(r'ignored a malformed approval answer from alice@localhost')
        err(subscribe(bob, 'club'), 'auth', 'not-authorized', 'pending-subscription')
        answer(a, m, True)  # the genuine answer still works
        assert sub_event(bob, 'club').get('subscription') == 'subscribed'
        answer(a, m, False)  # answered already: ignored
        no_event(bob, 'club', 'subscription')
        assert sub_jids(a, 'club') == [(B, 'subscribed')]
        a.close()


def test_approval_sends_last_item():
    """XEP-0060 §12 Item Caching: an approved subscriber gets the last published item
    (send_last_published_item on_sub), with a delay stamp."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        authorize_node(a, send_last_published_item='on_sub')
        ok(publish(a, 'club', 'old'))
        bob = online(b, B)
        pending(bob, 'club')
        no_event(bob, 'club')
        answer(a, auth_form(a, 'club'), True)
        assert sub_event(bob, 'club').get('subscription') == 'subscribed'
        m = expect_event(bob, 'club')
        assert [i for _, i, _ in event_items(m)] == ['old'], show(m)
        assert m.find(qn(NS_DELAY, 'delay')) is not None, show(m)
        a.close()


def test_approval_goes_to_every_owner():
    """XEP-0060 §12 Authorizing Subscription Requests: every owner is asked; the first
    answer wins."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        authorize_node(a)
        ok(modify_affs(a, 'club', {'jid': C, 'affiliation': 'owner'}))
        carol = online(b, C)
        bob = online(b, B)
        pending(bob, 'club')
        ma = auth_form(a, 'club')
        mc = auth_form(carol, 'club')
        answer(carol, mc, False)
        assert sub_event(bob, 'club').get('subscription') == 'none'
        answer(a, ma, True)
        no_event(bob, 'club', 'subscription')
        assert sub_jids(a, 'club') == []
        a.close()


# ------------------------------------------------------------------ §8.7 get-pending
def test_get_pending_command():
    """XEP-0060 §8.7.2: the command lists (pubsub#node options) the owner's nodes with
    pending requests; §8.7.4: submitting a node completes the command and re-sends one
    approval form per pending request, which can be answered."""
    with harness.Broker(users=USERS) as b:
        a = online(b, A)
        authorize_node(a, 'club')
        authorize_node(a, 'quiet')
        create(a, 'open')
        bob = online(b, B)
        carol = online(b, C)
        s1 = pending(bob, 'club')
        s2 = pending(carol, 'club')
        a.drain(0.3)
        cmd = command_of(command(a, {'action': 'execute'}))
        assert cmd.get('status') == 'executing' and cmd.get('sessionid'), show(cmd)
        x = cmd.find(X('x'))
        assert x is not None and x.get('type') == 'form', show(cmd)
        assert form_type_of(x) == FT_SUB_AUTH, show(cmd)
        f = next(f for f in x.findall(X('field')) if f.get('var') == 'pubsub#node')
        assert f.get('type') == 'list-single', show(f)
        assert [o.findtext(X('value')) for o in f.findall(X('option'))] == ['club'], show(f)
        sid = cmd.get('sessionid')
        cmd = command_of(command(a, {'sessionid': sid}, form(None, {'pubsub#node': 'club'})))
        assert cmd.get('status') == 'completed' and cmd.get('sessionid') == sid, show(cmd)
        got = {}
        for _ in range(2):
            m = auth_form(a, 'club')
            assert m.get('to') == a.jid, show(m)
            v = form_values(m.find(X('x')))
            got[v['pubsub#subscriber_jid'][0]] = (v['pubsub#subid'][0], m)
        assert {j: s for j, (s, _) in got.items()} == {B: s1.get('subid'), C: s2.get('subid')}
        answer(a, got[C][1], True)
        assert sub_event(carol, 'club').get('subscription') == 'subscribed'
        a.close()


def test_get_pending_nothing_pending():
    """XEP-0060 §8.7.2 (the service MAY list only nodes with pending requests): with none,
    the command completes at once with a note."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        authorize_node(a)
        cmd = command_of(command(a, {}))
        assert cmd.get('status') == 'completed', show(cmd)
        assert cmd.find(qn(NS_COMMANDS, 'note')) is not None, show(cmd)
        assert cmd.find(X('x')) is None, show(cmd)
        a.close()


def test_get_pending_errors():
    """XEP-0060 §8.7.3.3 forbidden (no node whose requests it may approve, or not an owner
    of the node), §8.7.3.4 item-not-found; XEP-0050 §4.4 an unknown command node is
    item-not-found, an unknown action malformed-action, a missing node value bad-payload;
    cancel ends the session (XEP-0050 §2.4.2)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        authorize_node(a)
        bob = b.client(B)
        err(command(bob, {}), 'cancel', 'forbidden')
        create(bob, 'bobs')
        err(command(bob, {'sessionid': 'x'}, form(None, {'pubsub#node': 'club'})),
            'cancel', 'forbidden')
        err(command(a, {'sessionid': 'x'}, form(None, {'pubsub#node': 'nope'})),
            'cancel', 'item-not-found')
        err(command(a, {'node': 'http://jabber.org/protocol/pubsub#nope'}), 'cancel',
            'item-not-found')
        for r, app in ((command(a, {'action': 'dance'}), 'malformed-action'),
                       (command(a, {'sessionid': 'x'}, form(None, {})), 'bad-payload'),
                       (command(a, {'action': 'prev'}), 'bad-action')):
            assert xmpp.error_condition(r) == ('modify', 'bad-request'), show(r)
            assert xmpp.error_app_condition(r) == qn(NS_COMMANDS, app), show(r)
        cmd = command_of(command(a, {'sessionid': 's1', 'action': 'cancel'}))
        assert (cmd.get('status'), cmd.get('sessionid')) == ('canceled', 's1'), show(cmd)
        a.close()


def test_commands_discovery():
    """XEP-0050 §2.1-§2.2: the service advertises commands; disco#items of the commands
    node lists get-pending (§8.7); disco#info on it names a command node."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        r = ok(a.iq(el('iq', {'type': 'get', 'to': PS},
                       el(qn(NS_DISCO_ITEMS, 'query'), {'node': NS_COMMANDS}))))
        q = r.find(qn(NS_DISCO_ITEMS, 'query'))
        assert q.get('node') == NS_COMMANDS, show(r)
        its = [(i.get('jid'), i.get('node')) for i in q.findall(qn(NS_DISCO_ITEMS, 'item'))]
        assert its == [(PS, GET_PENDING)], its
        r = ok(a.iq(el('iq', {'type': 'get', 'to': PS},
                       el(qn(NS_DISCO_INFO, 'query'), {'node': GET_PENDING}))))
        q = r.find(qn(NS_DISCO_INFO, 'query'))
        ids = [(i.get('category'), i.get('type')) for i in q.findall(qn(NS_DISCO_INFO, 'identity'))]
        assert ids == [('automation', 'command-node')], show(r)
        feats = {f.get('var') for f in q.findall(qn(NS_DISCO_INFO, 'feature'))}
        assert NS_COMMANDS in feats and xmpp.NS_DATA in feats, feats
        a.close()


def test_features_advertised():
    """XEP-0060 §10 / §4.1: the owner features implemented here are advertised."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        r = ok(a.iq(el('iq', {'type': 'get', 'to': PS}, el(qn(NS_DISCO_INFO, 'query')))))
        feats = {f.get('var') for f in r.iter(qn(NS_DISCO_INFO, 'feature'))}
        for f in ('manage-subscriptions', 'modify-affiliations', 'retrieve-affiliations',
                  'member-affiliation', 'outcast-affiliation', 'publish-only-affiliation',
                  'publisher-affiliation', 'get-pending', 'subscription-notifications',
                  'create-nodes', 'config-node', 'delete-nodes', 'purge-nodes',
                  'retrieve-default', 'instant-nodes', 'create-and-configure'):
            assert 'http://jabber.org/protocol/pubsub#' + f in feats, f
        assert NS_COMMANDS in feats
        a.close()


# ------------------------------------------------------------------ §8.8 subscriptions
def test_manage_subscriptions_retrieve():
    """XEP-0060 §8.8.1.2: subscribed entities with their SubIDs; pending ones are not
    listed (SHOULD NOT)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        authorize_node(a)
        ok(modify_affs(a, 'club', {'jid': B, 'affiliation': 'member'},
                       {'jid': C, 'affiliation': 'member'}))
        sb = subscription_of(subscribe(b.client(B), 'club'))
        sc1 = subscription_of(subscribe(b.client(C), 'club'))
        opts = {'pubsub#deliver': True}
        sc2 = subscription_of(subscribe(b.client(C), 'club', options=opts))
        pending(b.client(D), 'club')
        got = subs(a, 'club')
        assert got == {(B, sb.get('subid')): 'subscribed', (C, sc1.get('subid')): 'subscribed',
                       (C, sc2.get('subid')): 'subscribed'}, got
        a.close()


def test_manage_subscriptions_errors():
    """XEP-0060 §8.8.1.3: forbidden for a non-owner (get and set), item-not-found;
    nodeid-required without a node."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = b.client(B)
        subscription_of(subscribe(bob, 'news'))
        err(owner(bob, 'get', el(O('subscriptions'), {'node': 'news'})), 'auth', 'forbidden')
        err(modify_subs(bob, 'news', {'jid': C, 'subscription': 'subscribed'}), 'auth',
            'forbidden')
        err(owner(a, 'get', el(O('subscriptions'), {'node': 'nope'})), 'cancel',
            'item-not-found')
        err(modify_subs(a, 'nope', {'jid': C, 'subscription': 'subscribed'}), 'cancel',
            'item-not-found')
        err(owner(a, 'get', el(O('subscriptions'))), 'modify', 'bad-request', 'nodeid-required')
        assert sub_jids(a, 'news') == [(B, 'subscribed')]
        a.close()


def test_manage_subscriptions_modify():
    """XEP-0060 §8.8.2 with several entries: the owner subscribes a new entity and deletes
    a subscriber (§8.8.3); both are notified (§8.8.4); the deleted one gets no more items."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = online(b, B)
        dave = online(b, D)
        subscription_of(subscribe(bob, 'news'))
        ok(modify_subs(a, 'news', {'jid': B, 'subscription': 'none'},
                       {'jid': D, 'subscription': 'subscribed'}))
        e = sub_event(bob, 'news')
        assert (e.get('jid'), e.get('subscription')) == (B, 'none'), show(e)
        e = sub_event(dave, 'news')
        assert (e.get('jid'), e.get('subscription'), e.get('node')) == (D, 'subscribed', 'news')
        assert e.get('subid'), show(e)
        assert sub_jids(a, 'news') == [(D, 'subscribed')]
        ok(publish(a, 'news', 'i1'))
        expect_event(dave, 'news')
        no_event(bob, 'news')
        # Without a 'subscription' attribute nothing changes (§8.8.2.1).
        ok(modify_subs(a, 'news', {'jid': D}))
        assert sub_jids(a, 'news') == [(D, 'subscribed')]
        no_event(dave, 'news', 'subscription')
        a.close()


def test_manage_subscriptions_by_subid():
    """XEP-0060 §8.8.2.4: entries for one JID with distinct SubIDs act on those
    subscriptions only."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = b.client(B)
        s1 = subscription_of(subscribe(bob, 'news'))
        s2 = subscription_of(subscribe(bob, 'news', options={'pubsub#deliver': True}))
        assert s1.get('subid') != s2.get('subid')
        ok(modify_subs(a, 'news', {'jid': B, 'subid': s1.get('subid'), 'subscription': 'none'}))
        assert subs(a, 'news') == {(B, s2.get('subid')): 'subscribed'}
        a.close()


def test_manage_subscriptions_partial_failure():
    """XEP-0060 §8.8.2.4: invalid entries come back in a <not-acceptable/> error with
    their current, unaltered state; the entries not returned are applied."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        ok(modify_affs(a, 'news', {'jid': D, 'affiliation': 'outcast'}))
        bob = online(b, B)
        sb = subscription_of(subscribe(bob, 'news'))
        sc = subscription_of(subscribe(b.client(C), 'news'))
        r = modify_subs(a, 'news', {'jid': B, 'subscription': 'none'},
                        {'jid': D, 'subscription': 'subscribed'},
                        {'jid': C, 'subid': 'nope', 'subscription': 'none'},
                        {'jid': 'not a jid@', 'subscription': 'subscribed'})
        assert xmpp.error_condition(r) == ('modify', 'not-acceptable'), show(r)
        got = sorted((e['jid'], e.get('subid'), e['subscription'])
                     for e in returned(r, 'subscriptions', 'subscription'))
        assert got == [(C, 'nope', 'none'), (D, None, 'none'), ('not a jid@', None, 'none')], got
        assert returned_node(r) == 'news'
        assert sub_event(bob, 'news').get('subscription') == 'none'
        assert subs(a, 'news') == {(C, sc.get('subid')): 'subscribed'}, sb
        a.close()


def returned_node(r):
    return r.find(O('pubsub')).find(O('subscriptions')).get('node')


def test_manage_subscriptions_bad_request():
    """XEP-0060 §8.8.2.4: the same subscription twice (no distinct SubIDs), an unknown
    state or an entry without a JID is a malformed request: <bad-request/>, no change."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = online(b, B)
        s = subscription_of(subscribe(bob, 'news'))
        for entries in (({'jid': B, 'subscription': 'none'}, {'jid': B, 'subscription': 'none'}),
                        ({'jid': B, 'subscription': 'none'},
                         {'jid': B, 'subid': s.get('subid'), 'subscription': 'none'}),
                        ({'jid': B, 'subscription': 'gone'},),
                        ({'subscription': 'none'},)):
            err(modify_subs(a, 'news', *entries), 'modify', 'bad-request')
        assert sub_jids(a, 'news') == [(B, 'subscribed')]
        no_event(bob, 'news', 'subscription')
        a.close()


def test_manage_subscriptions_approves_pending():
    """XEP-0060 §8.8.2 / §8.6: setting a pending subscription to 'subscribed' approves it;
    the subscriber is notified and receives items."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        authorize_node(a)
        bob = online(b, B)
        s = pending(bob, 'club')
        ok(modify_subs(a, 'club', {'jid': B, 'subscription': 'subscribed'}))
        e = sub_event(bob, 'club')
        assert (e.get('subscription'), e.get('subid')) == ('subscribed', s.get('subid')), show(e)
        ok(publish(a, 'club', 'i1'))
        expect_event(bob, 'club')
        a.close()


# ------------------------------------------------------------------ §8.9 affiliations
def test_manage_affiliations_retrieve_and_errors():
    """XEP-0060 §8.9.1.2: every affiliation but none; §8.9.1.3 forbidden, item-not-found;
    nodeid-required."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        assert affs(a, 'news') == {A: 'owner'}
        ok(modify_affs(a, 'news', {'jid': B, 'affiliation': 'publisher'},
                       {'jid': C, 'affiliation': 'outcast'},
                       {'jid': D, 'affiliation': 'none'}))
        assert affs(a, 'news') == {A: 'owner', B: 'publisher', C: 'outcast'}
        bob = b.client(B)
        err(owner(bob, 'get', el(O('affiliations'), {'node': 'news'})), 'auth', 'forbidden')
        err(modify_affs(bob, 'news', {'jid': B, 'affiliation': 'owner'}), 'auth', 'forbidden')
        err(owner(a, 'get', el(O('affiliations'), {'node': 'nope'})), 'cancel', 'item-not-found')
        err(modify_affs(a, 'nope', {'jid': B, 'affiliation': 'member'}), 'cancel',
            'item-not-found')
        err(owner(a, 'get', el(O('affiliations'))), 'modify', 'bad-request', 'nodeid-required')
        assert affs(a, 'news') == {A: 'owner', B: 'publisher', C: 'outcast'}
        a.close()


def test_affiliation_publisher():
    """XEP-0060 §8.9.2 and §4.1: a publisher may publish; §8.9.4 it is told of the change;
    §8.9.3 setting 'none' removes it from the list and the privilege."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = online(b, B)
        err(publish(bob, 'news', 'b1'), 'auth', 'forbidden')
        ok(modify_affs(a, 'news', {'jid': B, 'affiliation': 'publisher'}))
        m = bob.expect(is_aff_notice('news'), timeout=5)
        e = m.find(P('pubsub')).find(P('affiliations')).find(P('affiliation'))
        assert (e.get('jid'), e.get('affiliation')) == (B, 'publisher'), show(m)
        ok(publish(bob, 'news', 'b1'))
        ok(modify_affs(a, 'news', {'jid': B, 'affiliation': 'none'}))
        assert affs(a, 'news') == {A: 'owner'}
        err(publish(bob, 'news', 'b2'), 'auth', 'forbidden')
        a.close()


def test_affiliation_member_on_whitelist():
    """XEP-0060 §4.1 / §4.5: a member may subscribe to and retrieve from a whitelist node;
    others may not."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'wl', cfg_fields(access_model='whitelist'))
        ok(publish(a, 'wl', 'i1'))
        bob = b.client(B)
        err(subscribe(bob, 'wl'), 'cancel', 'not-allowed', 'closed-node')
        ok(modify_affs(a, 'wl', {'jid': B, 'affiliation': 'member'}))
        assert subscription_of(subscribe(bob, 'wl')).get('subscription') == 'subscribed'
        assert item_ids(items(bob, 'wl')) == ['i1']
        err(publish(bob, 'wl', 'b1'), 'auth', 'forbidden')
        a.close()


def test_affiliation_publish_only():
    """XEP-0060 §4.1: publish-only may publish but neither subscribe nor retrieve; a
    subscription it had is removed and it is told so (§8.8.4)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'drop')
        bob = online(b, B)
        subscription_of(subscribe(bob, 'drop'))
        ok(modify_affs(a, 'drop', {'jid': B, 'affiliation': 'publish-only'}))
        assert sub_event(bob, 'drop').get('subscription') == 'none'
        ok(publish(bob, 'drop', 'b1'))
        no_event(bob, 'drop')
        err(subscribe(bob, 'drop'), 'auth', 'forbidden')
        err(items(bob, 'drop'), 'auth', 'forbidden')
        assert sub_jids(a, 'drop') == []
        a.close()


def test_affiliation_outcast_removes_subscriptions():
    """XEP-0060 §4.1: an outcast loses its subscriptions (all of its JIDs), is told so,
    receives nothing more and may not subscribe again."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        bob = online(b, B, 'res')
        subscription_of(subscribe(bob, 'news'))
        subscription_of(subscribe(bob, 'news', jid=bob.jid))
        ok(modify_affs(a, 'news', {'jid': B, 'affiliation': 'outcast'}))
        got = {sub_event(bob, 'news').get('jid'), sub_event(bob, 'news').get('jid')}
        assert got == {B, bob.jid}, got
        assert sub_jids(a, 'news') == []
        ok(publish(a, 'news', 'i1'))
        no_event(bob, 'news')
        err(subscribe(bob, 'news'), 'auth', 'forbidden')
        err(items(bob, 'news'), 'auth', 'forbidden')
        assert affs(a, 'news') == {A: 'owner', B: 'outcast'}
        a.close()


def test_owner_requests_are_bounded():
    """XEP-0060 §8.8.2.4 and §8.9.2.4 allow several entries per request; the service bounds
    how many (1000) so that one stanza costs bounded work: more is a <policy-violation/>
    and changes nothing."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        many = [{'jid': 'u%d@example.org' % i, 'affiliation': 'member'} for i in range(1001)]
        err(modify_affs(a, 'news', *many), 'modify', 'policy-violation')
        assert affs(a, 'news') == {A: 'owner'}
        many = [{'jid': 'u%d@example.org' % i, 'subscription': 'subscribed'}
                for i in range(1001)]
        err(modify_subs(a, 'news', *many), 'modify', 'policy-violation')
        assert subs(a, 'news') == {}
        members = [{'jid': 'u%d@example.org' % i, 'affiliation': 'member'} for i in range(1000)]
        ok(modify_affs(a, 'news', *members))
        assert len(affs(a, 'news')) == 1001
        a.close()


def test_affiliation_last_owner():
    """XEP-0060 §8.9.2.4: the only owner cannot stop being one: that entry comes back in a
    <not-acceptable/> error with its unaltered affiliation; the other entries apply. With a
    second owner, an owner may resign."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        r = modify_affs(a, 'news', {'jid': A, 'affiliation': 'none'},
                        {'jid': B, 'affiliation': 'publisher'})
        assert xmpp.error_condition(r) == ('modify', 'not-acceptable'), show(r)
        assert returned(r, 'affiliations', 'affiliation') == [{'jid': A, 'affiliation': 'owner'}]
        assert affs(a, 'news') == {A: 'owner', B: 'publisher'}
        ok(modify_affs(a, 'news', {'jid': C, 'affiliation': 'owner'}))
        ok(modify_affs(a, 'news', {'jid': A, 'affiliation': 'none'}))
        carol = b.client(C)
        assert affs(carol, 'news') == {C: 'owner', B: 'publisher'}
        err(owner(a, 'get', el(O('affiliations'), {'node': 'news'})), 'auth', 'forbidden')
        a.close()


def test_affiliation_state_chart():
    """XEP-0060 §8.9.2.4 with the §4.1 state chart (MUST-IMPLEMENT): an owner can only
    resign (owner -> publisher is n/a), a publisher cannot become a member; the refused
    entries come back with their current affiliation."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        ok(modify_affs(a, 'news', {'jid': B, 'affiliation': 'publisher'},
                       {'jid': C, 'affiliation': 'owner'}))
        r = modify_affs(a, 'news', {'jid': C, 'affiliation': 'publisher'},
                        {'jid': B, 'affiliation': 'member'},
                        {'jid': D, 'affiliation': 'member'})
        assert xmpp.error_condition(r) == ('modify', 'not-acceptable'), show(r)
        got = sorted((e['jid'], e['affiliation'])
                     for e in returned(r, 'affiliations', 'affiliation'))
        assert got == [(B, 'publisher'), (C, 'owner')], got
        assert affs(a, 'news') == {A: 'owner', B: 'publisher', C: 'owner', D: 'member'}
        a.close()


def test_affiliation_bad_requests():
    """XEP-0060 §8.9.2.4: the same entity twice MUST be <bad-request/>; so are an unknown
    affiliation and an entry without a JID; nothing changes. Without an 'affiliation'
    attribute the value does not change (§8.9.2.1); a full JID stands for its bare JID
    (§4.1: affiliations are bare JIDs)."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        for entries in (({'jid': B, 'affiliation': 'member'},
                         {'jid': B + '/res', 'affiliation': 'publisher'}),
                        ({'jid': B, 'affiliation': 'king'},),
                        ({'affiliation': 'member'},)):
            err(modify_affs(a, 'news', *entries), 'modify', 'bad-request')
        assert affs(a, 'news') == {A: 'owner'}
        ok(modify_affs(a, 'news', {'jid': B}))
        assert affs(a, 'news') == {A: 'owner'}
        ok(modify_affs(a, 'news', {'jid': C + '/desk', 'affiliation': 'member'}))
        assert affs(a, 'news') == {A: 'owner', C: 'member'}
        a.close()


def test_affiliation_approves_pending():
    """XEP-0060 §8.7.4 note: making an entity with a pending request a publisher approves
    it; making one an outcast rejects it; both are notified."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        authorize_node(a)
        bob = online(b, B)
        carol = online(b, C)
        pending(bob, 'club')
        pending(carol, 'club')
        ok(modify_affs(a, 'club', {'jid': B, 'affiliation': 'publisher'},
                       {'jid': C, 'affiliation': 'outcast'}))
        assert sub_event(bob, 'club').get('subscription') == 'subscribed'
        assert sub_event(carol, 'club').get('subscription') == 'none'
        assert sub_jids(a, 'club') == [(B, 'subscribed')]
        ok(publish(a, 'club', 'i1'))
        expect_event(bob, 'club')
        no_event(carol, 'club')
        a.close()


def test_owner_changes_survive_restart():
    """XEP-0060 §8.8-§8.9: affiliation and subscription changes are stored."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'news')
        ok(modify_affs(a, 'news', {'jid': B, 'affiliation': 'publisher'},
                       {'jid': C, 'affiliation': 'outcast'}))
        ok(modify_subs(a, 'news', {'jid': D, 'subscription': 'subscribed'}))
        b.restart()
        a = b.client(A)
        assert affs(a, 'news') == {A: 'owner', B: 'publisher', C: 'outcast'}
        assert sub_jids(a, 'news') == [(D, 'subscribed')]
        a.close()


if __name__ == '__main__':
    harness.main(globals())
