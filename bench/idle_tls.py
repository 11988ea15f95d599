#!/usr/bin/python3
"""Memory of idle authenticated TLS sessions (a measurement, not a test).

Starts a broker from the given binary in a temporary directory (through
tests/integration/harness.py), opens N client sessions the way real clients do - TCP,
STARTTLS (TLS 1.3), in-band registration of a fresh account (XEP-0077), SCRAM-SHA-256,
resource binding, initial presence - keeps them all open and idle for a few seconds, and
prints one JSON line: the broker's VmRSS before the first connection and after the last
session settled, and the difference per session.

    /usr/bin/python3 bench/idle_tls.py [--bin build/herald] [-n 1000] [--wait 5]

Each session is its own account (registered in-band), so presence is not broadcast between
sessions and the number measures what one idle session costs. Clients run in a few threads
with blocking sockets (tests/integration/xmpp.py); RLIMIT_NOFILE is raised to fit.
"""

import argparse
import concurrent.futures
import json
import os
import resource
import ssl
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'integration'))

import harness  # noqa: E402
import xmpp  # noqa: E402
from xmpp import el, qn  # noqa: E402

NS_REGISTER = 'jabber:iq:register'


def mem_kb(pid):
    """VmRSS and its anonymous part (RssAnon: heap; the rest is mostly the LMDB map)."""
    out = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            if k in ('VmRSS', 'RssAnon'):
                out[k] = int(v.split()[0])
    if 'VmRSS' not in out:
        raise RuntimeError('no VmRSS for pid %d' % pid)
    return out


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_session(port, i, password, ctx):
    """STARTTLS, register user i in-band, SCRAM-SHA-256, bind, initial presence."""
    c = xmpp.Client('127.0.0.1', port, 'localhost', timeout=60, ssl_context=ctx)
    c.connect()
    c.open_stream()
    c.starttls()
    user = 'idle%06d' % i
    q = el(qn(NS_REGISTER, 'query'), None, el(qn(NS_REGISTER, 'username'), text=user),
           el(qn(NS_REGISTER, 'password'), text=password))
    c.iq(el('iq', {'type': 'set'}, q), check=True)
    c.auth_scram('SCRAM-SHA-256', user, password, gs2_flag='n')
    c.bind('idle')
    c.presence()
    if c.sock.version() is None:
        raise RuntimeError('not TLS')
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--bin', default=os.path.join(HERE, '..', 'build', 'herald'),
                    help='the herald binary (default build/herald)')
    ap.add_argument('-n', '--sessions', type=int, default=1000)
    ap.add_argument('--wait', type=float, default=5.0, help='idle seconds before measuring')
    ap.add_argument('--threads', type=int, default=8)
    args = ap.parse_args()

    os.environ['HERALD_BIN'] = os.path.abspath(args.bin)
    nofile = raise_nofile(args.sessions * 2 + 256)
    if nofile < args.sessions + 64:
        sys.exit('RLIMIT_NOFILE is %d, too low for %d sessions' % (nofile, args.sessions))
    overrides = {
        'registration': 'true',
        'store_sync': 'false',          # registration speed only; nothing here is durable
        'log_level': 'warn',
        'max_connections': str(args.sessions + 100),
        'handshake_timeout': '600',
        # every session registers its own account from 127.0.0.1
        'max_registrations_per_ip': str(args.sessions + 100),
    }
    password = 'idle-password'
    clients = []
    lock = threading.Lock()
    with harness.Broker(overrides=overrides) as b:
        pid = b.proc.pid
        # One context for all (loading a CA store per connection costs the client 40 ms);
        # it checks the broker's own certificate and name.
        ctx = ssl.create_default_context(cafile=b.path('data', 'tls', 'cert.pem'))
        time.sleep(0.5)
        before = mem_kb(pid)
        t0 = time.monotonic()

        def one(i):
            c = open_session(b.port('c2s'), i, password, ctx)
            with lock:
                clients.append(c)
                b._clients.append(c)      # aborted by the harness at stop

        with concurrent.futures.ThreadPoolExecutor(args.threads) as ex:
            for f in concurrent.futures.as_completed([ex.submit(one, i)
                                                      for i in range(args.sessions)]):
                f.result()
        setup = time.monotonic() - t0
        for c in clients:               # whatever the server sent (presence echoes) is read
            c.drain(0)
        time.sleep(args.wait)
        after = mem_kb(pid)
        tls = sorted({c.sock.version() for c in clients})
        alive = sum(1 for c in clients if not (c.eof or c.peer_closed))
        print(json.dumps({
            'bench': 'idle_tls',
            'sessions': len(clients),
            'alive': alive,
            'tls': tls,
            'mechanism': 'SCRAM-SHA-256',
            'rss_before_kb': before['VmRSS'],
            'rss_after_kb': after['VmRSS'],
            'bytes_per_session': round((after['VmRSS'] - before['VmRSS']) * 1024
                                       / max(1, len(clients))),
            'anon_bytes_per_session': round((after.get('RssAnon', 0) - before.get('RssAnon', 0))
                                            * 1024 / max(1, len(clients))),
            'setup_seconds': round(setup, 2),
            'idle_seconds': args.wait,
            'binary': os.environ['HERALD_BIN'],
        }), flush=True)


if __name__ == '__main__':
    main()
