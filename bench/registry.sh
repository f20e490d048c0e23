#!/usr/bin/env bash
# registry.sh benchmarks images travelling over loopback, berth side by side
# with dockerd (when installed), against one local registry (berth's own):
#   - pull of a ~500 MiB, 5-layer image into an engine that has nothing;
#   - pull of an image sharing 3 of those layers (2 new ones to fetch);
#   - push of the 500 MiB image to a new repository of the same registry
#     (the blobs are mounted) and to an empty registry (every byte sent);
#   - the machine's limit: reading the same layer blobs from the registry's
#     disk and untarring them here, all at once (no engine, no HTTP);
# and the registry server itself under 50 concurrent pulls of one image
# (bench/tools/pullstorm), against Debian's docker-registry on the same
# data. Page caches are dropped before every timed pull. Medians of N runs.
# A measurement, not a test.
#
# Usage: BERTH_HOST=unix:///run/berth/berth.sock bench/registry.sh [-n N] [--engines "berth docker"]
set -euo pipefail

N="${N:-3}"
ENGINES="${ENGINES:-berth docker}"
while (($# > 0)); do
	case "$1" in
	-n) N="$2"; shift ;;
	--engines) ENGINES="$2"; shift ;;
	-h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done

BERTH="${BERTH:-bin/berth}"
BERTH_HOST="${BERTH_HOST:-unix:///run/berth/berth.sock}"
BERTH_RUN_ARGS="${BERTH_RUN_ARGS:-}"
DOCKER="${DOCKER:-docker}"
DOCKER_RUN_ARGS="${DOCKER_RUN_ARGS:-}"
DOCKERD="${DOCKERD:-dockerd}"
IMAGES="${IMAGES:-/var/cache/berth/images}"
SIZE_MIB="${SIZE_MIB:-500}"
STORM_CLIENTS="${STORM_CLIENTS:-50}"
STORM_TIME="${STORM_TIME:-15s}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/berth-regbench.XXXXXX)"
log() { printf '==> %s\n' "$*" >&2; }
dockerd_pid=""
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	if [[ -n "$dockerd_pid" ]]; then
		kill "$dockerd_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$dockerd_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() {
	for _ in $(seq 100); do
		curl -fsS "http://$1/v2/" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	log "no registry at $1"
	return 1
}

# ---- the registry and the images ---------------------------------------------
port="$(free_port)"
REG="127.0.0.1:$port"
"$BERTH" registry serve --addr "$REG" --root "$work/reg" 2>"$work/reg.log" &
pids+=($!)
wait_http "$REG"

use_engine berth
ensure_busybox
layer_mib=$((SIZE_MIB / 5))
mkdir -p "$work/ctx"
{
	echo "FROM busybox"
	for i in 1 2 3 4 5; do echo "RUN head -c $((layer_mib << 20)) /dev/urandom > /l$i"; done
} >"$work/ctx/Dockerfile"
log "building a $SIZE_MIB MiB, 5-layer image on berth and pushing it to $REG"
"${CLI[@]}" build -q -t "$REG/bench/big:1" "$work/ctx" >/dev/null
"${CLI[@]}" push "$REG/bench/big:1" >/dev/null
# big:2 shares the first three layers (the build cache reuses them)
{
	echo "FROM busybox"
	for i in 1 2 3; do echo "RUN head -c $((layer_mib << 20)) /dev/urandom > /l$i"; done
	for i in 4 5; do echo "RUN head -c $((layer_mib << 20)) /dev/urandom > /m$i"; done
} >"$work/ctx/Dockerfile"
"${CLI[@]}" build -q -t "$REG/bench/big:2" "$work/ctx" >/dev/null
"${CLI[@]}" push "$REG/bench/big:2" >/dev/null

# ---- the machine's limit -------------------------------------------------------
manifest="$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/bench/big/manifests/1")"
mapfile -t blobs < <(python3 -c 'import json,sys; [print(l["digest"].split(":")[1]) for l in json.load(sys.stdin)["layers"]]' <<<"$manifest")
limit_runs=()
for _ in $(seq "$N"); do
	rm -rf "$work/untar" && mkdir -p "$work/untar"
	drop_caches
	t0=$(now)
	tars=()
	for b in "${blobs[@]}"; do
		mkdir -p "$work/untar/$b"
		tar -xf "$work/reg/blobs/sha256/$b" -C "$work/untar/$b" &
		tars+=($!)
	done
	wait "${tars[@]}"
	sync -f "$work/untar"
	limit_runs+=("$(ms "$t0" "$(now)")")
done
rm -rf "$work/untar"
limit="$(printf '%s\n' "${limit_runs[@]}" | median)"

# ---- pulls and pushes ------------------------------------------------------------
declare -A cold warm push upload
for engine in $ENGINES; do
	if [[ "$engine" == docker ]]; then
		command -v "$DOCKERD" >/dev/null 2>&1 || { log "no dockerd: skipping docker"; continue; }
		start_dockerd || continue
	fi
	use_engine "$engine"
	c=() w=() p=() u=()
	for i in $(seq "$N"); do
		"${CLI[@]}" rmi -f $("${CLI[@]}" images -aq) >/dev/null 2>&1 || true
		drop_caches
		t0=$(now)
		"${CLI[@]}" pull -q "$REG/bench/big:1" >/dev/null
		c+=("$(ms "$t0" "$(now)")")
		drop_caches
		t0=$(now)
		"${CLI[@]}" pull -q "$REG/bench/big:2" >/dev/null
		w+=("$(ms "$t0" "$(now)")")
		"${CLI[@]}" tag "$REG/bench/big:1" "$REG/bench/push-$engine-$i:1"
		t0=$(now)
		"${CLI[@]}" push -q "$REG/bench/push-$engine-$i:1" >/dev/null
		p+=("$(ms "$t0" "$(now)")")
		# and to a registry that has none of it: every byte goes up
		eport="$(free_port)"
		"$BERTH" registry serve --addr "127.0.0.1:$eport" --root "$work/empty-$engine-$i" 2>/dev/null &
		epid=$!
		wait_http "127.0.0.1:$eport"
		"${CLI[@]}" tag "$REG/bench/big:1" "127.0.0.1:$eport/bench/big:1"
		t0=$(now)
		"${CLI[@]}" push -q "127.0.0.1:$eport/bench/big:1" >/dev/null
		u+=("$(ms "$t0" "$(now)")")
		kill "$epid"
		wait "$epid" 2>/dev/null || true
		rm -rf "$work/empty-$engine-$i"
	done
	cold[$engine]="$(printf '%s\n' "${c[@]}" | median)"
	warm[$engine]="$(printf '%s\n' "${w[@]}" | median)"
	push[$engine]="$(printf '%s\n' "${p[@]}" | median)"
	upload[$engine]="$(printf '%s\n' "${u[@]}" | median)"
	log "$engine: cold ${c[*]} ms, 3 of 5 present ${w[*]} ms, push (mount) ${p[*]} ms, push (upload) ${u[*]} ms"
done

ratio() { [[ "$1" != - && "$2" != - && "$2" != 0 ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo -; }
printf '\n%-34s %10s %10s %10s %12s %12s\n' metric "limit ms" "berth ms" "docker ms" "berth/limit" "docker/berth"
for m in cold warm push upload; do
	declare -n row=$m
	b="${row[berth]:--}" d="${row[docker]:--}"
	case $m in
	cold) name="pull $SIZE_MIB MiB, nothing present"; l="$limit" ;;
	warm) name="pull, 3 of 5 layers present"; l=- ;;
	push) name="push to a new repository (mounts)"; l=- ;;
	upload) name="push $SIZE_MIB MiB to an empty registry"; l=- ;;
	esac
	printf '%-34s %10s %10s %10s %12s %12s\n' "$name" "$l" "$b" "$d" "$(ratio "$b" "$l")" "$(ratio "$d" "$b")"
done

# ---- the server under a storm of pulls --------------------------------------------------
storm="$work/pullstorm"
(cd "$here/.." && go build -o "$storm" ./bench/tools/pullstorm)
printf '\n%-30s %s\n' server "$STORM_CLIENTS concurrent pulls of bench/big:1 for $STORM_TIME"
printf '%-30s %s\n' "berth registry" "$("$storm" -registry "http://$REG" -image bench/big:1 -c "$STORM_CLIENTS" -d "$STORM_TIME")"
if command -v docker-registry >/dev/null 2>&1; then
	dport="$(free_port)"
	printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
		"$work/dist" "$dport" >"$work/dist.yml"
	docker-registry serve "$work/dist.yml" >"$work/dist.log" 2>&1 &
	pids+=($!)
	wait_http "127.0.0.1:$dport"
	use_engine berth
	"${CLI[@]}" pull -q "$REG/bench/big:1" >/dev/null
	"${CLI[@]}" tag "$REG/bench/big:1" "127.0.0.1:$dport/bench/big:1"
	"${CLI[@]}" push -q "127.0.0.1:$dport/bench/big:1" >/dev/null
	printf '%-30s %s\n' "docker-registry 2.8" "$("$storm" -registry "http://127.0.0.1:$dport" -image bench/big:1 -c "$STORM_CLIENTS" -d "$STORM_TIME")"
fi
