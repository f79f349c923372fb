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

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("MXSHIELD_BIN") or os.path.join(REPO, "build", "mxshield")
CONF = "/etc/mxshield/mxshield.conf"


def check_config(path):
    """Passes; the only thing on stderr may be the warning of a backend on
    a private address that sees every client as mxshield (client_info
    "received"): these files leave client_info to the administrator."""
    if not os.path.exists(BIN):
        pytest.fail("%s is not built (make build, or set MXSHIELD_BIN)" % BIN)
    r = subprocess.run([BIN, "--check-config", "-c", str(path)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    for line in r.stderr.splitlines():
        assert line.startswith("warning: ") and 'backend.client_info: "received"' in line, r.stderr
    assert len(r.stderr.splitlines()) <= 1, r.stderr


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


def test_grafana_dashboard_queries_metrics_mxshield_serves(mxshield, backend):
    """deploy/grafana-dashboard.json is a Grafana dashboard (JSON model
    with a Prometheus data source variable) whose every query names only
    series a real /metrics scrape declares."""
    import json
    import urllib.request

    import smtpkit
    from prometheus_client.parser import text_string_to_metric_families

    with open(os.path.join(REPO, "deploy", "grafana-dashboard.json")) as f:
        dash = json.load(f)
    assert dash["schemaVersion"] >= 36 and dash["title"] == "mxshield", dash.keys()
    var = {v["name"]: v for v in dash["templating"]["list"]}
    assert var["datasource"]["type"] == "datasource" and var["datasource"]["query"] == "prometheus"
    exprs = []
    ids = set()
    for p in dash["panels"]:
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
        assert p["id"] not in ids, p["title"]
        ids.add(p["id"])
        assert p["targets"], p["title"]
        exprs += [t["expr"] for t in p["targets"]]
    queried = set(re.findall(r"\bmxshield_[a-z0-9_]+", " ".join(exprs)))
    for must in ("mxshield_sessions_open", "mxshield_transactions_total",
                 "mxshield_rejections_total", "mxshield_spoof_score_bucket",
                 "mxshield_dns_cache_hits_total", "mxshield_backend_reply_seconds_bucket",
                 "mxshield_tls_sessions_total", "mxshield_bytes_sent_total",
                 "mxshield_reloads_total"):
        assert must in queried, must
    assert any("histogram_quantile" in e for e in exprs)

    port = smtpkit.free_port()
    mx = mxshield({"metrics": {"address": "127.0.0.1", "port": port}})
    c = mx.session()
    assert c.transaction("a@example.net", ["b@example.com"], smtpkit.make_message()).code == 250
    c.cmd("QUIT")
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    served = set()
    for fam in text_string_to_metric_families(text):
        served.add(fam.name)
        served |= {s.name for s in fam.samples}
        if fam.type == "counter":
            served.add(fam.name + "_total")
        if fam.type == "histogram":
            served |= {fam.name + x for x in ("_bucket", "_sum", "_count")}
    assert not queried - served, sorted(queried - served)
