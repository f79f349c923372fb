"""
mxshield --check-config: the shipped configurations pass; a bad file
fails with exit status 1 and one "FILE:LINE: KEY: what" line on stderr
per problem, every problem at once (DESIGN.md "Contracts").

  MXSHIELD_BIN  binary under test (default: build/mxshield of this checkout)

Each case writes its file into pytest's tmp_path; expected lines and keys
are typed by hand, and a line number is the line of the file as written
below (the first line of a case's text is line 1).
"""

import glob
import os
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("MXSHIELD_BIN") or os.path.join(REPO, "build", "mxshield")

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer")


def check(path):
    if not os.path.exists(BIN):
        pytest.fail("%s is not built (make build, or set MXSHIELD_BIN)" % BIN)
    r = subprocess.run([BIN, "--check-config", "-c", str(path)], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        assert mark not in err, err
    return r.returncode, out, err


def write(tmp_path, text, name="mxshield.conf"):
    p = tmp_path / name
    p.write_text(text)
    return p


def assert_ok(path):
    rc, out, err = check(path)
    assert (rc, out, err) == (0, "%s: OK\n" % path, ""), (rc, out, err)


def assert_problems(path, expected):
    """expected: (line, key, fragment) for each problem, in any order;
    stderr must hold exactly one line for each, and nothing else."""
    rc, out, err = check(path)
    assert rc == 1, (rc, out, err)
    assert out == "", out
    lines = err.splitlines()
    for line, key, fragment in expected:
        head = "%s:%d: %s: " % (path, line, key)
        hits = [l for l in lines if l.startswith(head) and fragment in l]
        assert hits, "no %r ... %r in stderr:\n%s" % (head, fragment, err)
    assert len(lines) == len(expected), "expected %d problem lines:\n%s" % (len(expected), err)


# --------------------------------------------------------------------------
# Files that pass
# --------------------------------------------------------------------------

SHIPPED = sorted(glob.glob(os.path.join(REPO, "deploy", "**", "*.conf"), recursive=True))


def test_reference_and_dev_configs_exist():
    names = [os.path.relpath(p, REPO) for p in SHIPPED]
    assert "deploy/mxshield.conf" in names and "deploy/dev.conf" in names, names


@pytest.mark.parametrize("path", SHIPPED, ids=[os.path.relpath(p, REPO) for p in SHIPPED])
def test_shipped_config_passes(path):
    assert_ok(path)


def test_reference_config_names_every_key():
    """deploy/mxshield.conf shows every key: each one the loader knows
    appears there, set or commented out."""
    with open(os.path.join(REPO, "deploy", "mxshield.conf")) as f:
        text = f.read()
    for key in ("hostname", "workers", "shutdown_timeout", "listen", "address", "port",
                "proxy_protocol", "submission", "trusted_proxies", "backend", "client_info",
                "connect_timeout", "reply_timeout", "data_reply_timeout",
                "proxy_protocol_version", "tls_verify", "tls_ca_file", "tls_server_name",
                "cert_file", "key_file", "handshake_timeout", "max_connections", "max_per_ip",
                "command_timeout", "data_timeout", "max_command_line", "max_auth_line",
                "max_header_bytes", "max_held_bytes", "max_errors", "max_junk_commands",
                "max_recipients", "bare_lf", "local_domains", "trusted_networks",
                "own_addresses", "reject_bare_ip", "literal_must_match", "reject_own_identity",
                "require_fqdn", "reject_at", "ip_shield", "enabled", "check_from_header",
                "entries", "domain", "networks", "require_for_local_senders", "except_to_local",
                "match_envelope", "match_from_header", "require_tls", "add_header", "aliases",
                "identity", "addresses", "hijack", "max_messages", "window", "state_file",
                "size_limits", "max", "except", "spoof", "threshold", "action", "warning_file",
                "weights", "format", "level", "transcript", "mode", "control", "socket"):
        assert "%s =" % key in text, key


GOOD = {
    "empty": "",
    "comments only": "# nothing\n// nothing\n/* nothing */\n",
    "minimal": 'listen = ( { address = "127.0.0.1"; port = 2525; } );\n'
               'backend = { address = "127.0.0.1"; port = 2526; };\n',
    "ipv6 and several listeners":
        'listen = ( { address = "::"; port = 25; }, { address = "127.0.0.1"; port = 2525; } );\n'
        'backend = { address = "::1"; port = 2526; };\n',
    "empty lists as arrays": "listen = ( { port = 25; } );\nsize_limits = [ ];\n"
                             "ip_shield = { entries = [ ]; };\nauth = { aliases = [ ]; };\n",
    "monitor mode, text logs": 'mode = "monitor";\n'
                               'log = { format = "text"; level = "debug"; transcript = true; };\n',
    "every enum value that is supported":
        'limits = { bare_lf = "normalize"; };\nhelo = { reject_at = "helo"; };\n'
        'spoof = { action = "reject"; };\nbackend = { client_info = "none"; };\n'
        'log = { level = "error"; };\n',
    "tuning of features that are off":
        'hijack = { max_messages = 50; window = 600; state_file = "/var/lib/mxshield/h"; };\n'
        'auth = { add_header = true; except_to_local = true;\n'
        '  aliases = ( { identity = "jdoe"; addresses = [ "john@example.com", "@example.org" ]; } ); };\n'
        'ip_shield = { check_from_header = false;\n'
        '  entries = ( { domain = "$LOCALDOMAIN$"; networks = [ "192.168.0.*", "10.1.0.0/16" ]; },\n'
        '              { domain = "Example.ORG"; networks = [ "2001:db8::/32", "203.0.113.7" ]; } ); };\n'
        'local_domains = [ "example.com", "Mail.Example.NET" ];\n'
        'tls = { cert_file = "/etc/mxshield/cert.pem"; key_file = "/etc/mxshield/key.pem";\n'
        '        handshake_timeout = 5; };\n'
        'backend = { tls_verify = false; tls_ca_file = "/etc/ssl/ca.pem";\n'
        '            tls_server_name = "mail.internal.example"; proxy_protocol_version = 2; };\n'
        'spoof = { threshold = 5; warning_file = "/etc/mxshield/warning.txt";\n'
        '          weights = { display_name = 5; lookalike = -2; anything_else = 0; }; };\n'
        'control = { socket = "/run/mxshield/control.sock"; };\n',
    "hijack detection on":
        'hijack = { enabled = true; max_messages = 3; window = 60;\n'
        '           state_file = "/var/lib/mxshield/hijack.state"; };\n'
        'control = { socket = "/run/mxshield/control.sock"; };\n',
    "networks in every form":
        'trusted_networks = [ "10.0.0.0/8", "192.168.0.*", "172.16.*.*", "192.0.2.1",\n'
        '                     "::1", "fe80::/10", "::ffff:10.0.0.0/104", "0.0.0.0/0" ];\n'
        'own_addresses = [ "203.0.113.25" ];\ntrusted_proxies = ( "127.0.0.1/32" );\n',
    "64-bit and limit edges":
        "limits = { max_held_bytes = 5000000000L; max_command_line = 512;\n"
        "           max_auth_line = 12288; max_header_bytes = 1024; max_recipients = 100; };\n"
        "workers = 64;\nshutdown_timeout = 0;\n",
    "hex integers": "listen = ( { port = 0x19; } );\n",
    "envelope policy switched on":
        'local_domains = [ "example.com" ];\n'
        'listen = ( { port = 25; }, { port = 587; submission = true; } );\n'
        'helo = { reject_bare_ip = true; literal_must_match = true; reject_own_identity = true;\n'
        '         require_fqdn = true; reject_at = "mail"; };\n'
        'ip_shield = { enabled = true; entries = ( { domain = "*.example.com"; networks = [ "10.0.0.0/8" ]; } ); };\n'
        'auth = { require_for_local_senders = true; except_to_local = true; match_envelope = true; };\n',
    "backend by host name (resolved at start)":
        'backend = { address = "mail.internal.example"; port = 2525; };\n',
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_file_passes(tmp_path, name):
    assert_ok(write(tmp_path, GOOD[name]))


# --------------------------------------------------------------------------
# Files that fail: (text, [(line, key, fragment), ...])
# --------------------------------------------------------------------------

BAD = {
    "unknown top-level key": (
        'hostname = "mx.example.com";\nhostnme = "typo.example.com";\n',
        [(2, "hostnme", "unknown key")]),
    "unknown key in a group": (
        "limits = {\n  max_errors = 5;\n  max_eror = 5;\n};\n",
        [(3, "limits.max_eror", "unknown key")]),
    "unknown key in a list element": (
        'listen = ( { address = "127.0.0.1"; port = 2527; },\n'
        '           { address = "127.0.0.1"; port = 2528; tsl = "none"; } );\n',
        [(2, "listen[1].tsl", "unknown key")]),
    "unknown key two levels down": (
        'ip_shield = {\n  entries = (\n    { domain = "example.com"; networks = [ "10.0.0.0/8" ];\n'
        '      network = "10.0.0.0/8"; }\n  );\n};\n',
        [(4, "ip_shield.entries[0].network", "unknown key")]),
    "wrong type: string for int": (
        'backend = { port = "25"; };\n',
        [(1, "backend.port", "expected an integer, got a string")]),
    "wrong type: int for bool": (
        "log = { transcript = 1; };\n",
        [(1, "log.transcript", "expected true or false, got an integer")]),
    "wrong type: float for int": (
        "limits = { max_errors = 2.5; };\n",
        [(1, "limits.max_errors", "expected an integer, got a float")]),
    "wrong type: string for list": (
        'local_domains = "example.com";\n',
        [(1, "local_domains", "expected a list of strings")]),
    "wrong type: group for list of groups": (
        "listen = { port = 25; };\n",
        [(1, "listen", "expected a list of groups")]),
    "wrong type: scalar for group": (
        "limits = 5;\n",
        [(1, "limits", "expected a group")]),
    "wrong type: list element": (
        'trusted_networks = [ "10.0.0.0/8" ];\nlisten = ( { port = 25; },\n  "127.0.0.1:25" );\n',
        [(3, "listen[1]", "expected a group")]),
    "wrong type: int in a string list": (
        "local_domains = ( \"example.com\", 5 );\n",
        [(1, "local_domains[1]", "expected a string, got an integer")]),
    "port 0": (
        "listen = ( { port = 0; } );\n",
        [(1, "listen[0].port", "out of range")]),
    "port 65536": (
        "listen = ( { port = 25; } );\nbackend = { port = 65536; };\n",
        [(2, "backend.port", "out of range")]),
    "negative limit": (
        "limits = { max_connections = -1; };\n",
        [(1, "limits.max_connections", "out of range")]),
    "zero limit": (
        "limits = { max_errors = 0; };\n",
        [(1, "limits.max_errors", "out of range")]),
    "too many workers": (
        "workers = 65;\n",
        [(1, "workers", "out of range")]),
    "proxy_protocol_version 3": (
        "backend = { proxy_protocol_version = 3; };\n",
        [(1, "backend.proxy_protocol_version", "out of range")]),
    "32-bit overflow without L": (
        "limits = { max_held_bytes = 5000000000; };\n",
        [(1, "limits.max_held_bytes", "5000000000L")]),
    "32-bit overflow that would wrap into range": (
        "limits = {\n  max_connections = 4294967396;\n};\n",
        [(2, "limits.max_connections", "4294967396 is out of range")]),
    "CIDR with host bits set": (
        'trusted_networks = [ "10.0.0.0/8",\n  "192.168.1.1/24" ];\n',
        [(2, "trusted_networks[1]", "did you mean 192.168.1.0/24?")]),
    "bad CIDR": (
        'trusted_proxies = [ "10.0.0.0/33" ];\n',
        [(1, "trusted_proxies[0]", "not an address")]),
    "bad network": (
        'own_addresses = [ "mx.example.com" ];\n',
        [(1, "own_addresses[0]", "not an address")]),
    "wildcard in the middle": (
        'ip_shield = { entries = ( { domain = "example.com"; networks = [ "192.*.0.1" ]; } ); };\n',
        [(1, "ip_shield.entries[0].networks[0]", "not an address")]),
    "listen address not an IP": (
        'listen = ( { address = "localhost"; port = 25; } );\n',
        [(1, "listen[0].address", "not an IP address")]),
    "bad enum: bare_lf": (
        'limits = { bare_lf = "accept"; };\n',
        [(1, "limits.bare_lf", '"accept" is not one of reject, normalize')]),
    "bad enum: log.format": (
        'log = { format = "JSON"; };\n',
        [(1, "log.format", "is not one of json, text")]),
    "bad enum: log.level": (
        'log = { level = "warning"; };\n',
        [(1, "log.level", "is not one of error, warn, info, debug")]),
    "bad enum: mode": (
        'mode = "enforcing";\n',
        [(1, "mode", "is not one of enforce, monitor")]),
    "bad enum: reject_at": (
        'helo = { reject_at = "data"; };\n',
        [(1, "helo.reject_at", "is not one of helo, mail, rcpt")]),
    "bad enum: spoof.action": (
        'spoof = { action = "drop"; };\n',
        [(1, "spoof.action", "is not one of append, header, subject, reject")]),
    "bad enum: tls": (
        'listen = ( { port = 25; tls = "ssl"; } );\n',
        [(1, "listen[0].tls", "is not one of none, starttls, implicit")]),
    "bad enum: client_info": (
        'backend = { client_info = "xforward"; };\n',
        [(1, "backend.client_info", "is not one of none, received, xclient, proxy")]),
    "bad local domain": (
        'local_domains = [ "example.com", "example", "-bad.example.com", "a b.example" ];\n',
        [(1, "local_domains[1]", "not a domain name"),
         (1, "local_domains[2]", "not a domain name"),
         (1, "local_domains[3]", "not a domain name")]),
    "bad hostname": (
        'hostname = "mx_1.example.com";\n',
        [(1, "hostname", "not a host name")]),
    "empty path": (
        'tls = { cert_file = ""; key_file = "/k.pem"; };\n',
        [(1, "tls.cert_file", "must not be empty")]),
    "missing required key in a list element": (
        'ip_shield = { entries = (\n  { networks = [ "10.0.0.0/8" ]; } ); };\n',
        [(2, "ip_shield.entries[0].domain", "missing")]),
    "bad alias address": (
        'auth = { aliases = ( { identity = "jdoe"; addresses = [ "jdoe" ]; } ); };\n',
        [(1, "auth.aliases[0].addresses[0]", "not an address")]),
    "spoof weight not an int": (
        'spoof = { weights = { display_name = "5"; }; };\n',
        [(1, "spoof.weights.display_name", "expected an integer")]),
    "no listener": (
        "listen = ( );\n",
        [(1, "listen", "at least one listener")]),
    "same listener twice": (
        'listen = ( { address = "127.0.0.1"; port = 2527; },\n'
        '           { address = "127.0.0.1"; port = 2527; } );\n',
        [(2, "listen[1]", "listen[0] again")]),
    "backend is our own listener": (
        'listen = ( { address = "0.0.0.0"; port = 2525; } );\n'
        'backend = { address = "127.0.0.1"; port = 2525; };\n',
        [(2, "backend", "own listen[0]")]),
    "default backend is our own listener": (
        'listen = ( { address = "127.0.0.1"; port = 2526; },\n'
        '           { address = "127.0.0.1"; port = 2525; } );\n',
        [(2, "backend", "127.0.0.1 port 2525 (the default) is mxshield's own listen[1]")]),
    "certificate without key": (
        'tls = {\n  cert_file = "/etc/mxshield/cert.pem";\n};\n',
        [(1, "tls.key_file", "missing")]),
    "held bytes below one header section": (
        "limits = {\n  max_header_bytes = 65536;\n  max_held_bytes = 4096;\n};\n",
        [(3, "limits.max_held_bytes", "smaller than limits.max_header_bytes")]),
    "$LOCALDOMAIN$ without local domains": (
        'ip_shield = { entries = (\n  { domain = "$LOCALDOMAIN$"; networks = [ "10.0.0.0/8" ]; } ); };\n',
        [(2, "ip_shield.entries[0].domain", "local_domains is empty")]),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_fails(tmp_path, name):
    text, expected = BAD[name]
    assert_problems(write(tmp_path, text), expected)


# Each value that would switch on a feature not built yet.
NOT_YET = [
    ("auth = { match_from_header = true; };\n", "auth.match_from_header"),
    ("ip_shield = { check_from_header = true; };\n", "ip_shield.check_from_header"),
    ("size_limits = ( { max = 2000000; except = [ \"boss@example.com\" ]; } );\n", "size_limits"),
    ("spoof = { enabled = true; };\n", "spoof.enabled"),
]


@pytest.mark.parametrize("text,key", NOT_YET, ids=["%s-%d" % (k, i) for i, (t, k) in enumerate(NOT_YET)])
def test_not_supported_yet(tmp_path, text, key):
    assert_problems(write(tmp_path, "# a feature not built yet\n" + text),
                    [(2, key, "not supported yet")])


def test_every_problem_at_once(tmp_path):
    p = write(tmp_path, "\n".join([
        'hostname = "mx.example.com";',                     # 1
        "bogus = 1;",                                       # 2
        "listen = ( { port = 70000; extra = true; } );",    # 3
        'backend = { port = "x"; client_info = "bogus"; };',  # 4
        'trusted_networks = [ "10.0.0.1/8", "nonsense" ];',  # 5
        'log = { format = "xml"; };',                       # 6
        "spoof = { enabled = true; threshold = 0; };",      # 7
    ]) + "\n")
    assert_problems(p, [
        (2, "bogus", "unknown key"),
        (3, "listen[0].port", "out of range"),
        (3, "listen[0].extra", "unknown key"),
        (4, "backend.port", "expected an integer"),
        (4, "backend.client_info", "not one of"),
        (5, "trusted_networks[0]", "host bits"),
        (5, "trusted_networks[1]", "not an address"),
        (6, "log.format", "not one of"),
        (7, "spoof.enabled", "not supported yet"),
        (7, "spoof.threshold", "out of range"),
    ])


def test_syntax_error(tmp_path):
    p = write(tmp_path, 'hostname = "mx.example.com";\nworkers = ;\n')
    rc, out, err = check(p)
    assert rc == 1 and out == "", (rc, out, err)
    assert err.startswith("%s:2: " % p), err
    assert "syntax error" in err, err


def test_unterminated_group(tmp_path):
    p = write(tmp_path, "limits = {\n  max_errors = 5;\n\nlog = { };\n")
    rc, out, err = check(p)
    assert rc == 1 and err.startswith("%s:" % p), (rc, out, err)


def test_duplicate_key(tmp_path):
    p = write(tmp_path, "workers = 1;\nworkers = 2;\n")
    rc, out, err = check(p)
    assert rc == 1 and err.startswith("%s:2: " % p), (rc, out, err)


def test_missing_file(tmp_path):
    p = tmp_path / "absent.conf"
    rc, out, err = check(p)
    assert rc == 1 and out == "", (rc, out, err)
    assert str(p) in err, err


def test_include_names_the_included_file(tmp_path):
    (tmp_path / "conf.d").mkdir()
    write(tmp_path, "limits = {\n  max_errors = 5;\n  max_eror = 5;\n};\n", "conf.d/limits.conf")
    p = write(tmp_path, 'hostname = "mx.example.com";\n@include "conf.d/limits.conf"\n')
    rc, out, err = check(p)
    assert rc == 1, (rc, out, err)
    assert err == "%s:3: limits.max_eror: unknown key\n" % (tmp_path / "conf.d" / "limits.conf"), err
