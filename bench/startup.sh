#!/usr/bin/env bash
# startup.sh times berthd's start-up with many containers on disk: a berthd
# of its own (own data root, exec root, socket, bridge, cgroup parent) gets
# C containers, half of them running `sleep`, is stopped (they keep running
# under their monitors) and is then started N times; bench/tools/startup
# records when the first /_ping is answered and when /containers/json
# lists every running one again (restore done). Then the daemon's RSS, and
# dockerd's time to its first /_ping with no containers when installed.
# A measurement, not a test.
#
# Usage: bench/startup.sh [-n N] [-c CONTAINERS]
set -euo pipefail

N="${N:-10}"
C="${C:-1000}"
while (($# > 0)); do
	case "$1" in
	-n) N="$2"; shift ;;
	-c) C="$2"; shift ;;
	-h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
BIN="${BIN:-$(cd "$(dirname "$0")/.." && pwd)/bin}"
IMAGES="${IMAGES:-/var/cache/berth/images}"
DOCKERD="${DOCKERD:-dockerd}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/berth-startup.XXXXXX)"
sock="$work/berth.sock"
log() { printf '==> %s\n' "$*" >&2; }
daemon_pid=""
stop_daemon() {
	[[ -n "$daemon_pid" ]] || return 0
	kill "$daemon_pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
	daemon_pid=""
}
cleanup() {
	stop_daemon
	if [[ -d "$work/data" ]]; then # the containers go with a daemon of their own
		start_daemon >/dev/null 2>&1 && "$BIN/berth" -H "unix://$sock" ps -aq | xargs -r "$BIN/berth" -H "unix://$sock" rm -f >/dev/null 2>&1 || true
		stop_daemon
	fi
	ip link del bst0 2>/dev/null || true
	# the cgroup parent (a runtime leaves it behind, empty)
	find /sys/fs/cgroup -maxdepth 2 -type d -name berth-startup -exec rmdir {} + 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo '{"cgroup-parent": "/berth-startup"}' >"$work/daemon.json"
DAEMON=("$BIN/berthd" --config-file "$work/daemon.json" --data-root "$work/data" --exec-root "$work/run"
	-H "unix://$sock" --bridge bst0)
start_daemon() {
	"${DAEMON[@]}" >>"$work/berthd.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq 200); do "$BIN/berth" -H "unix://$sock" version >/dev/null 2>&1 && return 0; sleep 0.05; done
	log "berthd did not come up:"; tail -20 "$work/berthd.log" >&2; return 1
}
B=("$BIN/berth" -H "unix://$sock")
start_daemon
[[ -f "$IMAGES/busybox.tar" ]] || "$here/../scripts/make-images.sh" "$IMAGES" >&2
"${B[@]}" import -c 'CMD ["sh"]' "$IMAGES/busybox.tar" busybox:latest >/dev/null
log "creating $C containers ($((C / 2)) running)"
for i in $(seq "$C"); do
	if ((i % 2)); then
		"${B[@]}" run -d --network none busybox sleep 1000000 >/dev/null
	else
		"${B[@]}" create --network none busybox true >/dev/null
	fi
done
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
log "berthd RSS with $C containers (before restart): $(rss_kb "$daemon_pid") kB"
stop_daemon
(cd "$here/tools/startup" && go build -o "$work/startup" .)
log "berthd: $N start-ups with $C containers on disk, $((C / 2)) running"
"$work/startup" -sock "$sock" -n "$N" -running "$((C / 2))" -- "${DAEMON[@]}" 2>>"$work/berthd.log"
start_daemon
sleep 2
log "berthd RSS after restoring $C containers: $(rss_kb "$daemon_pid") kB"
stop_daemon
if command -v "$DOCKERD" >/dev/null; then
	d="$work/docker"
	mkdir -p "$d"
	log "dockerd: $N start-ups with no containers"
	"$work/startup" -sock "$d/docker.sock" -n "$N" -- "$DOCKERD" --host "unix://$d/docker.sock" \
		--data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" --iptables=false --bridge=none 2>/dev/null
fi
