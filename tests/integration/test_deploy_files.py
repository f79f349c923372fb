"""
The deployment files agree with the binary: docker/mxshield.conf (with
MXSHIELD_BACKEND set; refused clearly without), deploy/compose.conf, the
Kubernetes ConfigMaps and every ```conf snippet of README.md pass
--check-config; the systemd unit, the Dockerfile and the Kubernetes
manifests have what deploy/ promises (probes on /healthz, grace periods
above drain_delay + shutdown_timeout); compose gives the backend the
address its configuration names, and
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


DOCKER_CONF = os.path.join(REPO, "docker", "mxshield.conf")


def conf_int(text, key, default):
    """A top-level integer key of a libconfig text, else default."""
    m = re.search(r"^\s*%s\s*=\s*(\d+)\s*;" % re.escape(key), text, re.M)
    return int(m.group(1)) if m else default


def test_docker_conf_is_valid():
    env = dict(os.environ, MXSHIELD_BACKEND="192.0.2.25")
    check_config(DOCKER_CONF, env=env)


def test_docker_conf_without_backend_refuses_clearly():
    """A plain `docker run` without MXSHIELD_BACKEND: refused at once,
    naming the variable, not a 421 after the connect timeout."""
    env = {k: v for k, v in os.environ.items() if k != "MXSHIELD_BACKEND"}
    r = subprocess.run([BIN, "--check-config", "-c", DOCKER_CONF], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 1
    with open(DOCKER_CONF) as f:
        line = [n for n, l in enumerate(f, 1) if re.match(r'\s*address\s*=\s*"\$\{MXSHIELD_BACKEND\}";', l)][0]
    assert ('%s:%d: backend.address: "${MXSHIELD_BACKEND}": the environment variable '
            'MXSHIELD_BACKEND is not set' % (DOCKER_CONF, line)) in r.stderr, r.stderr
    # a start says the same and exits
    r = subprocess.run([BIN, "-c", DOCKER_CONF], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=30, env=dict(env, MXSHIELD_BACKEND=""))
    assert r.returncode == 1
    assert "the environment variable MXSHIELD_BACKEND is empty" in r.stderr, r.stderr


def test_dockerfile():
    with open(os.path.join(REPO, "docker", "Dockerfile")) as f:
        text = f.read()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert froms == ["${DEBIAN_BUILD}", "${DEBIAN_RUN}"], froms
    for arg in ("DEBIAN_BUILD", "DEBIAN_RUN"):
        tag = re.search(r"^ARG %s=(\S+)$" % arg, text, re.M).group(1)
        # a point release, not a name that moves
        assert re.fullmatch(r"debian:\d+\.\d+(-slim)?", tag), tag
    for label in ("title", "version", "revision", "source", "licenses", "created"):
        assert "org.opencontainers.image.%s=" % label in text, label
    # the version label is the one CMakeLists.txt builds
    with open(os.path.join(REPO, "CMakeLists.txt")) as f:
        version = re.search(r"project\(mxshield VERSION (\S+)", f.read()).group(1)
    assert re.findall(r"^ARG VERSION=(\S+)$", text, re.M) == [version, version]
    assert "libsystemd0" in text and "libsystemd-dev" in text
    assert re.search(r"^USER 2525:2525$", text, re.M)
    assert "--stop-timeout" in text
    # the image's own drain fits docker stop's default 10 s
    with open(DOCKER_CONF) as f:
        conf = f.read()
    assert conf_int(conf, "drain_delay", 0) + conf_int(conf, "shutdown_timeout", 30) < 10


def service_entries(path):
    """(key, value) of the [Service] section in order, repeats kept."""
    out, section = [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line
            elif section == "[Service]":
                k, _, v = line.partition("=")
                out.append((k, v))
    return out


def test_systemd_unit():
    path = os.path.join(REPO, "deploy", "mxshield.service")
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # keys are case-sensitive
    unit.read(path)
    s = unit["Service"]
    assert s["Type"] == "notify"
    assert s["ExecStart"].split() == ["/usr/local/bin/mxshield", "-c", CONF]
    assert s["ExecStartPre"].split() == ["/usr/local/bin/mxshield", "--check-config", "-c", CONF]
    assert s["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert s.get("DynamicUser") == "yes" or s.get("User")
    assert s["ProtectSystem"] == "strict"
    assert s["NoNewPrivileges"] == "yes"
    assert "CAP_NET_BIND_SERVICE" in s["AmbientCapabilities"].split()
    assert s["LimitNOFILE"] == "65536"
    assert s["Restart"] == "on-failure"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    entries = service_entries(path)
    allow = [v for k, v in entries if k == "SocketBindAllow"]
    assert {"tcp:25", "tcp:465", "tcp:587"} <= set(allow), allow
    assert [v for k, v in entries if k == "SocketBindDeny"] == ["any"]
    creds = [v for k, v in entries if k == "LoadCredential"]
    assert creds == ["tls.key:/etc/mxshield/key.pem"], creds
    # the configuration's key_file for it, as the unit's comment says
    with open(path) as f:
        assert "/run/credentials/mxshield.service/tls.key" in f.read()
    # the stop timeout covers the reference configuration's drain
    with open(os.path.join(REPO, "deploy", "mxshield.conf")) as f:
        ref = f.read()
    assert int(s["TimeoutStopSec"]) > conf_int(ref, "drain_delay", 0) + conf_int(ref, "shutdown_timeout", 30)


def k8s_docs(name):
    import yaml     # python3-yaml, which make test installs
    with open(os.path.join(REPO, "deploy", "kubernetes", name)) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def test_compose(tmp_path):
    import yaml
    with open(os.path.join(REPO, "deploy", "compose.conf")) as f:
        backend = re.search(r'backend\s*=\s*\{[^}]*address\s*=\s*"([^"]+)"', f.read()).group(1)
    with open(os.path.join(REPO, "deploy", "compose.yaml")) as f:
        compose = yaml.safe_load(f)
    net = compose["services"]["backend"]["networks"]["mail"]
    assert net["ipv4_address"] == backend
    assert compose["services"]["mxshield"]["ports"] == ["25:2525"]
    assert "./compose.conf:/etc/mxshield/mxshield.conf:ro" in compose["services"]["mxshield"]["volumes"]
    check_config(os.path.join(REPO, "deploy", "compose.conf"))


def libconfig_group(text, name):
    """The body of a top-level `name = { ... };` group (no nested braces)."""
    m = re.search(r"^%s\s*=\s*\{([^}]*)\}" % re.escape(name), text, re.M)
    return m.group(1) if m else None


def test_image_healthcheck_and_metrics_agree():
    """The Dockerfile's HEALTHCHECK asks 127.0.0.1:9125/healthz, which the
    image's own configuration and compose's serve; both ports exposed."""
    with open(os.path.join(REPO, "docker", "Dockerfile")) as f:
        text = f.read()
    (hc,) = re.findall(r"^HEALTHCHECK (?:.*\\\n)*.*", text, re.M)
    assert "/dev/tcp/127.0.0.1/9125" in hc and "GET /healthz" in hc, hc
    assert re.search(r"--interval=\d+s", hc) and re.search(r"--timeout=\d+s", hc), hc
    assert re.search(r"^EXPOSE 2525 9125$", text, re.M)
    for path in (DOCKER_CONF, os.path.join(REPO, "deploy", "compose.conf")):
        with open(path) as f:
            m = libconfig_group(f.read(), "metrics")
        assert m and re.search(r"port\s*=\s*9125\s*;", m), path
        assert re.search(r'address\s*=\s*"0\.0\.0\.0"', m), path


def test_compose_postfix_takes_xclient_from_mxshield_only():
    """compose.conf tells Postfix the real client with XCLIENT, and the
    Postfix image allows XCLIENT from mxshield's static address alone; IP
    Shield and the spoof score are on, as README's walk-through shows."""
    import yaml
    with open(os.path.join(REPO, "deploy", "compose.conf")) as f:
        conf = f.read()
    assert re.search(r'client_info\s*=\s*"xclient"', libconfig_group(conf, "backend"))
    assert re.search(r"enabled\s*=\s*true", libconfig_group(conf, "spoof"))
    shield = re.search(r"^ip_shield\s*=\s*\{(.*?)^\};", conf, re.M | re.S).group(1)
    assert re.search(r"enabled\s*=\s*true", shield) and "$LOCALDOMAIN$" in shield
    with open(os.path.join(REPO, "deploy", "compose.yaml")) as f:
        compose = yaml.safe_load(f)
    svc = compose["services"]
    mx_addr = svc["mxshield"]["networks"]["mail"]["ipv4_address"]
    assert svc["backend"]["build"]["args"]["MXSHIELD_ADDRESS"] == mx_addr
    with open(os.path.join(REPO, "docker", "postfix-backend", "Dockerfile")) as f:
        pf = f.read()
    assert re.findall(r"^FROM (\S+)", pf, re.M) == ["debian:12.8"]
    assert '"smtpd_authorized_xclient_hosts = ${MXSHIELD_ADDRESS}"' in pf
    assert "'mynetworks = 127.0.0.0/8'" in pf
    # the stop timeout covers compose.conf's drain
    grace = int(svc["mxshield"]["stop_grace_period"].rstrip("s"))
    assert grace > conf_int(conf, "drain_delay", 0) + conf_int(conf, "shutdown_timeout", 30)


def test_kubernetes(tmp_path):
    docs = {d["kind"]: d for d in k8s_docs("mxshield.yaml")}
    assert set(docs) == {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget",
                         "NetworkPolicy"}
    text = docs["ConfigMap"]["data"]["mxshield.conf"]
    conf = tmp_path / "k8s.conf"
    conf.write_text(text)
    check_config(conf)
    # the metrics endpoint the probes reach
    m = re.search(r"^\s*metrics\s*=\s*\{([^}]*)\}", text, re.M)
    assert m and re.search(r"port\s*=\s*9125\s*;", m.group(1)), text
    assert re.search(r'address\s*=\s*"0\.0\.0\.0"', m.group(1)), "the kubelet probes from the node"

    pod = docs["Deployment"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    grace = pod["terminationGracePeriodSeconds"]
    assert grace > conf_int(text, "drain_delay", 0) + conf_int(text, "shutdown_timeout", 30), grace
    (c,) = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"smtp": 2525, "metrics": 9125}
    for probe in ("readinessProbe", "livenessProbe"):
        get = c[probe]["httpGet"]
        assert get["path"] == "/healthz", probe
        assert ports.get(get["port"], get["port"]) == 9125, probe
        assert "tcpSocket" not in c[probe]
    labels = docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    keys = {t["topologyKey"] for t in pod["topologySpreadConstraints"]}
    assert "kubernetes.io/hostname" in keys
    for t in pod["topologySpreadConstraints"]:
        assert t["labelSelector"]["matchLabels"].items() <= labels.items()
    assert pod["securityContext"]["runAsNonRoot"] is True

    pdb = docs["PodDisruptionBudget"]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["minAvailable"] < docs["Deployment"]["spec"]["replicas"]
    svc = docs["Service"]["spec"]
    assert svc["externalTrafficPolicy"] == "Local"
    np = docs["NetworkPolicy"]["spec"]
    assert np["podSelector"]["matchLabels"].items() <= labels.items()
    assert set(np["policyTypes"]) == {"Ingress", "Egress"}
    ingress_ports = {p["port"] for r in np["ingress"] for p in r["ports"]}
    assert ingress_ports == {2525, 9125}


def test_kubernetes_proxy_protocol_variant(tmp_path):
    import yaml
    base = os.path.join(REPO, "deploy", "kubernetes")
    with open(os.path.join(base, "kustomization.yaml")) as f:
        assert yaml.safe_load(f)["resources"] == ["mxshield.yaml"]
    with open(os.path.join(base, "proxy-protocol", "kustomization.yaml")) as f:
        k = yaml.safe_load(f)
    assert k["resources"] == ["../"]
    patches = {}
    for p in k["patches"]:
        (doc,) = k8s_docs(os.path.join("proxy-protocol", p["path"]))
        patches[doc["kind"]] = doc
    assert set(patches) == {"ConfigMap", "Service"}
    text = patches["ConfigMap"]["data"]["mxshield.conf"]
    conf = tmp_path / "k8s-proxy.conf"
    conf.write_text(text)
    check_config(conf)
    assert re.search(r"proxy_protocol\s*=\s*true", text)
    assert re.search(r"trusted_proxies\s*=\s*\[\s*\"", text)
    assert re.search(r"port\s*=\s*9125", text)      # the probes' port is still there
    grace = {d["kind"]: d for d in k8s_docs("mxshield.yaml")}["Deployment"]["spec"][
        "template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > conf_int(text, "drain_delay", 0) + conf_int(text, "shutdown_timeout", 30)
    svc = patches["Service"]
    assert svc["metadata"]["name"] == "mxshield"
    assert svc["spec"]["externalTrafficPolicy"] == "Cluster"


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
