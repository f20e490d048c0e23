#!/usr/bin/env bash
# stats.sh benchmarks `stats --no-stream` and the memory of the engine with
# 20 running containers, berth side by side with dockerd (when installed):
# median wall time of `stats --no-stream` (plain and with --format) through
# each engine's CLI and through the docker CLI pointed at berthd; RSS and PSS
# of the per-container supervisor (berth-monitor vs containerd-shim-runc-v2);
# RSS and PSS of the daemons (berthd vs dockerd + containerd). A measurement,
# not a test. Results and notes: results/2026-11-23-stats.txt.
#
# Usage: [BERTH_HOST=unix:///run/berth/berth.sock] bench/stats.sh [-n N] [--engines "berth docker"]
#        (without BERTH_HOST it starts a private berthd from a copy of $BERTH_BIN)
set -euo pipefail

N="${N:-10}"
ENGINES="${ENGINES:-berth docker}"
while (($# > 0)); do
	case "$1" in
	-n) N="$2"; shift ;;
	--engines) ENGINES="$2"; shift ;;
	-h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done

BERTH_BIN="${BERTH_BIN:-bin}"          # berthd, berth, berth-monitor, berth-seccomp, berth-init (make build)
BERTH_HOST="${BERTH_HOST:-}"           # empty: start a private berthd
BERTH="${BERTH:-}"                     # berth CLI; default: the private copy, or bin/berth
BERTH_BRIDGE="${BERTH_BRIDGE:-berthbs0}" # the private berthd's default bridge
BERTH_BIP="${BERTH_BIP:-10.233.0.1/24}"
BERTH_RUN_ARGS="${BERTH_RUN_ARGS:---network none}"
DOCKER="${DOCKER:-docker}"
DOCKERD="${DOCKERD:-dockerd}"
DOCKER_RUN_ARGS="${DOCKER_RUN_ARGS:---network none}"
IMAGES="${IMAGES:-/var/cache/berth/images}"
HYPERFINE="${HYPERFINE-hyperfine}" # empty: time with a shell loop instead
NCTR="${NCTR:-20}"                 # running containers during the measurements
QUIET="${QUIET:-12}"                # seconds of quiet before the last daemon measurement
FORMAT='{{.Name}} {{.CPUPerc}} {{.MemUsage}}'
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/berth-statsbench.XXXXXX)"

log() { printf '==> %s\n' "$*" >&2; }

# ---- cleanup: our containers, our daemons and what they leave behind ---------
CLI=()
cleanup_ids=() # "engine id" pairs
dockerd_pid=""
berthd_pid="" # only when we started it
cleanup() {
	local entry engine id p
	set +e
	for entry in "${cleanup_ids[@]}"; do
		read -r engine id <<<"$entry"
		if use_engine "$engine"; then
			"${CLI[@]}" rm -f "$id" >/dev/null 2>&1
		fi
	done
	if [[ -n "$dockerd_pid" ]]; then
		log "stopping dockerd ($dockerd_pid)"
		stop_pid "$dockerd_pid"
	fi
	if [[ -n "$berthd_pid" ]]; then
		log "stopping berthd ($berthd_pid)"
		stop_pid "$berthd_pid"
		# monitors exit just after their container is removed
		for _ in $(seq 50); do [[ -z "$(private_monitors)" ]] && break; sleep 0.1; done
		for p in $(private_monitors); do kill -9 "$p" 2>/dev/null; done
		# berthd keeps its default bridge and chains (as dockerd keeps docker0)
		ip link del "$BERTH_BRIDGE" 2>/dev/null
		p="$(printf '%s' "$work/berth/data" | sha256sum | cut -c1-6)"
		log "removing bridge $BERTH_BRIDGE, iptables chains BERTH-*$p and cgroup /$(basename "$work")"
		drop_chains "$p"
		# the cgroup parent: runc/native leave it behind
		for p in /sys/fs/cgroup/*/"$(basename "$work")"/* /sys/fs/cgroup/*/"$(basename "$work")" /sys/fs/cgroup/"$(basename "$work")"; do
			[[ -d "$p" ]] && rmdir "$p" 2>/dev/null
		done
	fi
	# anything still mounted under our temp dir, deepest first
	awk -v w="$work" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r p; do umount -l "$p" 2>/dev/null; done
	rm -rf "$work" 2>/dev/null
}
trap cleanup EXIT

stop_pid() {
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 75); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.2; done
	kill -9 "$1" 2>/dev/null || true
}

# private_monitors lists the berth-monitor processes started from our copy of the binaries.
private_monitors() {
	grep -l -a -F "$work/bin/berth-monitor" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 || true
}

# drop_chains SUFFIX removes berthd's iptables chains BERTH-*-SUFFIX and the jumps to them.
drop_chains() {
	local suffix="$1" t rule c
	command -v iptables >/dev/null 2>&1 || return 0
	for t in nat filter; do
		iptables -t "$t" -S 2>/dev/null | grep -E "^-A .* -j BERTH-([A-Z0-9]+-)?$suffix( |$)" | grep -vE "^-A BERTH-" |
			sed 's/^-A/-D/' | while read -r rule; do eval iptables -t "$t" "$rule" 2>/dev/null || true; done
		for c in $(iptables -t "$t" -S 2>/dev/null | awk -v s="$suffix" '/^-N BERTH-/ && $2 ~ ("-" s "$") { print $2 }'); do
			iptables -t "$t" -F "$c" 2>/dev/null || true
		done
		for c in $(iptables -t "$t" -S 2>/dev/null | awk -v s="$suffix" '/^-N BERTH-/ && $2 ~ ("-" s "$") { print $2 }'); do
			iptables -t "$t" -X "$c" 2>/dev/null || true
		done
	done
}

# shellcheck source=bench/lib.sh
source "$here/lib.sh"

start_berthd() {
	local d="$work/berth" f
	mkdir -p "$d" "$work/bin"
	for f in berthd berth berth-monitor berth-seccomp berth-init; do
		[[ -x "$BERTH_BIN/$f" ]] || { log "berth: $BERTH_BIN/$f missing (make build)"; return 1; }
		cp "$BERTH_BIN/$f" "$work/bin/" # bin/ may be rebuilt under us
	done
	if ip link show "$BERTH_BRIDGE" >/dev/null 2>&1; then
		log "berth: interface $BERTH_BRIDGE exists (another daemon's, or left over): set BERTH_BRIDGE or delete it"
		return 1
	fi
	# its own cgroup parent, so nothing collides with other berthds
	printf '{"cgroup-parent": "/%s"}\n' "$(basename "$work")" >"$d/daemon.json"
	log "starting berthd on unix://$d/berth.sock (bridge $BERTH_BRIDGE $BERTH_BIP)"
	"$work/bin/berthd" -H "unix://$d/berth.sock" --data-root "$d/data" --exec-root "$d/exec" \
		--pidfile "$d/berthd.pid" --config-file "$d/daemon.json" \
		--bridge "$BERTH_BRIDGE" --bip "$BERTH_BIP" >"$d/berthd.log" 2>&1 &
	berthd_pid=$!
	BERTH_HOST="unix://$d/berth.sock"
	BERTH="${BERTH:-$work/bin/berth}"
	for _ in $(seq 100); do
		"$BERTH" -H "$BERTH_HOST" version >/dev/null 2>&1 && return 0
		kill -0 "$berthd_pid" 2>/dev/null || break
		sleep 0.2
	done
	log "berthd did not come up; its log:"
	tail -20 "$d/berthd.log" >&2
	return 1
}




# sample N CMD... runs CMD N times (after one warm-up) and prints "median p90" ms.
sample() {
	local n="$1" out="$work/samples" t0 t1 i
	shift
	: >"$out"
	if [[ -n "$HYPERFINE" ]] && command -v "$HYPERFINE" >/dev/null 2>&1; then
		"$HYPERFINE" -N --style none --warmup 1 --runs "$n" --export-json "$work/hf.json" \
			-- "$(printf '%q ' "$@")" >/dev/null
		sed -n '/"times": \[/,/\]/p' "$work/hf.json" | tr -d ' ,' | grep -E '^[0-9.e-]+$' |
			awk '{ printf "%d\n", $1 * 1e9 }' >"$out"
	else
		"$@" >/dev/null
		for ((i = 0; i < n; i++)); do
			t0=$(date +%s%N)
			"$@" >/dev/null
			t1=$(date +%s%N)
			echo $((t1 - t0)) >>"$out"
		done
	fi
	stats "$out"
}

# ---- memory ------------------------------------------------------------------
# mem PID prints "rss pss" in kB (VmRSS of /proc/PID/status, Pss of smaps_rollup).
mem() {
	local rss pss
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true)
	pss=$(awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null || true)
	echo "${rss:-0} ${pss:-0}"
}

ppid_of() { awk '/^PPid:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
name_of() { awk '/^Name:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# supervisors ID... prints the pids (once each) of the processes named by
# $MONITOR that are the parents of the containers' init processes.
supervisors() {
	local id pid p
	for id in "$@"; do
		pid="$("${CLI[@]}" inspect -f '{{.State.Pid}}' "$id" 2>/dev/null || true)"
		[[ -n "$pid" && "$pid" != 0 ]] || continue
		p="$(ppid_of "$pid")"
		[[ -n "$p" ]] && [[ "$(name_of "$p")" =~ $MONITOR ]] && echo "$p"
	done | sort -u
}

# sum_mem PID... prints "rss pss" summed over the pids.
sum_mem() {
	local p
	for p in "$@"; do mem "$p"; done | awk '{ r += $1; s += $2 } END { printf "%d %d\n", r, s }'
}

# daemon_pids ENGINE prints the engine's daemon processes: berthd; dockerd and its containerd.
daemon_pids() {
	local p sock
	case "$1" in
	berth)
		if [[ -n "$berthd_pid" ]]; then
			echo "$berthd_pid"
		else # whoever listens on BERTH_HOST's socket
			sock="${BERTH_HOST#unix://}"
			ss -xlpn 2>/dev/null | awk -v s="$sock" '$5 == s' | grep -oE 'pid=[0-9]+' | head -1 | cut -d= -f2 || true
		fi
		;;
	docker)
		echo "$dockerd_pid"
		# the containerd it started (not one given with --containerd)
		cat /proc/[0-9]*/status 2>/dev/null | awk -v d="$dockerd_pid" '
			/^Name:/ { n = $2 } /^Pid:/ { p = $2 } /^PPid:/ { if ($2 == d && n == "containerd") print p }'
		;;
	esac
}

# rows CLI... says how many rows `stats --no-stream` prints, and how many of them
# are for no container ("--": stats of a container that is gone).
rows() {
	"$@" stats --no-stream --format '{{.Name}}' | awk '{ n++ } $1 == "--" { e++ } END { printf "%d rows (%d of them \"--\")\n", n, e }'
}

# ---- one engine --------------------------------------------------------------
declare -A result
bench_engine() {
	local engine="$1" ids=() id i p sup dmn
	use_engine "$engine"
	ensure_busybox
	# the server's version and git commit, as the docker CLI reports them (berth's CLI has no --format)
	result[$engine.version]="$("$DOCKER" -H "${CLI[2]}" version --format '{{.Server.Version}} (git {{.Server.GitCommit}})' 2>/dev/null ||
		"${CLI[@]}" version 2>/dev/null | awk '/^Server/ { s = 1 } s && /Version:/ { print $2; exit }')"
	if [[ "$engine" == docker ]]; then
		result[$engine.version]+=", docker CLI $("$DOCKER" -H "${CLI[2]}" version --format '{{.Client.Version}}' 2>/dev/null || true)"
	fi
	log "$engine: warming up"
	"${CLI[@]}" run --rm "${RUN_ARGS[@]}" busybox true >/dev/null

	mapfile -t dmn < <(daemon_pids "$engine")
	result[$engine.didle]="$(sum_mem "${dmn[@]}")"

	log "$engine: $NCTR x run -d ${RUN_ARGS[*]} busybox sleep 1000"
	for ((i = 0; i < NCTR; i++)); do
		id="$("${CLI[@]}" run -d "${RUN_ARGS[@]}" busybox sleep 1000)"
		ids+=("$id")
		cleanup_ids+=("$engine $id")
	done
	sleep 1

	log "$engine: stats --no-stream shows $(rows "${CLI[@]}")"
	log "$engine: stats --no-stream (N=$N)"
	result[$engine.stats]="$(sample "$N" "${CLI[@]}" stats --no-stream)"
	log "$engine: stats --no-stream --format (N=$N)"
	result[$engine.fmt]="$(sample "$N" "${CLI[@]}" stats --no-stream --format "$FORMAT")"
	if [[ "$engine" == berth ]] && command -v "$DOCKER" >/dev/null 2>&1; then
		log "docker CLI -> berthd: stats --no-stream shows $(rows env DOCKER_HOST="$BERTH_HOST" "$DOCKER")"
		log "docker CLI -> berthd: stats --no-stream (N=$N)"
		result[dcli.stats]="$(sample "$N" env DOCKER_HOST="$BERTH_HOST" "$DOCKER" stats --no-stream)"
		log "docker CLI -> berthd: stats --no-stream --format (N=$N)"
		result[dcli.fmt]="$(sample "$N" env DOCKER_HOST="$BERTH_HOST" "$DOCKER" stats --no-stream --format "$FORMAT")"
	fi

	mapfile -t sup < <(supervisors "${ids[@]}")
	result[$engine.nsup]="${#sup[@]}"
	if ((${#sup[@]} > 0)); then
		result[$engine.sup]="$(sum_mem "${sup[@]}" | awk -v n="$NCTR" '{ printf "%.0f %.0f\n", $1 / n, $2 / n }')"
		result[$engine.suptot]="$(sum_mem "${sup[@]}")"
	fi
	mapfile -t dmn < <(daemon_pids "$engine")
	result[$engine.dmn]="$(sum_mem "${dmn[@]}")"
	for p in "${dmn[@]}"; do
		result[$engine.detail]+="$(name_of "$p")[$p] $(mem "$p" | awk '{ printf "RSS %d kB, PSS %d kB", $1, $2 }'); "
	done
	# and after a quiet spell (berthd gives its free heap back when quiet;
	# both engines are measured alike)
	sleep "$QUIET"
	result[$engine.dquiet]="$(sum_mem "${dmn[@]}")"
	if [[ -n "${result[$engine.suptot]:-}" ]]; then
		result[$engine.total]="$(printf '%s\n%s\n' "${result[$engine.dmn]}" "${result[$engine.suptot]}" |
			awk '{ r += $1; s += $2 } END { printf "%d %d\n", r, s }')"
	fi

	log "$engine: removing its containers"
	"${CLI[@]}" rm -f "${ids[@]}" >/dev/null
}

# ---- main --------------------------------------------------------------------
ran=()
for engine in $ENGINES; do
	case "$engine" in
	berth)
		if [[ -z "$BERTH_HOST" ]]; then
			start_berthd || { log "berth: skipping"; continue; }
		else
			BERTH="${BERTH:-bin/berth}"
		fi
		if ! "$BERTH" -H "$BERTH_HOST" version >/dev/null 2>&1; then
			log "berth: no daemon answers on $BERTH_HOST via $BERTH; skipping"
			continue
		fi
		;;
	docker)
		if ! command -v "$DOCKERD" >/dev/null 2>&1 || ! command -v "$DOCKER" >/dev/null 2>&1; then
			log "docker: $DOCKERD or $DOCKER not installed; skipping"
			continue
		fi
		start_dockerd || continue
		;;
	*) echo "unknown engine: $engine" >&2; exit 2 ;;
	esac
	bench_engine "$engine"
	ran+=("$engine")
done
((${#ran[@]} > 0)) || { echo "no engine to benchmark" >&2; exit 1; }
command -v podman >/dev/null 2>&1 && log "podman is installed but not measured (conmon): add it by hand"

# cell KEY FIELD: one number of a result ("-" when missing).
cell() {
	local v="${result[$1]:-}"
	[[ -n "$v" ]] || { echo -; return; }
	awk -v f="$2" '{ print $f }' <<<"$v"
}

echo
echo "# $(nproc) CPUs, kernel $(uname -r), N=$N, $NCTR containers ($(date -u +%F))"
for e in "${ran[@]}"; do echo "# $e: ${result[$e.version]:-?}"; done
printf '%-50s %10s %10s %8s %14s\n' metric berth docker ratio docker-CLI→berth
rows=(
	"stats --no-stream ($NCTR ctrs), median ms|stats|1"
	"stats --no-stream ($NCTR ctrs), p90 ms|stats|2"
	"stats --no-stream --format ($NCTR ctrs), median ms|fmt|1"
	"stats --no-stream --format ($NCTR ctrs), p90 ms|fmt|2"
	"supervisor processes for $NCTR ctrs|nsup|1"
	"supervisor RSS per container, kB|sup|1"
	"supervisor PSS per container, kB|sup|2"
	"daemon(s) RSS, idle, kB|didle|1"
	"daemon(s) RSS, $NCTR ctrs, kB|dmn|1"
	"daemon(s) PSS, $NCTR ctrs, kB|dmn|2"
	"daemon(s) RSS, $NCTR ctrs, after ${QUIET}s quiet, kB|dquiet|1"
	"daemon(s) + supervisors RSS, $NCTR ctrs, kB|total|1"
	"daemon(s) + supervisors PSS, $NCTR ctrs, kB|total|2"
)
for row in "${rows[@]}"; do
	IFS='|' read -r label key field <<<"$row"
	b="$(cell "berth.$key" "$field")"
	d="$(cell "docker.$key" "$field")"
	c="$(cell "dcli.$key" "$field")"
	ratio=-
	if [[ "$b" != - && "$d" != - ]]; then
		ratio="$(awk -v b="$b" -v d="$d" 'BEGIN { if (d > 0) printf "%.2f", b / d; else print "-" }')"
	fi
	printf '%-50s %10s %10s %8s %14s\n' "$label" "$b" "$d" "$ratio" "$c"
done
echo "(ratio = berth / docker; lower is better for berth. --format '$FORMAT'."
echo " supervisor: berth-monitor vs containerd-shim-runc-v2, the parent of each container's init;"
echo " daemons: berthd vs dockerd + containerd. docker-CLI→berth: the docker CLI with DOCKER_HOST=berthd's socket.)"
for e in "${ran[@]}"; do
	[[ -n "${result[$e.detail]:-}" ]] && echo "$e daemons with $NCTR ctrs: ${result[$e.detail]%; }"
done
exit 0
