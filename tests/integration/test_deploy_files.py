"""
The deployment files agree with the binary: docker/mxshield.conf, the
Kubernetes ConfigMap and every ```conf snippet of README.md pass
--check-config, the systemd unit has the keys deploy/ promises, compose
gives the backend the address the container's configuration names, and
every pointer to README's "Put mxshield in front of Postfix or Exim"
finds that section. No container engine needed.

  MXSHIELD_BIN  binary under test (default: build/mxshield of this checkout)
"""

import configparser
import glob
import os
import re
import subprocess
import textwrap

import pytest

from conftest import strip_machine_warnings

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("MXSHIELD_BIN") or os.path.join(REPO, "build", "mxshield")
CONF = "/etc/mxshield/mxshield.conf"


def check_config(path, env=None):
    """Passes; the only thing on stderr may be the warning of a backend on
    a private address that sees every client as mxshield (client_info
    "received"): these files leave client_info to the administrator."""
    if not os.path.exists(BIN):
        pytest.fail("%s is not built (make build, or set MXSHIELD_BIN)" % BIN)
    r = subprocess.run([BIN, "--check-config", "-c", str(path)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 0, r.stderr
    err = strip_machine_warnings(r.stderr)
    for line in err.splitlines():
        assert line.startswith("warning: ") and 'backend.client_info: "received"' in line, r.stderr
    assert len(err.splitlines()) <= 1, r.stderr


def test_docker_conf_is_valid():
    check_config(os.path.join(REPO, "docker", "mxshield.conf"))


def test_systemd_unit():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # keys are case-sensitive
    unit.read(os.path.join(REPO, "deploy", "mxshield.service"))
    s = unit["Service"]
    assert s["Type"] == "simple"
    assert s["ExecStart"].split() == ["/usr/local/bin/mxshield", "-c", CONF]
    assert s["ExecStartPre"].split() == ["/usr/local/bin/mxshield", "--check-config", "-c", CONF]
    assert s.get("DynamicUser") == "yes" or s.get("User")
    assert s["ProtectSystem"] == "strict"
    assert s["NoNewPrivileges"] == "yes"
    assert "CAP_NET_BIND_SERVICE" in s["AmbientCapabilities"].split()
    assert s["LimitNOFILE"] == "65536"
    assert s["Restart"] == "on-failure"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_compose_and_kubernetes(tmp_path):
    import yaml     # python3-yaml, which make test installs
    with open(os.path.join(REPO, "docker", "mxshield.conf")) as f:
        backend = re.search(r'backend\s*=\s*\{[^}]*address\s*=\s*"([^"]+)"', f.read()).group(1)
    with open(os.path.join(REPO, "deploy", "compose.yaml")) as f:
        compose = yaml.safe_load(f)
    net = compose["services"]["backend"]["networks"]["mail"]
    assert net["ipv4_address"] == backend
    assert compose["services"]["mxshield"]["ports"] == ["25:2525"]

    with open(os.path.join(REPO, "deploy", "kubernetes", "mxshield.yaml")) as f:
        docs = {d["kind"]: d for d in yaml.safe_load_all(f) if d}
    assert set(docs) == {"ConfigMap", "Deployment", "Service"}
    conf = tmp_path / "k8s.conf"
    conf.write_text(docs["ConfigMap"]["data"]["mxshield.conf"])
    check_config(conf)


def readme_conf_snippets():
    """The ```conf blocks of README.md (indented ones too), dedented."""
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    blocks = re.findall(r"^([ \t]*)```conf\n(.*?)^\1```$", text, re.S | re.M)
    return [textwrap.dedent(body) for _, body in blocks]


def test_readme_conf_snippets_are_valid(tmp_path):
    snippets = readme_conf_snippets()
    # the Postfix and Exim recipes and the auth.aliases example at least
    assert len(snippets) >= 4, snippets
    for i, text in enumerate(snippets):
        conf = tmp_path / ("readme%d.conf" % i)
        conf.write_text(text)
        check_config(conf)


RECIPE = "Put mxshield in front of Postfix or Exim"


def test_recipe_section_is_where_pointers_say():
    with open(os.path.join(REPO, "README.md")) as f:
        headings = [l.rstrip("\n") for l in f if l.startswith("#")]
    assert "## " + RECIPE in headings, headings
    pointers = []
    for pattern in ("proxy/*.c", "deploy/*", "deploy/kubernetes/*", "docker/*", "docker/*/*"):
        for path in glob.glob(os.path.join(REPO, pattern)):
            if os.path.isfile(path):
                with open(path, errors="replace") as f:
                    flat = re.sub(r"[\s#*\"]+", " ", f.read())
                if "Put mxshield in front of" in flat:
                    pointers.append(path)
                    assert RECIPE in flat, "%s names another title" % path
    assert pointers, "no deployment file points to the recipe"
