#!/usr/bin/env bash
# saveload.sh benchmarks `save` and `load` of a ~200 MiB image on berth
# side by side with dockerd (when installed). The image is built offline
# on each engine: FROM busybox plus a COPY of the same 200 MiB of random
# data. Medians of N runs: save to a file, load into an engine that does
# not have the image (rmi before each run, untimed), load of an image the
# engine already has, and stdout/stdin through a pipe. A measurement, not
# a test.
#
# Usage: BERTH_HOST=unix:///run/berth/berth.sock bench/saveload.sh [-n N] [--engines "berth docker"]
set -euo pipefail

N="${N:-5}"
ENGINES="${ENGINES:-berth docker}"
while (($# > 0)); do
	case "$1" in
	-n) N="$2"; shift ;;
	--engines) ENGINES="$2"; shift ;;
	-h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done

BERTH="${BERTH:-bin/berth}"
BERTH_HOST="${BERTH_HOST:-unix:///run/berth/berth.sock}"
DOCKER="${DOCKER:-docker}"
DOCKERD="${DOCKERD:-dockerd}"
IMAGES="${IMAGES:-/var/cache/berth/images}"
SIZE_MIB="${SIZE_MIB:-200}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/berth-savebench.XXXXXX)"
log() { printf '==> %s\n' "$*" >&2; }
dockerd_pid=""
cleanup() {
	if [[ -n "$dockerd_pid" ]]; then
		kill "$dockerd_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$dockerd_pid" 2>/dev/null || true
	fi
	umount -R "$work/docker" 2>/dev/null || true
	rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

# the build context: the same random bytes for both engines
log "making a ${SIZE_MIB} MiB context"
mkdir -p "$work/ctx"
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$work/ctx/data.bin"
printf 'FROM busybox\nCOPY data.bin /data.bin\n' >"$work/ctx/Dockerfile"

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now() { date +%s%N; }
# timed PREP CMD: runs PREP (untimed, a shell snippet) then CMD N times; median ms
timed() {
	local prep="$1" cmd="$2" t0 t1 i
	for ((i = 0; i < N; i++)); do
		eval "$prep" >/dev/null 2>&1
		sync
		t0=$(now)
		eval "$cmd" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; return 1; }
		t1=$(now)
		echo $(((t1 - t0) / 1000))
	done | median | awk '{ printf "%.1f", $1 / 1000 }'
}

declare -A R
bench() {
	local e="$1"
	shift
	C="$*" # the engine's CLI, as a shell word list
	if [[ -z "$($C images -q busybox:latest 2>/dev/null)" ]]; then
		[[ -f "$IMAGES/busybox.tar" ]] || "$here/../scripts/make-images.sh" "$IMAGES" >&2
		$C import -c 'CMD ["sh"]' "$IMAGES/busybox.tar" busybox:latest >/dev/null
	fi
	log "$e: building the ${SIZE_MIB} MiB image"
	$C build -q -t bench/big:1 "$work/ctx" >/dev/null
	local f="$work/$e.tar"
	log "$e: save -o, N=$N"
	R[$e.save]="$(timed "rm -f $f" "$C save -o $f bench/big:1")"
	R[$e.size]="$(($(stat -c %s "$f") >> 20))"
	log "$e: load -i of an absent image, N=$N"
	R[$e.load]="$(timed "$C rmi -f bench/big:1" "$C load -q -i $f")"
	log "$e: load -i of a present image, N=$N"
	R[$e.again]="$(timed ":" "$C load -q -i $f")"
	log "$e: save | load (pipe, image present), N=$N"
	R[$e.pipe]="$(timed ":" "$C save bench/big:1 | $C load -q")"
	$C rmi -f bench/big:1 >/dev/null
}

for e in $ENGINES; do
	case "$e" in
	berth)
		"$BERTH" -H "$BERTH_HOST" version >/dev/null 2>&1 || { log "berth: no daemon on $BERTH_HOST; skipping"; continue; }
		bench berth "$BERTH" -H "$BERTH_HOST"
		;;
	docker)
		command -v "$DOCKERD" >/dev/null 2>&1 || { log "docker: not installed; skipping"; continue; }
		d="$work/docker"
		mkdir -p "$d"
		"$DOCKERD" --host "unix://$d/docker.sock" --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" \
			--iptables=false --bridge=none >"$d/dockerd.log" 2>&1 &
		dockerd_pid=$!
		for _ in $(seq 100); do "$DOCKER" -H "unix://$d/docker.sock" version >/dev/null 2>&1 && break; sleep 0.2; done
		export DOCKER_BUILDKIT=0
		bench docker "$DOCKER" -H "unix://$d/docker.sock"
		;;
	esac
done

echo
printf '%-46s %10s %10s %8s\n' metric berth docker ratio
for row in "save -o FILE, median ms|save" "load -i FILE (image absent), median ms|load" \
	"load -i FILE (image present), median ms|again" "save to a pipe into load (present), median ms|pipe" "archive size, MiB|size"; do
	IFS='|' read -r label key <<<"$row"
	b="${R[berth.$key]:--}" dk="${R[docker.$key]:--}" ratio=-
	if [[ "$b" != - && "$dk" != - ]]; then ratio="$(awk -v b="$b" -v d="$dk" 'BEGIN { if (d > 0) printf "%.2f", b / d }')"; fi
	printf '%-46s %10s %10s %8s\n' "$label" "$b" "$dk" "$ratio"
done
echo "(a ${SIZE_MIB} MiB image: FROM busybox + COPY of ${SIZE_MIB} MiB random data; ratio = berth / docker, lower is better)"
