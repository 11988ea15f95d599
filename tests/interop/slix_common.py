"""What the slixmpp interop tests share: the harness import, slixmpp (optional), a bounded
wait for each step, and a client that logs in and stops within those bounds."""

import asyncio
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
import harness  # noqa: E402

try:
    import slixmpp  # noqa: E402
except ImportError:  # pragma: no cover
    slixmpp = None

STEP = 15       # seconds for any single step

logging.basicConfig(level=logging.CRITICAL if os.environ.get('SLIX_DEBUG') != '1'
                    else logging.DEBUG)


def need_slixmpp():
    if slixmpp is None:
        raise harness.Skip('python3-slixmpp is not installed')


def creds_cb(user, password):
    """A SASL credentials callback without channel-binding data: gs2 flag 'n'."""
    def cb(required, optional):
        out = {}
        for v in set(required) | set(optional):
            if v == 'username':
                out[v] = user
            elif v == 'password':
                out[v] = password
            elif v == 'channel_binding':
                out[v] = b''
        return out
    return cb


FATAL = ('failed_all_auth', 'ssl_invalid_chain', 'stream_error')


class SlixPeer:
    """One slixmpp client verifying the broker's real certificate. With scram_only it
    must use SCRAM-SHA-256; with retry_auth a failed mechanism is not the end (slixmpp
    tries the next one), else it is. `failed` resolves with the first fatal event."""

    def __init__(self, b, jid, password, resource, plugins, scram_only=True, retry_auth=False):
        cfg = {}
        if scram_only:
            cfg['feature_mechanisms'] = {'use_mech': 'SCRAM-SHA-256',
                                         'sasl_callback': creds_cb(jid.split('@')[0], password)}
        self.x = slixmpp.ClientXMPP('%s/%s' % (jid, resource), password, plugin_config=cfg)
        self.x.ca_certs = Path(b.path('data', 'tls', 'cert.pem'))
        for p in plugins:
            self.x.register_plugin(p)
        self.bare = jid
        self.failed = asyncio.get_running_loop().create_future()
        for ev in FATAL if retry_auth else FATAL + ('failed_auth',):
            self.x.add_event_handler(ev, self._make_fail(ev))

    def _make_fail(self, ev):
        def handler(arg=None):
            if not self.failed.done():
                self.failed.set_result('%s: %r' % (ev, arg))
        return handler

    async def connect(self, address, direct_tls=False):
        """Connect and wait for the session; False when a fatal event (or the bound) came
        first."""
        started = asyncio.ensure_future(self.x.wait_until('session_start', STEP))
        if direct_tls:
            self.x.connect(address, use_ssl=True, force_starttls=False, disable_starttls=True)
        else:
            self.x.connect(address)
        done, _ = await asyncio.wait({started, self.failed}, timeout=STEP,
                                     return_when=asyncio.FIRST_COMPLETED)
        if started not in done:
            started.cancel()
            return False
        return True

    async def start(self, address, direct_tls=False):
        """connect(), or fail the test saying why."""
        if not await self.connect(address, direct_tls):
            raise AssertionError('%s did not start a session: %s'
                                 % (self.bare, self.failed.result() if self.failed.done()
                                    else 'timeout'))

    async def stop(self):
        fut = asyncio.ensure_future(self.x.wait_until('disconnected', STEP))
        self.x.disconnect()
        try:
            await asyncio.wait_for(fut, STEP)
        except asyncio.TimeoutError:
            self.x.abort()
