#!/usr/bin/env bash
# deploy.sh measures deploys under load: an HTTP service whose answer names
# its version (bench/tools/versionsrv), updated DEPLOYS times alternating
# two image versions, then rolled back ROLLBACKS times, while
# bench/tools/deployload sends a steady stream of requests (new connections
# and kept-alive ones) for the whole time. berth compose with a start-first
# service (blue/green through a berthd frontend) side by side with Debian's
# docker-compose 1.29 on dockerd 20.10 doing the same updates (up -d with
# the other image; it has no rollback). It reports failed requests by kind,
# the longest gap between two successful answers, and for berth the time
# from the new version healthy, and from the switch, to the first request
# it served. Each update is followed by PAUSE seconds (default 1) so
# that every version serves a while. A measurement, not a test.
#
# Usage: bench/deploy.sh [-n DEPLOYS] [-r ROLLBACKS]   (needs a running berthd at BERTH_HOST)
set -euo pipefail
DEPLOYS="${DEPLOYS:-20}"
ROLLBACKS="${ROLLBACKS:-10}"
PAUSE="${PAUSE:-1}" # seconds between updates: each version serves a while
while (($# > 0)); do
	case "$1" in
	-n) DEPLOYS="$2"; shift ;;
	-r) ROLLBACKS="$2"; shift ;;
	-h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
BERTH="${BERTH:-bin/berth}"
BERTH_HOST="${BERTH_HOST:-unix:///run/berth/berth.sock}"
DOCKER="${DOCKER:-docker}"
DOCKERD="${DOCKERD:-dockerd}"
DOCKER_COMPOSE="${DOCKER_COMPOSE:-docker-compose}"
IMAGES="${IMAGES:-/var/cache/berth/images}"
BERTH_RUN_ARGS="" DOCKER_RUN_ARGS=""
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/berth-deploy-bench.XXXXXX)"
log() { printf '==> %s\n' "$*" >&2; }
dockerd_pid="" load_pid=""
cleanup() {
	[[ -n "$load_pid" ]] && kill "$load_pid" 2>/dev/null || true
	"$BERTH" -H "$BERTH_HOST" compose -f "$work/project/compose.yaml" -p deployb down -t 0 >/dev/null 2>&1 || true
	if [[ -n "$dockerd_pid" ]]; then
		DOCKER_HOST="unix://$work/docker/docker.sock" "$DOCKER_COMPOSE" -f "$work/project/compose.yaml" -p deployd down -t 0 >/dev/null 2>&1 || true
		kill "$dockerd_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
	fi
	[[ -n "${KEEP:-}" ]] && log "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
source "$here/lib.sh"

log "building the service and the load generator"
mkdir -p "$work/project/app"
CGO_ENABLED=0 go build -o "$work/project/app/versionsrv" "$here/tools/versionsrv"
CGO_ENABLED=0 go build -o "$work/deployload" "$here/tools/deployload"
cat >"$work/project/app/Dockerfile" <<'DOCKERFILE'
FROM busybox
COPY versionsrv /versionsrv
ARG VERSION
RUN echo "$VERSION" >/version
ENV VERSION=$VERSION
CMD ["/versionsrv"]
DOCKERFILE
port=$((20000 + RANDOM % 10000)) # below the ephemeral range: the load cycles through all of it
cat >"$work/project/compose.yaml" <<YAML
services:
  web:
    image: deploy-app:\${TAG:-v1}
    ports: ["$port:80"]
    stop_grace_period: 5s
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1/"]
      interval: 250ms
      retries: 3
    deploy:
      update_config:
        order: start-first
        monitor: 1s
YAML
url="http://127.0.0.1:$port/"

ms_since() { echo $(((${EPOCHREALTIME/./} - $1) / 1000)); }
now_us() { echo "${EPOCHREALTIME/./}"; }

# images ENGINE: deploy-app:v1 and :v2 on the engine of CLI
images() {
	for v in v1 v2; do
		"${CLI[@]}" build -q --build-arg "VERSION=$v" -t "deploy-app:$v" "$work/project/app" >/dev/null
	done
}

# under_load OUT CMD…: runs CMD with deployload on $url; its report goes to OUT.json, its version changes to OUT.changes
under_load() {
	local out=$1
	shift
	mkfifo "$work/stdin.$out"
	"$work/deployload" -url "$url" <"$work/stdin.$out" >"$work/$out.json" 2>"$work/$out.changes" &
	load_pid=$!
	exec 9>"$work/stdin.$out"
	sleep 1 # steady before the first update
	"$@"
	sleep 1
	exec 9>&-
	wait "$load_pid"
	load_pid=""
}

wait_serving() { # wait_serving VERSION
	for _ in $(seq 200); do
		[[ "$(curl -fsS --max-time 1 "$url" 2>/dev/null)" == "$1" ]] && return 0
		sleep 0.05
	done
	log "$url does not answer $1"
	return 1
}

berth_updates() {
	local tag=v1 i
	for i in $(seq "$DEPLOYS"); do
		tag=$([[ $tag == v1 ]] && echo v2 || echo v1)
		TAG=$tag "$BERTH" -H "$BERTH_HOST" compose -f "$work/project/compose.yaml" -p deployb up -d >>"$work/berth-up.log" 2>&1 || echo "up $i" >>"$work/berth.failed"
		sleep "$PAUSE"
	done
	for i in $(seq "$ROLLBACKS"); do
		TAG=$tag "$BERTH" -H "$BERTH_HOST" compose -f "$work/project/compose.yaml" -p deployb rollback >>"$work/berth-up.log" 2>&1 || echo "rollback $i" >>"$work/berth.failed"
		sleep "$PAUSE"
	done
}

docker_updates() {
	local tag=v1 i
	for i in $(seq "$DEPLOYS"); do
		tag=$([[ $tag == v1 ]] && echo v2 || echo v1)
		TAG=$tag "$DOCKER_COMPOSE" -f "$work/project/compose.yaml" -p deployd up -d >>"$work/docker-up.log" 2>&1 || echo "up $i" >>"$work/docker.failed"
		sleep "$PAUSE"
	done
}

summary() { # summary FILE: requests failed failed_by longest_gap
	python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
by = ",".join(f"{k}={v}" for k, v in sorted(r["failed_by"].items())) or "-"
print(r["requests"], r["failed"], by, round(r["longest_gap_ms"], 1), ",".join(f"{k}={v}" for k, v in sorted(r["versions"].items())))
PY
}

# latencies: for each version change the load saw, the time from the
# new container's health_status: healthy before it, and from the
# frontend's switch (or rollback) nearest it, to the change. The first
# DEPLOYS changes are the deploys, the rest the rollbacks. Prints
# "deploy_healthy_median deploy_healthy_max rollback_healthy_median
# rollback_healthy_max switch_median switch_max".
latencies() {
	"${CLI[@]}" events --since "$1" --until "$(($(date +%s) + 1))" --format '{{.TimeNano}} {{.Type}} {{.Action}} {{.Actor.Attributes.image}}' >"$work/events" 2>/dev/null
	python3 - "$work/events" "$work/berth.changes" "$DEPLOYS" <<'PY'
import sys
healthy, switches = [], []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 3:
        continue
    t, typ, action = int(f[0]), f[1], " ".join(f[2:-1]) if len(f) > 3 else f[2]
    if typ == "container" and "health_status: healthy" in line:
        healthy.append((t, f[-1].split(":")[-1]))
    elif typ == "frontend" and (f[2] in ("switch", "rollback")):
        switches.append(t)
hd, hr, s = [], [], []
changes = 0
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) != 4 or f[0] != "switch":
        continue
    changes += 1
    at, to = int(f[1]), f[3]
    hs = [t for t, v in healthy if v == to and t <= at]
    if hs:
        (hd if changes <= int(sys.argv[3]) else hr).append((at - max(hs)) / 1e6)
    # the switch nearest the change: berthd stamps its event once the
    # record is written, after the rules are in, so green may answer
    # first (a negative time)
    if switches:
        near = min(switches, key=lambda t: abs(at - t))
        s.append((at - near) / 1e6)
def med(v):
    v = sorted(v)
    return round(v[len(v) // 2], 1) if v else "-"
def top(v):
    return round(max(v), 1) if v else "-"
print(med(hd), top(hd), med(hr), top(hr), med(s), top(s))
PY
}

# switch_requests N: times N switches of the frontend between its backend
# and the kept previous version (started), back and forth (curl's time_total of the
# POST). Prints "min median p90 max" in ms.
switch_requests() {
	local sock=${BERTH_HOST#unix://} api=http://berth/berth/frontends/deployb-web i
	local -a ids
	read -r -a ids <<<"$(curl -fsS --unix-socket "$sock" "$api" | python3 -c 'import json,sys; f=json.load(sys.stdin); print(f["Backends"][0], f["Previous"][0])')"
	"$BERTH" -H "$BERTH_HOST" start "${ids[1]}" >/dev/null # the previous version was stopped once drained
	for i in $(seq "$1"); do
		curl -fsS -o /dev/null -w '%{time_total}\n' --unix-socket "$sock" -H 'Content-Type: application/json' \
			-d "{\"Backends\":[\"${ids[i % 2]}\"],\"Previous\":[\"${ids[(i + 1) % 2]}\"]}" "$api/switch"
	done | sort -n | awk '{a[NR] = $1 * 1000} END {printf "%.1f %.1f %.1f %.1f\n", a[1], a[int((NR + 1) / 2)], a[int(NR * 0.9)], a[NR]}'
}

use_engine berth
ensure_busybox
images
log "berth compose, start-first: $DEPLOYS deploys and $ROLLBACKS rollbacks under load"
TAG=v1 "$BERTH" -H "$BERTH_HOST" compose -f "$work/project/compose.yaml" -p deployb up -d >/dev/null 2>&1
wait_serving v1
t0=$(date +%s)
start=$(now_us)
under_load berth berth_updates
b_ms=$(ms_since "$start")
read -r b_req b_fail b_by b_gap b_vers <<<"$(summary "$work/berth.json")"
read -r b_h50 b_hmax b_r50 b_rmax b_s50 b_smax <<<"$(latencies "$t0")"
b_changes=$(grep -c '^switch' "$work/berth.changes" || true)
read -r sw_min sw_50 sw_90 sw_max <<<"$(switch_requests 40)"
"$BERTH" -H "$BERTH_HOST" compose -f "$work/project/compose.yaml" -p deployb down -t 0 >/dev/null 2>&1 # the port, for dockerd

d_req=- d_fail=- d_by=- d_gap=- d_ms=- d_changes=- d_vers=-
if command -v "$DOCKERD" >/dev/null 2>&1 && command -v "$DOCKER_COMPOSE" >/dev/null 2>&1 && start_dockerd; then
	use_engine docker
	ensure_busybox
	export DOCKER_HOST="unix://$work/docker/docker.sock" COMPOSE_DOCKER_CLI_BUILD=0 DOCKER_BUILDKIT=0
	images
	log "docker-compose 1.29 on dockerd: $DEPLOYS updates (up -d) under load"
	TAG=v1 "$DOCKER_COMPOSE" -f "$work/project/compose.yaml" -p deployd up -d >>"$work/docker-up.log" 2>&1
	wait_serving v1
	start=$(now_us)
	under_load docker docker_updates
	d_ms=$(ms_since "$start")
	read -r d_req d_fail d_by d_gap d_vers <<<"$(summary "$work/docker.json")"
	d_changes=$(grep -c '^switch' "$work/docker.changes" || true)
	unset DOCKER_HOST
fi

for e in berth docker; do
	if [[ -s "$work/$e.failed" ]]; then
		log "$e: $(wc -l <"$work/$e.failed") updates failed; the last lines of their output:"
		tail -15 "$work/$e-up.log" >&2
	fi
done
printf '\n%-44s %22s %22s\n' metric "berth (start-first)" "docker-compose 1.29"
printf '%-44s %22s %22s\n' "updates (deploys+rollbacks)" "$DEPLOYS+$ROLLBACKS" "$DEPLOYS+0"
printf '%-44s %22s %22s\n' "wall time, ms" "$b_ms" "$d_ms"
printf '%-44s %22s %22s\n' "requests" "$b_req" "$d_req"
printf '%-44s %22s %22s\n' "failed requests" "$b_fail" "$d_fail"
printf '%-44s %22s %22s\n' "failed by kind" "$b_by" "$d_by"
printf '%-44s %22s %22s\n' "longest gap between successes, ms" "$b_gap" "$d_gap"
printf '%-44s %22s %22s\n' "answers by version" "$b_vers" "$d_vers"
printf '%-44s %22s %22s\n' "version changes seen by the load" "$b_changes" "$d_changes"
printf '%-44s %22s %22s\n' "deploy: healthy -> first served, median ms" "$b_h50" "-"
printf '%-44s %22s %22s\n' "deploy: healthy -> first served, max ms" "$b_hmax" "-"
printf '%-44s %22s %22s\n' "rollback: healthy -> first served, median ms" "$b_r50" "-"
printf '%-44s %22s %22s\n' "rollback: healthy -> first served, max ms" "$b_rmax" "-"
printf '%-44s %22s %22s\n' "switch -> first request served, median ms" "$b_s50" "-"
printf '%-44s %22s %22s\n' "switch -> first request served, max ms" "$b_smax" "-"
printf '%-44s %22s %22s\n' "switch request (40, no load), min/median ms" "$sw_min/$sw_50" "-"
printf '%-44s %22s %22s\n' "switch request (40, no load), p90/max ms" "$sw_90/$sw_max" "-"
