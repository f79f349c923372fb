"""
The deployment files agree with the binary: docker/mxshield.conf and the
Kubernetes ConfigMap pass --check-config, the systemd unit has the keys
deploy/ promises, and compose gives the backend the address the
container's configuration names. No container engine needed.

  MXSHIELD_BIN  binary under test (default: build/mxshield of this checkout)
"""

import configparser
import os
import re
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("MXSHIELD_BIN") or os.path.join(REPO, "build", "mxshield")
CONF = "/etc/mxshield/mxshield.conf"


def check_config(path):
    if not os.path.exists(BIN):
        pytest.fail("%s is not built (make build, or set MXSHIELD_BIN)" % BIN)
    r = subprocess.run([BIN, "--check-config", "-c", str(path)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr


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
