#!/usr/bin/env bash
# network.sh benchmarks berth's bridge networking side by side with dockerd
# (when installed): TCP throughput container↔container and host→published
# port (against plain loopback), HTTP requests/s through a published port,
# `run --rm` latency on the default bridge, and the time to start 50
# containers on one user-defined network. A measurement, not a test.
#
# Usage: bench/network.sh [-n N] [--engines "berth docker"]
set -euo pipefail

N="${N:-20}"
ENGINES="${ENGINES:-berth docker}"
while (($# > 0)); do
	case "$1" in
	-n) N="$2"; shift ;;
	--engines) ENGINES="$2"; shift ;;
	-h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done

BERTH="${BERTH:-bin/berth}"
BERTH_HOST="${BERTH_HOST:-unix:///run/berth/berth.sock}"
DOCKER="${DOCKER:-docker}"
DOCKERD="${DOCKERD:-dockerd}"
IMAGES="${IMAGES:-/var/cache/berth/images}"
SECS="${SECS:-3}"  # seconds per throughput sample
NNET=50            # containers started on one network
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/berth-netbench.XXXXXX)"
log() { printf '==> %s\n' "$*" >&2; }

CLI=()
dockerd_pid=""
forward_policy="$(iptables -S FORWARD 2>/dev/null | awk '/^-P FORWARD/ { print $3 }')"
forward_policy="${forward_policy:-ACCEPT}"
cleanup() {
	for e in berth docker; do
		use_engine "$e" 2>/dev/null || continue
		[[ "$e" == docker && -z "$dockerd_pid" ]] && continue
		ids="$("${CLI[@]}" ps -aq --filter label=berth-netbench 2>/dev/null || true)"
		[[ -n "$ids" ]] && "${CLI[@]}" rm -f $ids >/dev/null 2>&1
		"${CLI[@]}" network rm netbench >/dev/null 2>&1 || true
	done
	if [[ -n "$dockerd_pid" ]]; then
		kill "$dockerd_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$dockerd_pid" 2>/dev/null || true
	fi
	if [[ -n "$dockerd_pid" ]]; then
		# dockerd leaves docker0, its chains and a FORWARD policy of DROP behind
		ip link del docker0 2>/dev/null || true
		for t in nat filter; do
			iptables -t "$t" -S | grep -E '^-A (PREROUTING|OUTPUT|POSTROUTING|FORWARD|INPUT) .*(DOCKER|docker0)' | sed 's/^-A/-D/' |
				while read -r rule; do eval iptables -t "$t" "$rule" 2>/dev/null || true; done
			for c in $(iptables -t "$t" -S | awk '/^-N DOCKER/ { print $2 }'); do iptables -t "$t" -F "$c" 2>/dev/null || true; done
			for c in $(iptables -t "$t" -S | awk '/^-N DOCKER/ { print $2 }'); do iptables -t "$t" -X "$c" 2>/dev/null || true; done
		done
		iptables -P FORWARD "$forward_policy" 2>/dev/null || true
	fi
	umount -R "$work/docker" 2>/dev/null || true
	rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

use_engine() {
	case "$1" in
	berth) CLI=("$BERTH" -H "$BERTH_HOST") ;;
	docker) CLI=("$DOCKER" -H "unix://$work/docker/docker.sock") ;;
	*) return 1 ;;
	esac
}

start_dockerd() {
	local d="$work/docker"
	mkdir -p "$d"
	log "starting dockerd on unix://$d/docker.sock (bridge 10.213.0.1/24, iptables on, no userland proxy)"
	"$DOCKERD" --host "unix://$d/docker.sock" --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" \
		--bip 10.213.0.1/24 --userland-proxy=false >"$d/dockerd.log" 2>&1 &
	dockerd_pid=$!
	for _ in $(seq 100); do
		"$DOCKER" -H "unix://$d/docker.sock" version >/dev/null 2>&1 && return 0
		kill -0 "$dockerd_pid" 2>/dev/null || break
		sleep 0.2
	done
	log "dockerd did not come up:"; tail -20 "$d/dockerd.log" >&2
	return 1
}

ensure_busybox() {
	[[ -n "$("${CLI[@]}" images -q busybox:latest 2>/dev/null)" ]] && return 0
	[[ -f "$IMAGES/busybox.tar" ]] || "$here/../scripts/make-images.sh" "$IMAGES" >&2
	"${CLI[@]}" import -c 'CMD ["sh"]' "$IMAGES/busybox.tar" busybox:latest >/dev/null
}

# the throughput tool, static so it runs in busybox
log "building bench/tools/tcpbench"
(cd "$here/tools/tcpbench" && CGO_ENABLED=0 go build -o "$work/tools/tcpbench" .)
command -v wrk >/dev/null || { log "installing wrk"; apt-get install -y -qq wrk >/dev/null 2>&1 || true; }

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# latency N CMD… prints the median ms of N runs
latency() {
	local n="$1" t0 t1 i
	shift
	for ((i = 0; i < n; i++)); do
		t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done | median | awk '{ printf "%.1f", $1 / 1000 }'
}

declare -A R
L=(--label berth-netbench)
bench_engine() {
	local e="$1" srv ip port t0 t1 i
	use_engine "$e"
	ensure_busybox
	"${CLI[@]}" run --rm busybox true >/dev/null
	log "$e: run --rm busybox true on the default bridge (N=$N)"
	R[$e.run]="$(latency "$N" "${CLI[@]}" run --rm busybox true)"

	"${CLI[@]}" network create netbench >/dev/null
	log "$e: $NNET x run -d on one network"
	t0=$(date +%s%N)
	for ((i = 0; i < NNET; i++)); do "${CLI[@]}" run -d "${L[@]}" --network netbench busybox sleep 1000 >/dev/null; done
	t1=$(date +%s%N)
	R[$e.net50]="$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", ns / 1e6 }')"
	"${CLI[@]}" rm -f $("${CLI[@]}" ps -aq --filter label=berth-netbench) >/dev/null

	log "$e: TCP container -> container (${SECS}s)"
	srv="$("${CLI[@]}" run -d "${L[@]}" --network netbench --name nb-srv -v "$work/tools:/t:ro" busybox /t/tcpbench serve :5001)"
	R[$e.c2c]="$("${CLI[@]}" run --rm "${L[@]}" --network netbench -v "$work/tools:/t:ro" busybox /t/tcpbench send nb-srv:5001 "$SECS")"
	"${CLI[@]}" rm -f "$srv" >/dev/null

	port=$(( 20000 + RANDOM % 10000 ))
	log "$e: TCP host -> published port $port (${SECS}s)"
	srv="$("${CLI[@]}" run -d "${L[@]}" -p "127.0.0.1:$port:5001" -v "$work/tools:/t:ro" busybox /t/tcpbench serve :5001)"
	R[$e.h2p]="$("$work/tools/tcpbench" send "127.0.0.1:$port" "$SECS")"
	"${CLI[@]}" rm -f "$srv" >/dev/null

	if command -v wrk >/dev/null; then
		port=$(( 30000 + RANDOM % 10000 ))
		log "$e: HTTP requests/s through published port $port (wrk, ${SECS}s)"
		mkdir -p "$work/www" && echo hello >"$work/www/index.html"
		srv="$("${CLI[@]}" run -d "${L[@]}" -p "127.0.0.1:$port:80" -v "$work/www:/www:ro" busybox httpd -f -h /www -p 80)"
		sleep 0.5
		R[$e.rps]="$(wrk -t2 -c8 -d"${SECS}s" "http://127.0.0.1:$port/index.html" | awk '/Requests\/sec/ { printf "%.0f", $2 }')"
		"${CLI[@]}" rm -f "$srv" >/dev/null
	fi
	"${CLI[@]}" network rm netbench >/dev/null
}

log "loopback baseline (${SECS}s)"
"$work/tools/tcpbench" serve 127.0.0.1:5999 &
lb_pid=$!
R[loop.tcp]="$("$work/tools/tcpbench" send 127.0.0.1:5999 "$SECS")"
kill "$lb_pid" 2>/dev/null || true

for e in $ENGINES; do
	case "$e" in
	berth) "$BERTH" -H "$BERTH_HOST" version >/dev/null 2>&1 || { log "berth: no daemon on $BERTH_HOST; skipping"; continue; } ;;
	docker) command -v "$DOCKERD" >/dev/null 2>&1 || { log "docker: not installed; skipping"; continue; }; start_dockerd || continue ;;
	esac
	bench_engine "$e"
done

echo
echo "loopback TCP (host, no containers): ${R[loop.tcp]} MB/s"
printf '%-44s %10s %10s %8s\n' metric berth docker ratio
for row in "run --rm busybox true, default bridge, median ms|run" "$NNET x run -d on one network, total ms|net50" \
	"TCP container->container, MB/s|c2c" "TCP host->published port, MB/s|h2p" "HTTP req/s through published port (wrk)|rps"; do
	IFS='|' read -r label key <<<"$row"
	b="${R[berth.$key]:--}" d="${R[docker.$key]:--}" ratio=-
	if [[ "$b" != - && "$d" != - ]]; then ratio="$(awk -v b="$b" -v d="$d" 'BEGIN { if (d > 0) printf "%.2f", b / d }')"; fi
	printf '%-44s %10s %10s %8s\n' "$label" "$b" "$d" "$ratio"
done
echo "(ratio = berth / docker: for times lower is better, for MB/s and req/s higher is better)"
