"""The herald command (user add/passwd/del, check-config, config-template), the shipped
configuration files, and the process life cycle: SIGTERM, SIGHUP, restarts."""

import configparser
import os
import re
import signal
import subprocess
import time

import harness
import xmpp
from core_helpers import NS_FEATURE_REGISTER, raw, read_file, repo_path
from xmpp import qn

ALICE = ('alice@localhost', 'alice-secret')


def herald(*args, stdin=None, timeout=30):
    return subprocess.run([harness.herald_bin()] + list(args), input=stdin, capture_output=True,
                          text=True, timeout=timeout)


def can_login(b, user, password):
    c = b.client(login=False)
    try:
        c.authenticate(user, password)
    except xmpp.SASLFailure:
        c.close()
        return False
    c.bind()
    c.close()
    return True


def rewrite_conf(b, **changes):
    b.overrides.update(changes)
    with open(b.conf_path, 'w') as f:
        f.write(harness.render_conf(b.settings()))


def reload(b):
    """SIGHUP, and wait for the broker to say it is done."""
    before = sum('configuration reloaded' in x for x in b.log_lines())
    b.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while sum('configuration reloaded' in x for x in b.log_lines()) == before:
        assert time.monotonic() < deadline, 'no reload logged'
        time.sleep(0.05)


# ---------------------------------------------------------------- shipped files
def test_config_template_equals_conf_file():
    """conf/herald.conf is exactly `herald config-template` (regenerate it with
    `herald config-template > conf/herald.conf` when a setting changes)."""
    r = herald('config-template')
    assert r.returncode == 0
    assert r.stdout == read_file(repo_path('conf', 'herald.conf')), \
        'conf/herald.conf is stale: run `herald config-template > conf/herald.conf`'


def test_config_template_is_valid_and_complete():
    """Every setting of the template is accepted by check-config, and every setting the
    template names appears exactly once."""
    r = herald('check-config', '-c', repo_path('conf', 'herald.conf'))
    assert r.returncode == 0, r.stderr
    names = re.findall(r'^([a-z_0-9]+) =', read_file(repo_path('conf', 'herald.conf')), re.M)
    assert len(names) == len(set(names)) and 'domain' in names and 'c2s_listen' in names


def _conf_dict(path):
    out = {}
    for line in read_file(path).splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            k, _, v = line.partition('=')
            out[k.strip()] = v.strip()
    return out


def test_dev_conf():
    """conf/herald-dev.conf: localhost on loopback ports, data in var/herald, registration
    and anonymous on, pubsub.localhost with the demo node; it passes check-config and a
    broker with its settings accepts a registration and an anonymous login."""
    path = repo_path('conf', 'herald-dev.conf')
    r = herald('check-config', '-c', path)
    assert r.returncode == 0, r.stderr
    d = _conf_dict(path)
    assert d['domain'] == 'localhost' and d['data_dir'] == 'var/herald'
    for k in ('c2s_listen', 'c2s_tls_listen', 'c2s_insecure_listen'):
        assert d[k].startswith('127.0.0.1:'), (k, d[k])
    assert d['c2s_listen'] == '127.0.0.1:5222' and d['c2s_tls_listen'] == '127.0.0.1:5223'
    assert d['registration'] == 'true' and d['anonymous'] == 'true'
    assert d['log_level'] == 'info' and d['pubsub_demo_node'] == 'demo'
    assert d['pubsub_services'] == 'pubsub'
    keep = {k: v for k, v in d.items() if k not in ('data_dir', 'c2s_listen', 'c2s_tls_listen',
                                                     'c2s_insecure_listen')}
    with harness.Broker(overrides=keep) as b:
        c = b.client(login=False)
        assert c.feature(qn(NS_FEATURE_REGISTER, 'register')) is not None
        assert 'ANONYMOUS' in c.mechanisms()
        c.login(None, None, mech='ANONYMOUS')
        c.close()


def test_systemd_unit():
    """conf/herald.service: runs as herald, hardened, may write only /var/lib/herald, has
    room for max_connections descriptors, and reloads with SIGHUP."""
    p = configparser.ConfigParser(strict=False, interpolation=None)
    p.optionxform = str
    p.read(repo_path('conf', 'herald.service'))
    s = p['Service']
    assert s['User'] == 'herald'
    assert s['NoNewPrivileges'] == 'yes' and s['ProtectSystem'] == 'strict'
    assert '/var/lib/herald' in s['ReadWritePaths'].split()
    assert int(s['LimitNOFILE']) >= 100000 + 256
    assert re.search(r'kill\s+-HUP\s+\$MAINPID', s['ExecReload']), s['ExecReload']
    assert 'serve' in s['ExecStart'].split()
    assert p['Install']['WantedBy'] == 'multi-user.target'


# ---------------------------------------------------------------- check-config
def test_check_config_good_and_bad(tmpdir=None):
    """check-config: exit 0 for a good file; for a bad one exit 1 and 'FILE:LINE: ...' for
    an unknown setting, a bad value and a value out of range; a missing file fails."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        good = os.path.join(d, 'good.conf')
        with open(good, 'w') as f:
            f.write('# ok\ndomain = example.org\nmax_xml_depth = 40\nregistration = yes\n')
        r = herald('check-config', '-c', good)
        assert r.returncode == 0 and 'OK' in r.stdout, (r.stdout, r.stderr)
        for lineno, bad, what in ((3, 'no_such_setting = 1', 'no_such_setting'),
                                  (2, 'registration = perhaps', 'registration'),
                                  (4, 'max_xml_depth = 1', 'max_xml_depth'),
                                  (3, 'this line has no equals sign', None)):
            path = os.path.join(d, 'bad%d.conf' % lineno)
            lines = ['# header', 'domain = example.org', 'log_level = info', 'anonymous = false']
            lines[lineno - 1] = bad
            with open(path, 'w') as f:
                f.write('\n'.join(lines) + '\n')
            r = herald('check-config', '-c', path)
            assert r.returncode == 1, (bad, r.returncode, r.stdout, r.stderr)
            assert '%s:%d:' % (path, lineno) in r.stderr, (bad, r.stderr)
            if what:
                assert what in r.stderr, r.stderr
        r = herald('check-config', '-c', os.path.join(d, 'missing.conf'))
        assert r.returncode != 0 and 'missing.conf' in r.stderr
        r = herald('check-config', '-c', good, '-o', 'log_level=loud')
        assert r.returncode == 1 and 'log_level' in r.stderr


def test_usage_and_version():
    """herald without a command prints usage (exit 2); --version works."""
    r = herald()
    assert r.returncode == 2 and 'usage' in r.stderr
    r = herald('--version')
    assert r.returncode == 0 and r.stdout.startswith('herald ')
    r = herald('frobnicate')
    assert r.returncode == 2


# ---------------------------------------------------------------- user administration
def test_user_add_passwd_del():
    """herald user add/passwd/del (password as one stdin line): each takes effect on a
    running broker without a restart."""
    with harness.Broker() as b:
        r = b.herald('user', 'add', 'carol@localhost', stdin='Carol pass \u00e9\n')
        assert r.returncode == 0
        assert can_login(b, 'carol', 'Carol pass \u00e9')
        r = b.herald('user', 'add', 'carol', stdin='again\n', check=False)
        assert r.returncode == 1 and 'exists' in r.stderr
        r = b.herald('user', 'passwd', 'carol@localhost', stdin='new-pass\n')
        assert r.returncode == 0
        assert not can_login(b, 'carol', 'Carol pass \u00e9')
        assert can_login(b, 'carol', 'new-pass')
        r = b.herald('user', 'del', 'carol@localhost')
        assert r.returncode == 0
        assert not can_login(b, 'carol', 'new-pass')
        for verb in ('passwd', 'del'):
            r = b.herald('user', verb, 'carol@localhost', stdin='x\n', check=False)
            assert r.returncode == 1 and 'no such account' in r.stderr, (verb, r.stderr)


def test_user_password_never_from_argv():
    """The password is never taken from the command line (other users see argv): an extra
    argument is a usage error and creates nothing."""
    with harness.Broker() as b:
        r = b.herald('user', 'add', 'dave@localhost', 'dave-secret', stdin='', check=False)
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert not can_login(b, 'dave', 'dave-secret')
        r = b.herald('user', 'add', 'dave@localhost', stdin='', check=False)
        assert r.returncode == 1 and 'no password' in r.stderr


def test_user_bad_names():
    """herald user add refuses another domain and an invalid localpart."""
    with harness.Broker() as b:
        r = b.herald('user', 'add', 'eve@example.org', stdin='pw\n', check=False)
        assert r.returncode == 1 and 'domain' in r.stderr
        r = b.herald('user', 'add', 'eve/x@localhost', stdin='pw\n', check=False)
        assert r.returncode == 1
        r = b.herald('user', 'frob', 'eve@localhost', stdin='pw\n', check=False)
        assert r.returncode == 2


# ---------------------------------------------------------------- life cycle
def test_sigterm_graceful_shutdown():
    """RFC 6120 §4.9.3.20: on SIGTERM every stream (bound or still negotiating) gets
    <system-shutdown/> and </stream:stream>; herald exits 0."""
    with harness.Broker(users=[ALICE]) as b:
        s = b.client(*ALICE)
        n = b.client(login=False)
        p = raw(b)
        p.open_stream()
        b.proc.send_signal(signal.SIGTERM)
        for c in (s, n, p):
            assert c.expect_stream_error(require_close_tag=True, require_eof=True) == \
                'system-shutdown'
        assert b.proc.wait(10) == 0
        b.wait_for_log(r'stopped')


def test_sighup_reload_log_level_and_registration():
    """SIGHUP re-reads the reloadable settings: log_level and registration change for new
    streams, while established sessions carry on."""
    with harness.Broker(users=[ALICE], overrides={'log_level': 'notice'}) as b:
        s = b.client(*ALICE)
        c = b.client(login=False)
        assert c.feature(qn(NS_FEATURE_REGISTER, 'register')) is None
        c.close()
        assert not any(' debug ' in x or ' info ' in x for x in b.log_lines())
        rewrite_conf(b, log_level='debug', registration='true')
        reload(b)
        c = b.client(login=False)
        assert c.feature(qn(NS_FEATURE_REGISTER, 'register')) is not None
        c.close()
        assert any(' debug ' in x for x in b.log_lines()), 'log_level=debug not applied'
        assert s.ping('localhost').get('type') == 'result'
        rewrite_conf(b, registration='false')
        reload(b)
        c = b.client(login=False)
        assert c.feature(qn(NS_FEATURE_REGISTER, 'register')) is None
        c.close()
        assert s.ping('localhost').get('type') == 'result'
        s.close()


def test_sighup_with_a_broken_file_keeps_running():
    """SIGHUP with an invalid file: the error is logged, the running settings stay."""
    with harness.Broker(users=[ALICE], expect_log=[r'SIGHUP']) as b:
        s = b.client(*ALICE)
        with open(b.conf_path, 'a') as f:
            f.write('max_xml_depth = banana\n')
        b.proc.send_signal(signal.SIGHUP)
        b.wait_for_log(r'SIGHUP: the configuration has errors')
        assert b.proc.poll() is None
        assert s.ping('localhost').get('type') == 'result'
        s.close()
        with open(b.conf_path, 'w') as f:
            f.write(harness.render_conf(b.settings()))


def test_data_survives_restart():
    """Accounts (added by the CLI or registered in-band) survive a clean restart and a
    SIGKILL: an acknowledged registration is durable."""
    with harness.Broker(users=[ALICE], overrides={'registration': 'true'}) as b:
        from test_register import reg_set
        c = b.client(login=False)
        assert reg_set(c, 'frank', 'frank-pw').get('type') == 'result'
        c.close()
        b.restart()
        assert can_login(b, *ALICE) and can_login(b, 'frank', 'frank-pw')
        c = b.client(login=False)
        assert reg_set(c, 'grace', 'grace-pw').get('type') == 'result'
        c.abort()
        b.kill9()
        assert can_login(b, 'grace', 'grace-pw') and can_login(b, *ALICE)


if __name__ == '__main__':
    harness.main(globals())
