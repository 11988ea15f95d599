"""XEP-0060 §5 entity use cases against the real broker: service and node discovery
(§5.1-§5.5, with XEP-0131's SHIM header discovery) and what an entity may ask about itself
(§5.6 subscriptions, §5.7 affiliations)."""

import re

import harness
from xmpp import el, qn
from pubsub_common import (A, B, C, PS, USERS, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_SHIM,
                           FT_META, NS_OWNER, P, O, X, create, err, form_type_of, form_values,
                           ok, online, presence_subscribe, publish, request, set_affiliation,
                           show, subscribe, subscription_of)

PUBSUB = 'http://jabber.org/protocol/pubsub'
NS_RSM = 'http://jabber.org/protocol/rsm'
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
# The features of §11 this broker implements, besides the two its default configuration
# decides (test_default_dependent_features).
IMPLEMENTED = ['', 'auto-create', 'config-node', 'create-and-configure', 'create-nodes',
               'delete-items', 'delete-nodes', 'get-pending', 'instant-nodes', 'item-ids',
               'manage-subscriptions', 'member-affiliation', 'meta-data', 'modify-affiliations',
               'multi-items', 'multi-subscribe', 'outcast-affiliation', 'persistent-items',
               'presence-notifications', 'publish', 'publish-node-full',
               'publish-only-affiliation', 'publish-options', 'publisher-affiliation',
               'purge-nodes', 'retract-items', 'retrieve-affiliations', 'retrieve-default',
               'retrieve-default-sub', 'retrieve-items', 'retrieve-subscriptions', 'rsm',
               'subscribe', 'subscription-notifications', 'subscription-options']


def default_config(c):
    r = ok(request(c, 'get', el(O('default')), ns=NS_OWNER))
    return form_values(r.find('%s/%s/%s' % (O('pubsub'), O('default'), X('x'))))


def test_service_identity_and_features():
    """XEP-0060 §5.1 and §11: the service answers disco#info with identity pubsub/service
    and exactly the features it implements, each once: among them pubsub#rsm (§6.5.4),
    multi-subscribe (§6.1.6), multi-items and publish-node-full (§7.1.2.4),
    subscription-options (§6.3.1), retrieve-default-sub (§6.4), presence-notifications
    (§13.6), XEP-0050 commands (§8.7) and XEP-0131 SHIM (§13.16); and none it does not (no
    collections, leased-subscription, auto-subscribe, filtered-notifications)."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        r = disco_info(c)
        assert identities(r) == [('pubsub', 'service')], show(r)
        fs = features(r)
        assert len(fs) == len(set(fs)), 'duplicate features: %r' % fs
        want = {PUBSUB + ('#' + f if f else '') for f in IMPLEMENTED}
        want |= {'http://jabber.org/protocol/commands', NS_SHIM, NS_DISCO_INFO, NS_DISCO_ITEMS}
        decided = {f for f in fs if f.startswith(PUBSUB + '#access-')
                   or f == PUBSUB + '#last-published'}
        assert set(fs) - decided == want, (sorted(set(fs) - decided - want),
                                           sorted(want - set(fs)))
        c.close()


def test_default_dependent_features():
    """XEP-0060 §11 (and §15's registry): "access-X" means "the default access model is X"
    (§4.5), so exactly one is advertised, the one of the default node configuration (§8.3);
    "last-published" means the default send_last_published_item is on_sub_and_presence
    (§6.1.7), and is advertised exactly then."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        fs = features(disco_info(c))
        default = default_config(c)
        access = [f for f in fs if f.startswith(PUBSUB + '#access-')]
        assert access == [PUBSUB + '#access-' + default['pubsub#access_model'][0]], (access,
                                                                                    default)
        last = default.get('pubsub#send_last_published_item', [None])[0]
        assert last is not None, default
        assert (PUBSUB + '#last-published' in fs) == (last == 'on_sub_and_presence'), (last, fs)
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


def test_discover_nodes_lists_only_accessible_nodes():
    """XEP-0060 §5.2: disco#items gives the nodes "accessible to the requesting entity".
    A whitelist node is listed to its owner and to entities affiliated with it (a
    publish-only entity publishes there), not to others; an authorize node is listed to
    everyone (subscribing is how access is asked for); a presence node is listed to the
    owner's contacts only; a node that outcasts an entity is not listed to it. The RSM count
    is of the listed nodes. The same holds after a restart, when no node is in memory."""
    with harness.Broker(users=USERS) as b:
        a, bb, cc = online(b, A), b.client(B), online(b, C)
        presence_subscribe(cc, a)  # A's roster: C with 'from', as the presence model asks
        create(a, 'open')
        create(a, 'closed', config={'pubsub#access_model': 'whitelist'})
        create(a, 'asked', config={'pubsub#access_model': 'authorize'})
        create(a, 'friends', config={'pubsub#access_model': 'presence'})
        create(a, 'banned')
        set_affiliation(a, 'banned', B, 'outcast')
        set_affiliation(a, 'closed', C, 'publish-only')

        def listed(c):
            return sorted(i['node'] for i in disco_item_list(disco_items(c)))

        def count(c):
            r = c.iq(el('iq', {'type': 'get', 'to': PS},
                        el(qn(NS_DISCO_ITEMS, 'query'), None,
                           el(qn(NS_RSM, 'set'), None, el(qn(NS_RSM, 'max'), text='0')))))
            return ok(r).findtext('%s/%s/%s' % (qn(NS_DISCO_ITEMS, 'query'),
                                                qn(NS_RSM, 'set'), qn(NS_RSM, 'count')))

        def check():
            assert listed(a) == ['asked', 'banned', 'closed', 'friends', 'open'], listed(a)
            assert listed(bb) == ['asked', 'open'], listed(bb)
            assert listed(cc) == ['asked', 'banned', 'closed', 'friends', 'open'], listed(cc)
            assert count(bb) == '2', count(bb)

        check()
        for c in (a, bb, cc):
            c.close()
        b.restart()
        a, bb, cc = b.client(A), b.client(B), b.client(C)
        check()
        set_affiliation(a, 'closed', B, 'member')
        assert listed(bb) == ['asked', 'closed', 'open'], listed(bb)
        for c in (a, bb, cc):
            c.close()


def test_discover_nodes_in_pages():
    """XEP-0060 §5.2 leaves large node lists to XEP-0030's advice, XEP-0059: <max/> and
    <after/> page through the nodes in a stable order, each page with <first index/>,
    <last/> and <count/> (§2.2); <max>0</max> gives the count alone (§2.5); a page past the
    end is empty (§2.4). Every node is seen exactly once."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        names = ['n%d' % i for i in range(5)]
        for n in names:
            create(c, n)

        def page(**rsm):
            s = el(qn(NS_RSM, 'set'))
            for k, v in rsm.items():
                s.append(el(qn(NS_RSM, k), text=str(v)))
            r = c.iq(el('iq', {'type': 'get', 'to': PS},
                        el(qn(NS_DISCO_ITEMS, 'query'), None, s)))
            q = ok(r).find(qn(NS_DISCO_ITEMS, 'query'))
            got = [i.get('node') for i in q.findall(qn(NS_DISCO_ITEMS, 'item'))]
            st = q.find(qn(NS_RSM, 'set'))
            assert st is not None, show(r)
            first = st.find(qn(NS_RSM, 'first'))
            return got, (first.text if first is not None else None,
                         first.get('index') if first is not None else None,
                         st.findtext(qn(NS_RSM, 'last')), st.findtext(qn(NS_RSM, 'count')))

        seen, after, index = [], None, 0
        while True:
            got, (first, idx, last, count) = page(max=2, **({'after': after} if after else {}))
            assert count == '5', count
            if not got:
                assert (first, last) == (None, None)
                break
            assert (first, last, idx) == (got[0], got[-1], str(index)), (got, first, idx, last)
            seen += got
            index += len(got)
            after = last
        assert sorted(seen) == names and len(seen) == len(set(seen)), seen
        assert page(max=0) == ([], (None, None, None, '5'))
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


def test_node_metadata_lists_every_owner_and_publisher():
    """XEP-0060 §5.4: the meta-data SHOULD include the automatic information "such as ...
    a list of publishers": every owner and publisher is listed, however many (no cut at
    some count)."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        create(c, 'news')
        owners = ['owner%02d@example.org' % i for i in range(70)]
        publishers = ['pub%02d@example.org' % i for i in range(70)]
        entries = [el(O('affiliation'), {'jid': j, 'affiliation': 'owner'}) for j in owners]
        entries += [el(O('affiliation'), {'jid': j, 'affiliation': 'publisher'})
                    for j in publishers]
        ok(request(c, 'set', el(O('affiliations'), {'node': 'news'}, *entries), ns=NS_OWNER))
        m = meta_form(disco_info(c, 'news'))
        assert sorted(m['pubsub#owner']) == sorted(owners + [A]), m['pubsub#owner']
        assert sorted(m['pubsub#publisher']) == sorted(publishers), m['pubsub#publisher']
        c.close()


def test_well_known_disco_nodes_are_no_pubsub_nodes():
    """XEP-0131 §3.2 and XEP-0050 §2.2: the service answers disco at the well-known nodes
    'http://jabber.org/protocol/shim' and 'http://jabber.org/protocol/commands'; a pubsub node
    of such a name could never be discovered, so creating one (§8.1) is a <conflict/> and
    the SHIM discovery keeps working."""
    with harness.Broker(users=USERS) as b:
        c = b.client(A)
        for name in (NS_SHIM, 'http://jabber.org/protocol/commands',
                     PUBSUB + '#get-pending'):
            err(create(c, name, check=False), 'cancel', 'conflict')
            r = publish(c, name, 'x')
            err(r, 'cancel', 'conflict')
        assert NS_SHIM + '#SubID' in features(disco_info(c, NS_SHIM))
        assert disco_item_list(disco_items(c)) == []
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
