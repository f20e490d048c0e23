#!/usr/bin/env bash
# docker-py.sh runs docker-py's integration tests (less swarm, plugin, secret,
# config and credential-helper tests) against a running berthd and prints the
# pass/fail counts.
#
# Usage: scripts/judge/docker-py.sh CHECKOUT [DOCKER_HOST]
#
#   CHECKOUT     a docker-py checkout (its tests/integration is run; docker is
#                imported from it, never from an installed python3-docker)
#   DOCKER_HOST  the daemon to test (default: $DOCKER_HOST, else
#                unix:///run/berth/berth.sock)
#
# Environment:
#   BERTH         berth CLI used to import and tag images (default: bin/berth
#                 beside this repo's scripts/)
#   IMAGES        where scripts/make-images.sh left busybox.tar
#                 (default /var/cache/berth/images); imported only if
#                 busybox:latest is missing
#   OUT           directory for junit.xml, pytest.log and the suite's HOME
#                 (default: a new temp dir)
#   TEST_TIMEOUT  per-test timeout in seconds, pytest-timeout (default 60)
#   RUN_TIMEOUT   timeout for the whole run in seconds (default 5400)
#   PYTEST_ARGS   extra pytest arguments (e.g. "-k test_kill")
#   MIRROR        host:port of a registry the daemon's registry-mirrors names:
#                 the stand-ins are pushed there as library/<name>, so the
#                 suite's pulls from Docker Hub find them
#   CLEAN         1: before and after the run, remove every container, unused
#                 network and volume and dangling image on the daemon (only for
#                 a daemon of its own; the suite leaves some behind). Default 0.
#
# It fetches and builds nothing: Python dependencies come from Debian's packages
# (installed with apt-get when missing and run as root), and images are the local
# busybox tagged under the names the suite pulls (and pushed to MIRROR):
#   alpine:3.10, alpine:latest  <- busybox:latest with alpine's postgres account
#   hello-world:latest          berth's built-in image, left as it is
# Exit status: pytest's (0 all passed, 1 some failed), 124 on RUN_TIMEOUT.
set -uo pipefail

usage() {
	echo "usage: $0 CHECKOUT [DOCKER_HOST]" >&2
	exit 2
}
(($# >= 1 && $# <= 2)) || usage
checkout="$(cd "$1" 2>/dev/null && pwd)" || {
	echo "no such checkout: $1" >&2
	exit 2
}
[[ -d "$checkout/tests/integration" && -f "$checkout/docker/__init__.py" ]] || {
	echo "$checkout is not a docker-py checkout" >&2
	exit 2
}
export DOCKER_HOST="${2:-${DOCKER_HOST:-unix:///run/berth/berth.sock}}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BERTH="${BERTH:-$here/../../bin/berth}"
IMAGES="${IMAGES:-/var/cache/berth/images}"
TEST_TIMEOUT="${TEST_TIMEOUT:-60}"
RUN_TIMEOUT="${RUN_TIMEOUT:-5400}"
OUT="${OUT:-$(mktemp -d /tmp/docker-py-judge.XXXXXX)}"
mkdir -p "$OUT"
PY=/usr/bin/python3 # Debian's python, where the apt packages are

log() { printf '==> %s\n' "$*" >&2; }

# --- Python dependencies (Debian packages only) ---
pkgs=(python3-pytest python3-requests python3-websocket python3-paramiko
	python3-packaging python3-urllib3 python3-pytest-timeout)
if ! "$PY" -c 'import pytest, requests, urllib3, websocket, paramiko, packaging, pytest_timeout' 2>/dev/null; then
	if [[ "$(id -u)" -ne 0 ]]; then
		echo "missing python deps: apt-get install ${pkgs[*]}" >&2
		exit 1
	fi
	log "installing ${pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2 ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2; } ||
		exit 1
fi
export PYTHONPATH="$checkout${PYTHONPATH:+:$PYTHONPATH}"
# The suite reads and writes ~/.docker (config.json's proxies and detachKeys, the
# context tests' "test" context): give it a HOME of its own, away from the user's
# and from other suites running on the machine.
# An empty config.json there also anchors docker-py's context store: without a
# config file it is ./contexts under the working directory (the checkout), where
# test_load_context_without_orchestrator leaves a "test" context that fails the
# next run's context tests.
export HOME="$OUT/home"
mkdir -p "$HOME/.docker"
echo '{}' >"$HOME/.docker/config.json"
rm -rf "$HOME/.docker/contexts"
unset DOCKER_CONFIG DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
got="$(cd / && "$PY" -c 'import docker, os; print(os.path.dirname(os.path.dirname(os.path.realpath(docker.__file__))))')"
[[ "$got" == "$checkout" ]] || {
	echo "docker is imported from $got, not $checkout" >&2
	exit 1
}

clean() {
	local ids
	ids="$("$BERTH" ps -aq)"
	# shellcheck disable=SC2086
	[[ -z "$ids" ]] || "$BERTH" rm -f -v $ids >/dev/null
	"$BERTH" network prune -f >/dev/null
	"$BERTH" volume prune -a -f >/dev/null
	"$BERTH" image prune -f >/dev/null
}

# --- stand-in images ---
[[ -x "$BERTH" ]] || {
	echo "no berth CLI at $BERTH (set BERTH)" >&2
	exit 1
}
"$BERTH" version >/dev/null || {
	echo "no daemon at $DOCKER_HOST" >&2
	exit 1
}
if ! "$BERTH" image inspect busybox:latest >/dev/null 2>&1; then
	[[ -f "$IMAGES/busybox.tar" ]] || {
		echo "busybox:latest missing and no $IMAGES/busybox.tar (run scripts/make-images.sh $IMAGES)" >&2
		exit 1
	}
	log "importing $IMAGES/busybox.tar as busybox:latest"
	"$BERTH" import -c 'CMD ["sh"]' "$IMAGES/busybox.tar" busybox:latest >/dev/null || exit 1
fi
# alpine's accounts that tests use (exec -u postgres) are added to the stand-in
standin="$(mktemp -d)"
cat >"$standin/Dockerfile" <<'DOCKERFILE'
FROM busybox:latest
RUN mkdir -p /etc && touch /etc/passwd /etc/group && \
    (grep -q '^postgres:' /etc/passwd || echo 'postgres:x:70:70::/var/lib/postgresql:/bin/sh' >>/etc/passwd) && \
    (grep -q '^postgres:' /etc/group || echo 'postgres:x:70:' >>/etc/group)
DOCKERFILE
"$BERTH" build -q -t alpine:3.10 "$standin" >/dev/null || exit 1
rm -rf "$standin"
"$BERTH" tag alpine:3.10 alpine:latest || exit 1
log "stand-ins: alpine:3.10 alpine:latest <- busybox:latest + alpine's postgres account ($("$BERTH" image inspect -f '{{.Id}}' alpine:3.10 2>/dev/null))"

# The suite pulls these names from Docker Hub: a daemon whose registry-mirrors
# names MIRROR (host:port of a registry, e.g. `berth registry serve`) gets them
# from there, as from the Hub.
if [[ -n "${MIRROR:-}" ]]; then
	for img in hello-world:latest alpine:3.10 alpine:latest busybox:latest; do
		"$BERTH" tag "$img" "$MIRROR/library/$img" && "$BERTH" push -q "$MIRROR/library/$img" >/dev/null || exit 1
		"$BERTH" rmi "$MIRROR/library/$img" >/dev/null
	done
	log "stand-ins pushed to the mirror $MIRROR as library/*"
fi

if [[ "${CLEAN:-0}" == 1 ]]; then
	log "CLEAN=1: removing containers, unused networks and volumes, dangling images"
	clean
fi

# --- the selection ---
ignore=(
	api_swarm_test.py models_swarm_test.py api_service_test.py models_services_test.py
	models_nodes_test.py api_plugin_test.py api_secret_test.py api_config_test.py
	credentials
)
args=()
for f in "${ignore[@]}"; do args+=("--ignore=tests/integration/$f"); done
args+=(-p no:cacheprovider -rA -v "--junitxml=$OUT/junit.xml" "--timeout=$TEST_TIMEOUT")
# shellcheck disable=SC2206
args+=(${PYTEST_ARGS:-})

log "pytest tests/integration against $DOCKER_HOST; log: $OUT/pytest.log"
cd "$checkout" || exit 1
timeout -k 30 "$RUN_TIMEOUT" "$PY" -m pytest "${args[@]}" tests/integration >"$OUT/pytest.log" 2>&1
rc=$?
tail -n 3 "$OUT/pytest.log"

# --- counts from the junit report ---
if [[ -f "$OUT/junit.xml" ]]; then
	"$PY" - "$OUT/junit.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
# pytest writes a second <testcase> for a teardown error; count each test once:
# failed if its call failed, error if only setup/teardown failed.
order, res, terr = [], {}, set()
for tc in root.iter("testcase"):
    name = f'{tc.get("classname")}::{tc.get("name")}'
    kinds = {c.tag for c in tc}
    if "failure" in kinds:
        st = "failed"
    elif "error" in kinds:
        st = "errors"
    elif "skipped" in kinds:
        st = "skipped"  # skips and xfails
    else:
        st = "passed"   # passes and xpasses
    if name not in res:
        order.append(name)
        res[name] = st
    elif st == "errors":
        terr.add(name)
        if res[name] != "failed":
            res[name] = "errors"
    elif st == "failed":
        res[name] = "failed"
n = {k: 0 for k in ("passed", "failed", "skipped", "errors")}
for name in order:
    n[res[name]] += 1
    if res[name] in ("failed", "errors"):
        extra = " (+teardown error)" if name in terr and res[name] == "failed" else ""
        print(f'{"FAIL" if res[name] == "failed" else "ERROR"} {name}{extra}')
print(f"docker-py: {n['passed']} passed, {n['failed']} failed, {n['skipped']} skipped, {n['errors']} errors of {len(order)}")
EOF
else
	echo "no junit report (pytest exit $rc); see $OUT/pytest.log" >&2
fi
if [[ "${CLEAN:-0}" == 1 ]]; then
	clean
fi
echo "output: $OUT"
exit "$rc"
