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
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

import smtpkit
from conftest import machine_log_warning, strip_machine_warnings

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("MXSHIELD_BIN") or os.path.join(REPO, "build", "mxshield")

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer")


def check(path, cwd=None):
    if not os.path.exists(BIN):
        pytest.fail("%s is not built (make build, or set MXSHIELD_BIN)" % BIN)
    r = subprocess.run([BIN, "--check-config", "-c", str(path)], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30, cwd=cwd)
    out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        assert mark not in err, err
    return r.returncode, out, strip_machine_warnings(err)


def write(tmp_path, text, name="mxshield.conf"):
    p = tmp_path / name
    p.write_text(text)
    return p


# The warning of a backend that sees every client as mxshield (client_info
# "received", the default) on a loopback or private address.
RELAY = 'backend.client_info: "received"'


def assert_ok(path, warnings=(), cwd=None):
    """Exit 0 and "FILE: OK"; stderr holds exactly one "warning: " line
    for each fragment in warnings, and nothing else."""
    rc, out, err = check(path, cwd)
    assert (rc, out) == (0, "%s: OK\n" % path), (rc, out, err)
    lines = err.splitlines()
    for fragment in warnings:
        assert [l for l in lines if l.startswith("warning: ") and fragment in l], \
            "no warning with %r in stderr:\n%s" % (fragment, err)
    assert len(lines) == len(warnings), "expected %d warning lines:\n%s" % (len(warnings), err)
    return lines


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


# Shipped files whose backend is on loopback or a private address with
# client_info "received":
# the warning is meant for them as for any such file. (deploy/compose.conf
# uses xclient: no warning.)
SHIPPED_WARNINGS = {"deploy/mxshield.conf": [RELAY], "deploy/dev.conf": [RELAY]}


@pytest.mark.parametrize("path", SHIPPED, ids=[os.path.relpath(p, REPO) for p in SHIPPED])
def test_shipped_config_passes(path, tmp_path):
    # dev.conf's relative paths (run/control.sock) are relative to where
    # `make run` starts mxshield: tools/run-dev.sh creates run/ first
    (tmp_path / "run").mkdir()
    assert_ok(path, SHIPPED_WARNINGS.get(os.path.relpath(path, REPO), []), cwd=tmp_path)


def test_dev_conf_needs_the_run_folder(tmp_path):
    rc, out, err = check(os.path.join(REPO, "deploy", "dev.conf"), cwd=tmp_path)
    assert rc == 1 and "control.socket: directory run: No such file or directory" in err, err


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
                "weights", "format", "level", "transcript", "mode", "control", "socket",
                "relay_protection", "relay_protection_mode", "count", "exempt",
                "forbid_unauth_pipelining", "proxy_timeout", "size_limits_mode",
                "subject_prefix", "spf", "helo_check", "reject_fail", "softfail", "timeout",
                "on_dns_error"):
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
        '          weights = { display_name_address = 5; bad_date = 0; }; };\n'
        'control = { socket = "@TMP@/control.sock"; };\n',
    "hijack detection on":
        'hijack = { enabled = true; max_messages = 3; window = 60;\n'
        '           state_file = "@TMP@/hijack.state"; };\n'
        'control = { socket = "@TMP@/control.sock"; };\n',
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
    "From: header checks switched on":
        'local_domains = [ "example.com" ];\n'
        'ip_shield = { enabled = true; check_from_header = true; mode = "monitor";\n'
        '  entries = ( { domain = "$LOCALDOMAIN$"; networks = [ "10.0.0.0/8" ]; } ); };\n'
        'auth = { match_envelope = true; match_from_header = true; };\n',
    "spoof score switched on":
        'local_domains = [ "example.com" ];\n'
        'spoof = { enabled = true; threshold = 25; action = "subject"; mode = "monitor";\n'
        '          subject_prefix = "[SPOOF] "; weights = { source_route = 25; no_received = 0; }; };\n',
    "SPF switched on":
        'local_domains = [ "example.com" ];\n'
        'spf = { enabled = true; helo_check = true; reject_fail = true; softfail = "tempfail";\n'
        '        timeout = 30; mode = "monitor"; };\non_dns_error = "accept";\n'
        'spoof = { weights = { spf_fail_local = 10; }; };\n',
    "size limits with exemptions":
        'size_limits = ( { max = 2000000; except = [ "boss@example.com", "@partner.example.net" ]; },\n'
        '                { max = 50000000; } );\nsize_limits_mode = "monitor";\n',
    "backend by host name (resolved at start)":
        'backend = { address = "localhost"; port = 2525; };\n',
    "a public backend address on the listener's port":
        'listen = ( { address = "0.0.0.0"; port = 25; } );\n'
        'backend = { address = "203.0.113.25"; port = 25; };\n',
}

# GOOD files whose backend is not on loopback with client_info "received"
GOOD_QUIET = {"every enum value that is supported", "a public backend address on the listener's port"}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_file_passes(tmp_path, name):
    # @TMP@: a directory that exists, for the state file and the socket
    text = GOOD[name].replace("@TMP@", str(tmp_path))
    assert_ok(write(tmp_path, text), [] if name in GOOD_QUIET else [RELAY])


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
    "bad enum: spf.softfail": (
        'spf = { enabled = true;\n  softfail = "greylist"; };\n',
        [(2, "spf.softfail", '"greylist" is not one of accept, tempfail, reject')]),
    "bad enum: on_dns_error": (
        'on_dns_error = "reject";\n',
        [(1, "on_dns_error", '"reject" is not one of tempfail, accept')]),
    "spf.timeout out of range": (
        'spf = { timeout = 0; };\n',
        [(1, "spf.timeout", "0 is out of range (1 to 300")]),
    "spf.enabled not a bool": (
        'spf = { enabled = "yes"; };\n',
        [(1, "spf.enabled", "expected true or false")]),
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
    "spoof weight of no sign": (
        'spoof = { weights = { display_name = 5; }; };\n',
        [(1, "spoof.weights.display_name", 'unknown sign "display_name"; the signs are: '
          "source_route, display_name_address")]),
    "spoof weight below 0": (
        'spoof = { weights = { bad_date = -2; }; };\n',
        [(1, "spoof.weights.bad_date", "-2 is out of range (0 to 25")]),
    "spoof threshold above the cap": (
        'spoof = { enabled = true;\n  threshold = 26; };\n',
        [(2, "spoof.threshold", "26 is above 25: the score is capped at 25")]),
    "spoof subject prefix not ASCII": (
        'spoof = { subject_prefix = "[Fälschung] "; };\n',
        [(1, "spoof.subject_prefix", "must be printable ASCII")]),
    "spoof warning file missing": (
        'spoof = { enabled = true;\n  warning_file = "/nonexistent/mxshield-warning.txt"; };\n',
        [(2, "spoof.warning_file", "cannot read")]),
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


# Values that once switched on features not built yet (refused with "not
# supported yet" by proxy/config.c not_yet[], now empty): each is taken.
BUILT = [
    'spoof = { enabled = true; };',
    'spoof = { enabled = true; action = "reject"; threshold = 25; };',
    'ip_shield = { enabled = true; check_from_header = true;\n'
    '  entries = ( { domain = "example.com"; networks = [ "10.0.0.0/8" ]; } ); };',
    'auth = { match_from_header = true; };',
    'size_limits = ( { max = 2000000; except = [ "boss@example.com" ]; } );',
]


@pytest.mark.parametrize("text", BUILT, ids=range(len(BUILT)))
def test_feature_built(tmp_path, text):
    p = write(tmp_path, 'hostname = "mx.example.com";\n'
              'local_domains = [ "example.com" ];\n'
              'backend = { address = "192.0.2.25"; port = 25; };\n' + text + "\n")
    assert_ok(p)


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


def test_syntax_error_is_only_that(tmp_path):
    """A syntax error that is not a dotted name gets no hint."""
    p = write(tmp_path, 'hostname = "mx.example.com";\nworkers = ;\n')
    rc, out, err = check(p)
    assert (rc, out, err) == (1, "", "%s:2: syntax error\n" % p), (rc, out, err)


# --------------------------------------------------------------------------
# Key paths typed as they are written in tables: "helo.reject_bare_ip"
# --------------------------------------------------------------------------

DOTTED = [
    ('hostname = "mx.example.com";\nhelo.reject_bare_ip = true;\n', 2,
     "helo = { reject_bare_ip = true; };"),
    ('auth.aliases = ( { identity = "jdoe";\n'
     '                  addresses = [ "sales@example.com" ]; } );\n', 1,
     "auth = { aliases = ( ... ); };"),
    ('# a comment\n\n  limits.max_errors: 5 ;  # spaces\n', 3,
     "limits = { max_errors = 5; };"),
    ('backend.address = "10.0.0.5";\n', 1, 'backend = { address = "10.0.0.5"; };'),
]


@pytest.mark.parametrize("text,line,hint", DOTTED, ids=[h for _, _, h in DOTTED])
def test_dotted_name_gets_a_hint(tmp_path, text, line, hint):
    p = write(tmp_path, text)
    rc, out, err = check(p)
    assert (rc, out) == (1, ""), (rc, out, err)
    assert err == "%s:%d: syntax error: dotted names are not libconfig syntax: write %s\n" % (
        p, line, hint), err


def test_dotted_hint_as_written_passes(tmp_path):
    """What the hint says to write is accepted."""
    assert_ok(write(tmp_path, 'hostname = "mx.example.com";\nhelo = { reject_bare_ip = true; };\n'),
              [RELAY])


# --------------------------------------------------------------------------
# A backend that is our own socket: a relay loop; anything else is not
# --------------------------------------------------------------------------

def test_wildcard_listener_and_remote_backend_on_the_same_port(tmp_path):
    """The main use case: listen on 0.0.0.0:25, relay to another host's
    port 25. 10.0.0.5 is no address of this host (nothing connects to
    it: --check-config only)."""
    own = local_ipv4_addresses()
    if "10.0.0.5" in own:
        pytest.skip("10.0.0.5 is an address of this host")
    p = write(tmp_path, 'listen = ( { address = "0.0.0.0"; port = 25; } );\n'
                        'backend = { address = "10.0.0.5"; port = 25; client_info = "xclient"; };\n')
    assert_ok(p)
    p = write(tmp_path, 'listen = ( { address = "0.0.0.0"; port = 25; },\n'
                        '           { address = "::"; port = 25; } );\n'
                        'backend = { address = "10.0.0.5"; port = 25; };\n')
    lines = assert_ok(p, [RELAY])
    assert lines[0].startswith("warning: %s:3: " % p), lines


OWN = {
    "wildcard listener, loopback backend": (
        'listen = ( { address = "0.0.0.0"; port = 2525; } );\n'
        'backend = { address = "127.0.0.1"; port = 2525; };\n',
        [(2, "backend", "127.0.0.1 port 2525 is mxshield's own listen[0] (127.0.0.1 is an "
                        "address of this host, and listen[0] is 0.0.0.0 port 2525)")]),
    "wildcard listener, any of 127.0.0.0/8": (
        'listen = ( { address = "127.0.0.1"; port = 25; },\n'
        '           { address = "0.0.0.0"; port = 2525; } );\n'
        'backend = {\n  port = 2525;\n  address = "127.0.0.2";\n};\n',
        [(5, "backend", "127.0.0.2 port 2525 is mxshield's own listen[1]")]),
    "explicit listener, the same address and port": (
        'listen = ( { address = "127.0.0.1"; port = 2600; } );\n'
        'backend = { address = "127.0.0.1"; port = 2600; };\n',
        [(2, "backend", "127.0.0.1 port 2600 is mxshield's own listen[0]")]),
    "IPv6 wildcard listener, IPv6 loopback backend": (
        'listen = ( { address = "::"; port = 2525; } );\n'
        'backend = { address = "::1"; port = 2525; };\n',
        [(2, "backend", "::1 port 2525 is mxshield's own listen[0]")]),
    "IPv4-mapped backend": (
        'listen = ( { address = "0.0.0.0"; port = 2525; } );\n'
        'backend = { address = "::ffff:127.0.0.1"; port = 2525; };\n',
        [(2, "backend", "own listen[0]")]),
    "unspecified backend address": (
        'listen = ( { address = "127.0.0.1"; port = 2525; } );\n'
        'backend = { address = "0.0.0.0"; port = 2525; };\n',
        [(2, "backend", "own listen[0]")]),
}


@pytest.mark.parametrize("name", sorted(OWN))
def test_backend_that_is_our_own_socket(tmp_path, name):
    text, expected = OWN[name]
    assert_problems(write(tmp_path, text), expected)


NOT_OWN = {
    # a "::" listener is IPv6 only: it never takes a connection to 127.0.0.1
    "IPv6 wildcard listener, IPv4 loopback backend":
        'listen = ( { address = "::"; port = 2525; } );\n'
        'backend = { address = "127.0.0.1"; port = 2525; };\n',
    "explicit listener, another loopback address":
        'listen = ( { address = "127.0.0.1"; port = 2525; } );\n'
        'backend = { address = "127.0.0.2"; port = 2525; };\n',
    "wildcard listener, another port":
        'listen = ( { address = "0.0.0.0"; port = 25; } );\n'
        'backend = { address = "127.0.0.1"; port = 2525; };\n',
}


@pytest.mark.parametrize("name", sorted(NOT_OWN))
def test_backend_that_is_not_our_own_socket(tmp_path, name):
    assert_ok(write(tmp_path, NOT_OWN[name]), [RELAY])


def local_ipv4_addresses():
    """This host's IPv4 interface addresses other than loopback, from
    `ip -o -4 addr` (an empty list when it is not there)."""
    try:
        r = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True,
                           timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    out = []
    for line in r.stdout.splitlines():
        f = line.split()
        if "inet" in f:
            a = f[f.index("inet") + 1].split("/")[0]
            if not a.startswith("127."):
                out.append(a)
    return out


def test_wildcard_listener_and_an_interface_address_of_this_host(tmp_path):
    """A backend on one of this host's own (non-loopback) addresses, on
    the port a wildcard listener takes, is the listener itself."""
    own = local_ipv4_addresses()
    if not own:
        pytest.skip("no IPv4 interface address besides loopback")
    p = write(tmp_path, 'listen = ( { address = "0.0.0.0"; port = 2525; } );\n'
                        'backend = { address = "%s"; port = 2525; };\n' % own[0])
    assert_problems(p, [(2, "backend", "%s port 2525 is mxshield's own listen[0]" % own[0])])


def test_backend_host_name_that_is_our_own_socket(tmp_path):
    """A host name is looked at once resolved: localhost on the port of a
    wildcard listener is a loop."""
    p = write(tmp_path, 'listen = ( { address = "0.0.0.0"; port = 2525; } );\n'
                        'backend = {\n  address = "localhost";\n  port = 2525;\n};\n')
    assert_problems(p, [(3, "backend", "localhost (127.0.0.1) port 2525 is mxshield's own listen[0]")])


# --------------------------------------------------------------------------
# What the start checks beyond the file, without binding
# --------------------------------------------------------------------------

def test_backend_name_that_does_not_resolve(tmp_path):
    """RFC 6761: names under .invalid never resolve."""
    p = write(tmp_path, 'hostname = "mx.example.com";\n'
                        'backend = { address = "mail.mxshield-test.invalid"; port = 25; };\n')
    t0 = time.monotonic()
    assert_problems(p, [(2, "backend.address", '"mail.mxshield-test.invalid" does not resolve')])
    assert time.monotonic() - t0 < 25


def hijack_conf(state_file, extra=""):
    return ('backend = { address = "127.0.0.1"; port = 2526; client_info = "xclient"; };\n'
            'hijack = {\n  enabled = true;\n  state_file = "%s";\n};\n%s' % (state_file, extra))


def test_state_file_directory_missing(tmp_path):
    missing = tmp_path / "no-such-dir"
    p = write(tmp_path, hijack_conf(missing / "hijack.state"))
    assert_problems(p, [(4, "hijack.state_file", "directory %s: No such file or directory" % missing)])


def test_state_file_directory_is_a_file(tmp_path):
    """The parent is a regular file: refused whoever runs the check."""
    parent = tmp_path / "plain"
    parent.write_text("x\n")
    p = write(tmp_path, hijack_conf(parent / "hijack.state"))
    assert_problems(p, [(4, "hijack.state_file", "%s is not a directory" % parent)])


def test_state_file_is_a_directory(tmp_path):
    d = tmp_path / "hijack.state"
    d.mkdir()
    p = write(tmp_path, hijack_conf(d))
    assert_problems(p, [(4, "hijack.state_file", "%s is a directory" % d)])


def test_state_file_directory_not_writable(tmp_path):
    """As root (who may write anywhere) the check runs as nobody against
    a directory root owns; otherwise against a directory made 0555."""
    top = tempfile.mkdtemp(prefix="mxshield-ro-")
    try:
        os.chmod(top, 0o755)
        d = os.path.join(top, "state")
        os.mkdir(d, 0o755)
        conf = os.path.join(top, "mxshield.conf")
        with open(conf, "w") as f:
            f.write(hijack_conf(os.path.join(d, "hijack.state")))
        os.chmod(conf, 0o644)
        as_nobody = os.geteuid() == 0
        if not as_nobody:
            os.chmod(d, 0o555)
        elif not os.access(BIN, os.X_OK, effective_ids=False) or \
                any(not (os.stat(x).st_mode & 0o001) for x in parents(BIN)):
            pytest.skip("nobody cannot run %s" % BIN)

        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        r = subprocess.run([BIN, "--check-config", "-c", conf], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30,
                           preexec_fn=drop if as_nobody else None)
        for mark in SANITIZER_MARKS:
            assert mark not in r.stderr, r.stderr
        assert (r.returncode, r.stdout) == (1, ""), (r.returncode, r.stdout, r.stderr)
        uid = 65534 if as_nobody else os.geteuid()
        assert strip_machine_warnings(r.stderr) == ("%s:4: hijack.state_file: directory %s is not writable by uid %d "
                            "(mxshield writes the file next to it and renames it into place): "
                            "Permission denied\n" % (conf, d, uid)), r.stderr
    finally:
        os.chmod(os.path.join(top, "state"), 0o755)
        shutil.rmtree(top, ignore_errors=True)


def parents(path):
    out, p = [], os.path.dirname(os.path.abspath(path))
    while p != "/":
        out.append(p)
        p = os.path.dirname(p)
    return out


def test_state_file_that_does_not_parse(tmp_path):
    """The start refuses a state file that does not parse; so does
    --check-config, with the same words, and it changes nothing."""
    state = tmp_path / "hijack.state"
    text = "# mxshield hijack state\ndisabled 1700000000 alice@example.com\nbogus line\n"
    state.write_text(text)
    p = write(tmp_path, hijack_conf(state))
    rc, out, err = check(p)
    assert (rc, out) == (1, ""), (rc, out, err)
    assert err.startswith("%s:3: hijack.state_file: not " % state), err
    assert err.endswith("(fix or delete the line, then start mxshield)\n"), err
    assert len(err.splitlines()) == 1, err
    assert state.read_text() == text
    assert sorted(os.listdir(tmp_path)) == ["hijack.state", "mxshield.conf"]


def test_state_file_that_parses(tmp_path):
    state = tmp_path / "hijack.state"
    text = "disabled 1700000000 alice@example.com\ncount bob@example.com 1700000000 1700000100\n"
    state.write_text(text)
    assert_ok(write(tmp_path, hijack_conf(state)))
    assert state.read_text() == text
    assert sorted(os.listdir(tmp_path)) == ["hijack.state", "mxshield.conf"]


def test_state_file_not_checked_while_hijack_detection_is_off(tmp_path):
    """The start does not touch the file then, so neither does the check."""
    p = write(tmp_path, 'backend = { client_info = "proxy"; };\n'
                        'hijack = { state_file = "%s"; };\n' % (tmp_path / "none" / "h.state"))
    assert_ok(p)


def test_control_socket_directory_missing(tmp_path):
    missing = tmp_path / "run"
    p = write(tmp_path, 'backend = { client_info = "xclient"; };\n'
                        'control = {\n  socket = "%s";\n};\n' % (missing / "control.sock"))
    assert_problems(p, [(3, "control.socket", "directory %s: No such file or directory" % missing)])


def test_control_socket_path_is_a_file(tmp_path):
    f = tmp_path / "control.sock"
    f.write_text("not a socket\n")
    p = write(tmp_path, 'backend = { client_info = "xclient"; };\ncontrol = { socket = "%s"; };\n' % f)
    assert_problems(p, [(2, "control.socket", "exists and is not a socket")])


def test_every_start_problem_at_once(tmp_path):
    p = write(tmp_path, "\n".join([
        'backend = { address = "mail.mxshield-test.invalid"; };',    # 1
        'hijack = { enabled = true;',                                 # 2
        '  state_file = "%s"; };' % (tmp_path / "a" / "h.state"),     # 3
        'control = { socket = "%s"; };' % (tmp_path / "b" / "c.sock"),  # 4
    ]) + "\n")
    assert_problems(p, [
        (1, "backend.address", "does not resolve"),
        (3, "hijack.state_file", "No such file or directory"),
        (4, "control.socket", "No such file or directory"),
    ])


# --------------------------------------------------------------------------
# The open-relay warning: client_info "received" and a backend that may
# trust mxshield's address
# --------------------------------------------------------------------------

RELAY_WARN = {
    "the default file": ("", None, "127.0.0.1, a loopback address", True),
    "loopback, client_info written": (
        'backend = {\n  address = "127.0.0.1";\n  client_info = "received";\n};\n', 3,
        "127.0.0.1, a loopback address", False),
    "private IPv4, default client_info": (
        'backend = {\n  address = "192.168.1.25";\n  port = 25;\n};\n', 2,
        "192.168.1.25, a private address", True),
    "172.16/12": ('backend = { address = "172.31.255.1"; };\n', 1, "172.31.255.1, a private address",
                  True),
    "10/8": ('backend = { address = "10.1.2.3"; };\n', 1, "10.1.2.3, a private address", True),
    "IPv6 loopback": ('backend = { address = "::1"; };\n', 1, "::1, a loopback address", True),
    "IPv6 ULA": ('backend = { address = "fd12:3456::25"; };\n', 1, "fd12:3456::25, a private address",
                 True),
    "host name, after resolution": ('backend = { address = "localhost"; };\n', 1,
                                    "localhost (127.0.0.1), a loopback address", True),
}


@pytest.mark.parametrize("name", sorted(RELAY_WARN))
def test_relay_warning(tmp_path, name):
    text, line, fragment, default = RELAY_WARN[name]
    p = write(tmp_path, text)
    (w,) = assert_ok(p, [RELAY])
    head = "warning: %s:%d: " % (p, line) if line else "warning: %s: " % p
    assert w.startswith(head + RELAY + (" (the default)" if default else "") + " with the backend at "
                        + fragment + ":"), w
    for words in ('backend.client_info = "xclient" or "proxy"',
                  'README.md, "Put mxshield in front of Postfix or Exim"'):
        assert words in w, w


NO_RELAY_WARN = {
    "xclient": 'backend = { client_info = "xclient"; };\n',
    "proxy": 'backend = { client_info = "proxy"; };\n',
    "public address": 'backend = { address = "203.0.113.25"; };\n',
    "just outside 172.16/12": 'backend = { address = "172.32.0.1"; };\n',
    "public IPv6": 'backend = { address = "2001:db8::25"; };\n',
}


@pytest.mark.parametrize("name", sorted(NO_RELAY_WARN))
def test_no_relay_warning(tmp_path, name):
    assert_ok(write(tmp_path, NO_RELAY_WARN[name]))


def test_relay_warning_also_with_problems(tmp_path):
    """Warnings are printed beside problems; the problems decide the exit."""
    p = write(tmp_path, 'backend = { address = "10.0.0.25"; };\nworkers = 100;\n')
    rc, out, err = check(p)
    assert (rc, out) == (1, ""), (rc, out, err)
    # a file with problems is not looked at further: only the problems
    assert err == "%s:2: workers: 100 is out of range (1 to 64)\n" % p, err


# --------------------------------------------------------------------------
# The start: the same checks, the same warning
# --------------------------------------------------------------------------

def start_and_fail(tmp_path, text):
    p = write(tmp_path, text, "start.conf")
    r = subprocess.run([BIN, "-c", str(p)], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=20)
    for mark in SANITIZER_MARKS:
        assert mark not in r.stderr, r.stderr
    return r.returncode, r.stderr, p


def test_start_refuses_a_wildcard_loop(tmp_path):
    """listen 0.0.0.0:P, backend 127.0.0.2:P: 127.0.0.2 is this host, so
    mxshield would relay to itself. Refused before anything listens."""
    port = smtpkit.free_port()
    rc, err, p = start_and_fail(tmp_path, 'listen = ( { address = "0.0.0.0"; port = %d; } );\n'
                                          'backend = { address = "127.0.0.2"; port = %d; };\n'
                                          % (port, port))
    assert rc == 1, (rc, err)
    assert err == ("%s:2: backend: 127.0.0.2 port %d is mxshield's own listen[0] (127.0.0.2 is an "
                   "address of this host, and listen[0] is 0.0.0.0 port %d)\n" % (p, port, port)), err
    assert not smtpkit.listening(port)


def test_start_refuses_a_host_name_loop(tmp_path):
    port = smtpkit.free_port()
    rc, err, p = start_and_fail(tmp_path, 'listen = ( { address = "127.0.0.1"; port = %d; } );\n'
                                          'backend = { address = "localhost"; port = %d; };\n'
                                          % (port, port))
    assert rc == 1, (rc, err)
    (line,) = [json.loads(l) for l in err.splitlines() if l.startswith("{")]
    assert (line["event"], line["level"]) == ("error", "error"), line
    assert line["msg"] == ("%s:2: backend: localhost (127.0.0.1) port %d is mxshield's own "
                           "listen[0] (127.0.0.1 port %d)" % (p, port, port)), line


def test_start_refuses_an_unresolvable_backend(tmp_path):
    port = smtpkit.free_port()
    rc, err, p = start_and_fail(tmp_path, 'listen = ( { address = "127.0.0.1"; port = %d; } );\n'
                                          'backend = { address = "mail.mxshield-test.invalid"; };\n'
                                          % port)
    assert rc == 1, (rc, err)
    assert '%s:2: backend.address: \\"mail.mxshield-test.invalid\\" does not resolve' % p in err, err


def test_start_logs_the_relay_warning(mxshield, backend):
    """The default client_info with a loopback backend: one warn line at
    start (event config), the same words --check-config prints; mail
    still flows."""
    (w,) = mxshield.wait_log(lambda l: l.get("event") == "config", what="config warning")
    assert w["level"] == "warn", w
    assert w["msg"].startswith("%s:" % mxshield.conf_path), w
    assert (RELAY + " (the default) with the backend at 127.0.0.1, a loopback address:") in w["msg"], w
    assert 'README.md, "Put mxshield in front of Postfix or Exim"' in w["msg"], w
    c = mxshield.session()
    c.send(b"QUIT\r\n")
    assert c.reply().code == 221


def test_start_without_the_relay_warning(mxshield, backend):
    """client_info = "proxy": no warning. The start line comes after the
    warnings, so once it is there none can follow."""
    mx = mxshield({"backend": {"client_info": "proxy"}})
    mx.wait_log(lambda l: l.get("event") == "start", what="start line")
    assert [l for l in mx.log_lines() if l.get("level") == "warn" and
            not machine_log_warning(l)] == [], mx.stderr()
