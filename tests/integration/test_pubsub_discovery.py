"""XEP-0060 §5 entity use cases against the real broker: service and node discovery
(§5.1-§5.5, with XEP-0131's SHIM header discovery) and what an entity may ask about itself
(§5.6 subscriptions, §5.7 affiliations)."""

import re

import harness
from xmpp import el, qn
from pubsub_common import (A, B, C, PS, USERS, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_SHIM,
                           FT_META, NS_OWNER, P, O, X, create, err, form_type_of, form_values,
                           ok, publish, request, set_affiliation, show, subscribe,
                           subscription_of)

PUBSUB = 'http://jabber.org/protocol/pubsub'
DATETIME = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$')


def disco_info(c, node=None, to=PS):
    return c.iq(el('iq', {'type': 'get', 'to': to}, el(qn(NS_DISCO_INFO, 'query'), {'node': node})))


def disco_items(c, node=None, to=PS):
    return c.iq(el('iq', {'type': 'get', 'to': to},
                   el(qn(NS_DISCO_ITEMS, 'query'), {'node': node})))


def features(r):
    q = ok(r).find(qn(NS_DISCO_INFO, 'query'))
    return [f.get('var') for f in q.findall(qn(NS_DISCO_INFO, 'feature'))]


def identities(r):
    q = ok(r).find(qn(NS_DISCO_INFO, 'query'))
    return [(i.get('category'), i.get('type')) for i in q.findall(qn(NS_DISCO_INFO, 'identity'))]


def disco_item_list(r):
    q = ok(r).find(qn(NS_DISCO_ITEMS, 'query'))
    return [dict(i.attrib) for i in q.findall(qn(NS_DISCO_ITEMS, 'item'))]


def meta_form(r):
    q = ok(r).find(qn(NS_DISCO_INFO, 'query'))
    forms = [x for x in q.findall(X('x')) if form_type_of(x) == FT_META]
    assert len(forms) == 1, 'expected one meta-data form: ' + show(r)
    assert forms[0].get('type') == 'result', show(forms[0])
    return form_values(forms[0])


# ------------------------------------------------------------------ §5.1
def test_service_identity_and_features():
    """XEP-0060 §5.1: the service answers disco#info with identity pubsub/service and its
    features, each once: the ones this broker implements (§11), including
    pubsub#rsm (§6.5.4), multi-subscribe (§6.1.6), subscription-options (§6.3.1),
    retrieve-default-sub (§6.4) and presence-notifications (§13.6)."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        r = disco_info(c)
        assert identities(r) == [('pubsub', 'service')], show(r)
        fs = features(r)
        assert len(fs) == len(set(fs)), 'duplicate features: %r' % fs
        want = ['', 'access-open', 'access-presence', 'access-roster', 'access-authorize',
                'access-whitelist', 'auto-create', 'create-nodes', 'delete-items',
                'instant-nodes', 'item-ids', 'meta-data', 'multi-subscribe',
                'persistent-items', 'presence-notifications', 'publish', 'publish-options',
                'retract-items', 'retrieve-affiliations', 'retrieve-default-sub',
                'retrieve-items', 'retrieve-subscriptions', 'rsm', 'subscribe',
                'subscription-options']
        for f in want:
            var = PUBSUB + ('#' + f if f else '')
            assert var in fs, '%s missing from %r' % (var, fs)
        assert NS_SHIM in fs, fs          # XEP-0131 §3.1 (SubID headers, XEP-0060 §13.16)
        c.close()


def test_last_published_feature_matches_the_default():
    """XEP-0060 §4.3 and §11: "last-published" means the default send_last_published_item
    is on_sub_and_presence; it is advertised exactly when the default node configuration
    (§8.3) says so."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        fs = features(disco_info(c))
        r = ok(request(c, 'get', el(O('default')), ns=NS_OWNER))
        x = r.find('%s/%s/%s' % (O('pubsub'), O('default'), X('x')))
        default = form_values(x).get('pubsub#send_last_published_item', [None])[0]
        assert default is not None, show(r)
        assert (PUBSUB + '#last-published' in fs) == (default == 'on_sub_and_presence'), \
            (default, fs)
        c.close()


def test_shim_header_support():
    """XEP-0131 §3.2: the SubID header is advertised at the well-known disco node
    'http://jabber.org/protocol/shim'."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        r = disco_info(c, NS_SHIM)
        q = ok(r).find(qn(NS_DISCO_INFO, 'query'))
        assert q.get('node') == NS_SHIM, show(r)
        assert NS_SHIM + '#SubID' in features(r), show(r)
        c.close()


# ------------------------------------------------------------------ §5.2-§5.5
def test_discover_nodes():
    """XEP-0060 §5.2: disco#items on the service lists its nodes, each with the service
    JID and its NodeID."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        assert disco_item_list(disco_items(c)) == []
        create(c, 'news')
        create(c, 'blog')
        got = disco_item_list(disco_items(b.client(B)))
        assert sorted(got, key=lambda i: i['node']) == [
            {'jid': PS, 'node': 'blog'}, {'jid': PS, 'node': 'news'}], got
        c.close()


def test_node_information():
    """XEP-0060 §5.3: disco#info on a node has identity pubsub/leaf and echoes the node;
    an unknown node is <item-not-found/>."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        create(c, 'news')
        r = disco_info(b.client(B), 'news')
        assert ok(r).find(qn(NS_DISCO_INFO, 'query')).get('node') == 'news', show(r)
        assert identities(r) == [('pubsub', 'leaf')], show(r)
        assert PUBSUB in features(r)
        err(disco_info(c, 'nope'), 'cancel', 'item-not-found')
        c.close()


def test_node_metadata():
    """XEP-0060 §5.4: the node's disco#info carries a pubsub#meta-data form (type result)
    with the configuration and the creator, creation date, owners and subscriber count."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        create(c, 'news', {'pubsub#title': 'Daily news', 'pubsub#description': 'What happened',
                           'pubsub#type': 'http://www.w3.org/2005/Atom'})
        bob = b.client(B)
        m = meta_form(disco_info(bob, 'news'))
        assert m['pubsub#title'] == ['Daily news'], m
        assert m['pubsub#description'] == ['What happened'], m
        assert m['pubsub#type'] == ['http://www.w3.org/2005/Atom'], m
        assert m['pubsub#creator'] == [A], m
        assert DATETIME.match(m['pubsub#creation_date'][0]), m
        assert m['pubsub#owner'] == [A], m
        assert m['pubsub#access_model'] == ['open'], m
        assert m['pubsub#num_subscribers'] == ['0'], m
        subscription_of(subscribe(bob, 'news'))
        subscription_of(subscribe(b.client(C), 'news'))
        m = meta_form(disco_info(bob, 'news'))
        assert m['pubsub#num_subscribers'] == ['2'], m
        c.close()


def test_node_metadata_lists_publishers():
    """XEP-0060 §5.4: pubsub#publisher lists the node's publishers (affiliations set by the
    owner, §8.9)."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        create(c, 'news')
        set_affiliation(c, 'news', B, 'publisher')
        m = meta_form(disco_info(c, 'news'))
        assert m['pubsub#publisher'] == [B], m
        assert m['pubsub#owner'] == [A], m
        c.close()


def test_discover_items_of_a_node():
    """XEP-0060 §5.5: disco#items on a node lists its items: the service JID and the
    ItemID as 'name', never a 'node' attribute. The node's access model applies (a
    whitelist node refuses outsiders, §6.5.9.8); an unknown node is <item-not-found/>."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        create(c, 'news')
        for i in ('one', 'two', 'three'):
            ok(publish(c, 'news', i))
        got = disco_item_list(disco_items(b.client(B), 'news'))
        assert sorted(got, key=lambda i: i['name']) == [
            {'jid': PS, 'name': n} for n in ('one', 'three', 'two')], got
        r = disco_items(c, 'news')
        assert ok(r).find(qn(NS_DISCO_ITEMS, 'query')).get('node') == 'news', show(r)
        create(c, 'secret', {'pubsub#access_model': 'whitelist'})
        ok(publish(c, 'secret', 's1'))
        err(disco_items(b.client(C), 'secret'), 'cancel', 'not-allowed', 'closed-node')
        assert [i['name'] for i in disco_item_list(disco_items(c, 'secret'))] == ['s1']
        err(disco_items(c, 'nope'), 'cancel', 'item-not-found')
        c.close()


# ------------------------------------------------------------------ §5.6
def subscriptions(c, node=None):
    r = ok(request(c, 'get', el(P('subscriptions'), {'node': node})))
    s = r.find('%s/%s' % (P('pubsub'), P('subscriptions')))
    assert s is not None, show(r)
    return s, [dict(x.attrib) for x in s.findall(P('subscription'))]


def test_retrieve_subscriptions():
    """XEP-0060 §5.6: all subscriptions of every JID with the requester's bare JID (bare
    and full), each with node, jid, subid and state; a 'node' attribute filters; no
    subscriptions is an empty <subscriptions/>."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        for n in ('n1', 'n2', 'n3'):
            create(a, n)
        bob = b.client(B, resource='laptop')
        s, got = subscriptions(bob)
        assert got == [] and len(s) == 0, show(s)
        s1 = subscription_of(subscribe(bob, 'n1')).get('subid')
        s2 = subscription_of(subscribe(bob, 'n2', jid=bob.jid)).get('subid')
        s3a = subscription_of(subscribe(bob, 'n3')).get('subid')
        s3b = subscription_of(subscribe(bob, 'n3', options={'pubsub#deliver': True})).get('subid')
        assert len({s1, s2, s3a, s3b}) == 4 and all((s1, s2, s3a, s3b))
        other = b.client(B, resource='phone')        # any resource sees them all
        _, got = subscriptions(other)
        key = lambda d: (d['node'], d['subid'])      # noqa: E731
        assert sorted(got, key=key) == sorted([
            {'node': 'n1', 'jid': B, 'subid': s1, 'subscription': 'subscribed'},
            {'node': 'n2', 'jid': bob.jid, 'subid': s2, 'subscription': 'subscribed'},
            {'node': 'n3', 'jid': B, 'subid': s3a, 'subscription': 'subscribed'},
            {'node': 'n3', 'jid': B, 'subid': s3b, 'subscription': 'subscribed'}], key=key), got
        s, got = subscriptions(other, 'n3')
        assert s.get('node') == 'n3', show(s)
        assert sorted(d['subid'] for d in got) == sorted([s3a, s3b]), got
        _, got = subscriptions(b.client(C))
        assert got == []
        a.close()


def test_retrieve_pending_subscription_state():
    """XEP-0060 §5.6 with §6.1.4: a subscription awaiting approval is listed as pending."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'club', {'pubsub#access_model': 'authorize'})
        bob = b.client(B)
        assert subscription_of(subscribe(bob, 'club')).get('subscription') == 'pending'
        _, got = subscriptions(bob)
        assert [(d['node'], d['jid'], d['subscription']) for d in got] == \
            [('club', B, 'pending')], got
        a.close()


# ------------------------------------------------------------------ §5.7
def affiliations(c, node=None):
    r = ok(request(c, 'get', el(P('affiliations'), {'node': node})))
    s = r.find('%s/%s' % (P('pubsub'), P('affiliations')))
    assert s is not None, show(r)
    return [dict(x.attrib) for x in s.findall(P('affiliation'))]


def test_retrieve_affiliations():
    """XEP-0060 §5.7: the requester's affiliations with every node (node, affiliation);
    a 'node' attribute filters; none is an empty <affiliations/>."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        create(a, 'n1')
        create(a, 'n2')
        got = affiliations(a)
        assert sorted(got, key=lambda d: d['node']) == [
            {'node': 'n1', 'affiliation': 'owner'}, {'node': 'n2', 'affiliation': 'owner'}], got
        assert affiliations(a, 'n2') == [{'node': 'n2', 'affiliation': 'owner'}]
        assert affiliations(a, 'nope') == []
        assert affiliations(b.client(B)) == []
        a.close()


def test_retrieve_affiliations_set_by_owner():
    """XEP-0060 §5.7: affiliations an owner gave (§8.9: publisher, outcast, member) are
    what the entity sees."""
    with harness.Broker(users=USERS) as b:
        a = b.client(A)
        for n in ('n1', 'n2', 'n3'):
            create(a, n)
        set_affiliation(a, 'n1', B, 'publisher')
        set_affiliation(a, 'n2', B, 'outcast')
        set_affiliation(a, 'n3', B, 'member')
        got = affiliations(b.client(B))
        assert sorted(got, key=lambda d: d['node']) == [
            {'node': 'n1', 'affiliation': 'publisher'}, {'node': 'n2', 'affiliation': 'outcast'},
            {'node': 'n3', 'affiliation': 'member'}], got
        a.close()


if __name__ == '__main__':
    harness.main(globals())
