#!/usr/bin/env bash
# build.sh benchmarks `build` on berth side by side with dockerd's classic
# builder (when installed): a cold (--no-cache) and a fully cached build of
# a 5-step Dockerfile, and the time to send and checksum a 10 000-file,
# 200 MiB context (a rebuild whose only work is the context). A
# measurement, not a test.
#
# Usage: bench/build.sh [-n N] [--engines "berth docker"]
set -euo pipefail

N="${N:-10}"
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
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/berth-buildbench.XXXXXX)"
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

# the 5-step project
mkdir -p "$work/small/src"
for i in $(seq 20); do echo "file $i" >"$work/small/src/f$i.txt"; done
cat >"$work/small/Dockerfile" <<'EOF'
FROM busybox
COPY src /app/src
RUN ls /app/src | wc -l > /app/count
ENV MODE=bench
CMD ["cat", "/app/count"]
EOF
# the big context: 10 000 files, 200 MiB
log "making a 10 000-file, 200 MiB context"
mkdir -p "$work/big"
for d in $(seq 0 99); do
	mkdir -p "$work/big/d$d"
	for f in $(seq 0 99); do head -c 20971 /dev/urandom >"$work/big/d$d/f$f"; done
done
printf 'FROM busybox\nCOPY . /ctx\n' >"$work/big/Dockerfile"

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# ms N CMD… runs CMD N times, prints the median in ms
ms() {
	local n="$1" t0 t1 i
	shift
	for ((i = 0; i < n; i++)); do
		t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done | median | awk '{ printf "%.1f", $1 / 1000 }'
}

declare -A R
bench() {
	local e="$1"
	shift
	local cli=("$@")
	if [[ -z "$("${cli[@]}" images -q busybox:latest 2>/dev/null)" ]]; then
		[[ -f "$IMAGES/busybox.tar" ]] || "$here/../scripts/make-images.sh" "$IMAGES" >&2
		"${cli[@]}" import -c 'CMD ["sh"]' "$IMAGES/busybox.tar" busybox:latest >/dev/null
	fi
	log "$e: cold build (--no-cache), N=$N"
	R[$e.cold]="$(ms "$N" "${cli[@]}" build --no-cache -q "$work/small")"
	"${cli[@]}" build -q "$work/small" >/dev/null
	log "$e: fully cached build, N=$N"
	R[$e.cached]="$(ms "$N" "${cli[@]}" build -q "$work/small")"
	"${cli[@]}" build -q "$work/big" >/dev/null
	log "$e: 10 000-file context, cached (send + checksum), N=3"
	R[$e.big]="$(ms 3 "${cli[@]}" build -q "$work/big")"
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
		DOCKER_BUILDKIT=0 bench docker env DOCKER_BUILDKIT=0 "$DOCKER" -H "unix://$d/docker.sock"
		;;
	esac
done

echo
printf '%-46s %10s %10s %8s\n' metric berth docker ratio
for row in "cold 5-step build (--no-cache), median ms|cold" "fully cached 5-step build, median ms|cached" \
	"10 000-file 200 MiB context, cached build ms|big"; do
	IFS='|' read -r label key <<<"$row"
	b="${R[berth.$key]:--}" dk="${R[docker.$key]:--}" ratio=-
	if [[ "$b" != - && "$dk" != - ]]; then ratio="$(awk -v b="$b" -v d="$dk" 'BEGIN { if (d > 0) printf "%.2f", b / d }')"; fi
	printf '%-46s %10s %10s %8s\n' "$label" "$b" "$dk" "$ratio"
done
echo "(docker: classic builder, DOCKER_BUILDKIT=0; ratio = berth / docker, lower is better)"
