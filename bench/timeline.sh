#!/usr/bin/env bash
# timeline.sh puts one `berth run --rm` on a timeline across every process
# it involves: the CLI, berthd, the container's monitor and the
# container's first process until its execve. Each writes marks to one
# file (BERTH_TRACE, internal/trace); bench/tools/timeline merges N runs
# into a table of steps with median wall time and each process's CPU time.
# It runs a berthd of its own (own data root, exec root, socket, bridge,
# cgroup parent). A measurement, not a test.
#
# Usage: bench/timeline.sh [-n N] [--exec] [-- RUN ARGS…]   (default: --network none busybox true)
#   --exec traces `berth exec CTR true` in a running container instead.
set -euo pipefail

N="${N:-20}"
EXEC=""
while (($# > 0)); do
	case "$1" in
	-n) N="$2"; shift ;;
	--exec) EXEC=1 ;;
	--) shift; break ;;
	-h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
RUN=("$@")
((${#RUN[@]} > 0)) || RUN=(--network none busybox true)

BIN="${BIN:-$(cd "$(dirname "$0")/.." && pwd)/bin}"
IMAGES="${IMAGES:-/var/cache/berth/images}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/berth-timeline.XXXXXX)"
trace="$work/trace"
sock="unix://$work/berth.sock"
log() { printf '==> %s\n' "$*" >&2; }
daemon_pid=""
cleanup() {
	if [[ -n "$daemon_pid" ]]; then
		# containers still running (-d) go first: a daemon's stop leaves them, and their mounts
		local left
		left="$("$BIN/berth" -H "$sock" ps -aq 2>/dev/null || true)"
		[[ -z "$left" ]] || "$BIN/berth" -H "$sock" rm -f $left >/dev/null 2>&1 || true
		kill "$daemon_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
	fi
	ip link del btl0 2>/dev/null || true
	# the cgroup parent (a runtime leaves it behind, empty)
	find /sys/fs/cgroup -maxdepth 2 -type d -name berth-timeline -exec rmdir {} + 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo '{"cgroup-parent": "/berth-timeline"}' >"$work/daemon.json"
BERTH_TRACE="$trace" "$BIN/berthd" --config-file "$work/daemon.json" --data-root "$work/data" --exec-root "$work/run" \
	-H "$sock" --bridge btl0 --pidfile "$work/berthd.pid" >"$work/berthd.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do "$BIN/berth" -H "$sock" version >/dev/null 2>&1 && break; sleep 0.05; done
[[ -f "$IMAGES/busybox.tar" ]] || "$here/../scripts/make-images.sh" "$IMAGES" >&2
"$BIN/berth" -H "$sock" import -c 'CMD ["sh"]' "$IMAGES/busybox.tar" busybox:latest >/dev/null
for _ in 1 2 3; do "$BIN/berth" -H "$sock" run --rm "${RUN[@]}" >/dev/null; done # warm caches
CMD=(run --rm "${RUN[@]}")
if [[ -n "$EXEC" ]]; then
	ctr="$("$BIN/berth" -H "$sock" run -d --network none busybox sleep 100000)"
	CMD=(exec "$ctr" true)
	"$BIN/berth" -H "$sock" "${CMD[@]}"
fi
sleep 0.2
: >"$trace"
log "tracing $N × berth ${CMD[*]}"
for _ in $(seq "$N"); do
	# the shell's mark, just before it forks and execs the CLI
	printf '%s 0 %d sh exec\n' "${EPOCHREALTIME/./}000" $$ >>"$trace"
	BERTH_TRACE="$trace" "$BIN/berth" -H "$sock" "${CMD[@]}" >/dev/null
	sleep 0.1 # let the daemon's last marks land before the next run
done
[[ -z "$EXEC" ]] || "$BIN/berth" -H "$sock" rm -f "$ctr" >/dev/null
(cd "$here/.." && go run ./bench/tools/timeline -trace "$trace")
