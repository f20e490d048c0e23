#!/usr/bin/env bash
# compose.sh measures `compose up -d` (with a build), `up -d` again with
# nothing changed, and `down` of a 5-service project: berth compose on
# berthd side by side with Debian's docker-compose 1.29 on dockerd 20.10
# (both when installed). Each up builds its image again (the down before it
# removes it, --rmi local). Medians of N rounds; the no-change up must
# recreate nothing, and the script checks it. A measurement, not a test.
#
# Usage: bench/compose.sh [-n N]   (needs a running berthd at BERTH_HOST)
set -euo pipefail
N="${N:-5}"
while (($# > 0)); do
	case "$1" in
	-n) N="$2"; shift ;;
	-h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
work="$(mktemp -d /tmp/berth-compose-bench.XXXXXX)"
log() { printf '==> %s\n' "$*" >&2; }
dockerd_pid=""
cleanup() {
	"$BERTH" -H "$BERTH_HOST" compose -f "$work/project/compose.yaml" -p benchb down -v --rmi local -t 0 >/dev/null 2>&1 || true
	if [[ -n "$dockerd_pid" ]]; then
		DOCKER_HOST="unix://$work/docker/docker.sock" "$DOCKER_COMPOSE" -f "$work/project/compose.yaml" -p benchd down -v --rmi local -t 0 >/dev/null 2>&1 || true
		kill "$dockerd_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
	fi
	rm -rf "$work"
}
trap cleanup EXIT
source "$here/lib.sh"

mkdir -p "$work/project/app"
cat >"$work/project/app/Dockerfile" <<'DOCKERFILE'
FROM busybox
COPY greeting /greeting
RUN mkdir -p /www && cp /greeting /www/index.html
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
DOCKERFILE
echo hello >"$work/project/app/greeting"
cat >"$work/project/compose.yaml" <<'YAML'
services:
  app:
    build: ./app
    image: bench-app:1
    stop_signal: SIGKILL
    depends_on: [db, cache]
  web:
    image: busybox
    command: ["httpd", "-f", "-p", "80"]
    stop_signal: SIGKILL
    depends_on: [app]
  worker:
    image: busybox
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
    depends_on: [db]
  db:
    image: busybox
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
    volumes: [data:/data]
  cache:
    image: busybox
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
volumes:
  data:
YAML

ms() { # ms CMD…: wall time in ms of one run of CMD (its output dropped)
	local s e
	s=$EPOCHREALTIME
	"$@" >/dev/null 2>&1
	e=$EPOCHREALTIME
	echo $(((${e/./} - ${s/./}) / 1000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# bench ENGINE COMPOSE…: prints "up same down" medians for the compose command prefix
bench() {
	local engine=$1
	shift
	local up=() same=() down=() ids0 ids1
	"$@" down -v --rmi local -t 0 >/dev/null 2>&1 || true
	for _ in $(seq "$N"); do
		up+=("$(ms "$@" up -d --build)")
		ids0="$("${CLI[@]}" ps -q --no-trunc --filter "label=com.docker.compose.project=$project" | sort)"
		same+=("$(ms "$@" up -d)")
		ids1="$("${CLI[@]}" ps -q --no-trunc --filter "label=com.docker.compose.project=$project" | sort)"
		if [[ "$ids0" != "$ids1" || -z "$ids0" ]]; then
			log "$engine: the no-change up recreated containers"
			exit 1
		fi
		down+=("$(ms "$@" down --rmi local -t 0)")
	done
	echo "$(printf '%s\n' "${up[@]}" | median) $(printf '%s\n' "${same[@]}" | median) $(printf '%s\n' "${down[@]}" | median)"
}

use_engine berth
ensure_busybox
project=benchb
log "berth compose on berthd (N=$N)"
read -r b_up b_same b_down <<<"$(bench berth "$BERTH" -H "$BERTH_HOST" compose -f "$work/project/compose.yaml" -p benchb)"
d_up=- d_same=- d_down=-
if command -v "$DOCKERD" >/dev/null 2>&1 && command -v "$DOCKER_COMPOSE" >/dev/null 2>&1 && start_dockerd; then
	use_engine docker
	ensure_busybox
	project=benchd
	log "docker-compose 1.29 on dockerd (N=$N)"
	export DOCKER_HOST="unix://$work/docker/docker.sock" COMPOSE_DOCKER_CLI_BUILD=0 DOCKER_BUILDKIT=0
	read -r d_up d_same d_down <<<"$(bench docker "$DOCKER_COMPOSE" -f "$work/project/compose.yaml" -p benchd)"
	unset DOCKER_HOST
fi
ratio() { [[ "$1" == - || "$2" == - ]] && echo - || awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
printf '\n%-36s %12s %16s %10s\n' metric "berth ms" "docker-compose ms" faster
printf '%-36s %12s %16s %10s\n' "up -d --build (5 services, 1 build)" "$b_up" "$d_up" "$(ratio "$d_up" "$b_up")"
printf '%-36s %12s %16s %10s\n' "up -d again, nothing changed" "$b_same" "$d_same" "$(ratio "$d_same" "$b_same")"
printf '%-36s %12s %16s %10s\n' "down --rmi local" "$b_down" "$d_down" "$(ratio "$d_down" "$b_down")"
