#!/usr/bin/env bash
# run.sh benchmarks berth side by side with dockerd (when installed) through the
# docker-compatible CLI of each. It is a measurement, not a test; see README.md.
#
# Usage: bench/run.sh [-n N] [--engines "berth docker"]
set -euo pipefail

N="${N:-20}"
ENGINES="${ENGINES:-berth docker}"
while (($# > 0)); do
	case "$1" in
	-n) N="$2"; shift ;;
	--engines) ENGINES="$2"; shift ;;
	-h | --help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done

BERTH="${BERTH:-bin/berth}"
BERTH_HOST="${BERTH_HOST:-unix:///run/berth/berth.sock}"
BERTH_RUN_ARGS="${BERTH_RUN_ARGS:---network none}"
DOCKER="${DOCKER:-docker}"
DOCKERD="${DOCKERD:-dockerd}"
DOCKER_RUN_ARGS="${DOCKER_RUN_ARGS:---network none}"
IMAGES="${IMAGES:-/tmp/berth-images}"
HYPERFINE="${HYPERFINE-hyperfine}" # empty: time with a shell loop instead
NCTR=20 # containers started for the `run -d` total, `ps -a` and RSS metrics
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/berth-bench.XXXXXX)"

log() { printf '==> %s\n' "$*" >&2; }

# ---- cleanup: every container we started, and our dockerd --------------------
CLI=()
cleanup_ids=()   # "engine id" pairs
dockerd_pid=""
cleanup() {
	local entry engine id
	for entry in "${cleanup_ids[@]}"; do
		read -r engine id <<<"$entry"
		if use_engine "$engine"; then
			"${CLI[@]}" rm -f "$id" >/dev/null 2>&1 || true
		fi
	done
	if [[ -n "$dockerd_pid" ]]; then
		log "stopping dockerd ($dockerd_pid)"
		kill "$dockerd_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$dockerd_pid" 2>/dev/null || true
	fi
	umount -R "$work/docker" 2>/dev/null || true
	rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
source "$here/lib.sh"

# sample N CMD... runs CMD N times (after one warm-up) and prints "median p90" ms.
sample() {
	local n="$1" out="$work/samples" t0 t1 i
	shift
	: >"$out"
	if [[ -n "$HYPERFINE" ]] && command -v "$HYPERFINE" >/dev/null 2>&1; then
		"$HYPERFINE" -N --style none --warmup 1 --runs "$n" --export-json "$work/hf.json" \
			-- "$(printf '%q ' "$@")" >/dev/null
		# hyperfine pretty-prints one sample (seconds) per line inside "times".
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

# monitor_rss_kb prints the summed VmRSS (kB) of processes named by $MONITOR and
# their descendants, leaving out processes in a deeper PID namespace than ours
# (the containers' own processes).
monitor_rss_kb() {
	local depth
	depth=$(awk '/^NSpid:/ { print NF - 1 }' /proc/self/status)
	cat /proc/[0-9]*/status 2>/dev/null | awk -v re="$MONITOR" -v depth="$depth" '
		/^Name:/   { name = $2 }
		/^Pid:/    { pid = $2; names[pid] = name; rss[pid] = 0 }
		/^PPid:/   { ppid[pid] = $2 }
		/^NSpid:/  { inner[pid] = (NF - 1 > depth) }
		/^VmRSS:/  { rss[pid] = $2 }
		END {
			for (p in names) {
				if (inner[p]) continue
				for (q = p; q > 1 && q in names; q = ppid[q])
					if (names[q] ~ re) { sum += rss[p]; break }
			}
			print sum + 0
		}'
}

# ---- one engine ----------------------------------------------------------------
declare -A result
bench_engine() {
	local engine="$1" ctr ids=() id before after t0 t1 i
	use_engine "$engine"
	ensure_busybox
	log "$engine: warming up"
	"${CLI[@]}" run --rm "${RUN_ARGS[@]}" busybox true >/dev/null

	log "$engine: run --rm busybox true (N=$N)"
	result[$engine.run]="$(sample "$N" "${CLI[@]}" run --rm "${RUN_ARGS[@]}" busybox true)"

	ctr="$("${CLI[@]}" run -d "${RUN_ARGS[@]}" busybox sleep 1000)"
	cleanup_ids+=("$engine $ctr")
	log "$engine: exec CTR true (N=$N)"
	result[$engine.exec]="$(sample "$N" "${CLI[@]}" exec "$ctr" true)"

	sleep 1
	before=$(monitor_rss_kb)
	log "$engine: $NCTR x run -d busybox sleep 1000"
	t0=$(date +%s%N)
	for ((i = 0; i < NCTR; i++)); do
		id="$("${CLI[@]}" run -d "${RUN_ARGS[@]}" busybox sleep 1000)"
		ids+=("$id")
		cleanup_ids+=("$engine $id")
	done
	t1=$(date +%s%N)
	result[$engine.rund]="$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", ns / 1e6 }')"

	log "$engine: ps -a with $((NCTR + 1)) containers (N=$N)"
	result[$engine.ps]="$(sample "$N" "${CLI[@]}" ps -a)"

	sleep 1
	after=$(monitor_rss_kb)
	result[$engine.rss]="$(awk -v a="$after" -v b="$before" -v n="$NCTR" 'BEGIN { printf "%.0f", (a - b) / n }')"

	log "$engine: removing its containers"
	"${CLI[@]}" rm -f "$ctr" "${ids[@]}" >/dev/null
}

# ---- main ----------------------------------------------------------------------
ran=()
for engine in $ENGINES; do
	case "$engine" in
	berth)
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

# cell ENGINE KEY FIELD: one number of a result ("-" when missing).
cell() {
	local v="${result[$1.$2]:-}"
	[[ -n "$v" ]] || { echo -; return; }
	awk -v f="$3" '{ print $f }' <<<"$v"
}

echo
printf '%-38s %12s %12s %8s\n' metric berth docker ratio
rows=(
	"run --rm busybox true, median ms|run|1"
	"run --rm busybox true, p90 ms|run|2"
	"exec CTR true, median ms|exec|1"
	"exec CTR true, p90 ms|exec|2"
	"$NCTR x run -d sleep, total ms|rund|1"
	"ps -a ($((NCTR + 1)) ctrs), median ms|ps|1"
	"ps -a ($((NCTR + 1)) ctrs), p90 ms|ps|2"
	"engine RSS per container, kB|rss|1"
)
for row in "${rows[@]}"; do
	IFS='|' read -r label key field <<<"$row"
	b="$(cell berth "$key" "$field")"
	d="$(cell docker "$key" "$field")"
	ratio=-
	if [[ "$b" != - && "$d" != - ]]; then
		ratio="$(awk -v b="$b" -v d="$d" 'BEGIN { if (d > 0) printf "%.2f", b / d; else print "-" }')"
	fi
	printf '%-38s %12s %12s %8s\n' "$label" "$b" "$d" "$ratio"
done
echo "(ratio = berth / docker; lower is better for berth)"
