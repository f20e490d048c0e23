# lib.sh: what bench/run.sh and bench/stats.sh share. Source it after
# setting BERTH, BERTH_HOST, BERTH_RUN_ARGS, DOCKER, DOCKERD, DOCKER_RUN_ARGS,
# IMAGES, here (bench/) and work (the run's temp dir), and log(); it sets
# CLI, RUN_ARGS, MONITOR and dockerd_pid.

# ---- engines -----------------------------------------------------------------
# use_engine sets CLI (the command prefix), RUN_ARGS and MONITOR (an ERE for the
# per-container monitor processes' names in /proc/PID/status).
use_engine() {
	case "$1" in
	berth)
		CLI=("$BERTH" -H "$BERTH_HOST")
		read -r -a RUN_ARGS <<<"$BERTH_RUN_ARGS"
		MONITOR="${BERTH_MONITOR:-^berth-monitor$}"
		;;
	docker)
		CLI=("$DOCKER" -H "unix://$work/docker/docker.sock")
		read -r -a RUN_ARGS <<<"$DOCKER_RUN_ARGS"
		MONITOR='^containerd-shim' # comm is cut to 15 bytes
		;;
	*) return 1 ;;
	esac
}

start_dockerd() {
	local d="$work/docker"
	mkdir -p "$d"
	log "starting dockerd on unix://$d/docker.sock"
	"$DOCKERD" --host "unix://$d/docker.sock" --data-root "$d/data" --exec-root "$d/exec" \
		--pidfile "$d/dockerd.pid" --iptables=false --bridge=none >"$d/dockerd.log" 2>&1 &
	dockerd_pid=$!
	for _ in $(seq 100); do
		"$DOCKER" -H "unix://$d/docker.sock" version >/dev/null 2>&1 && return 0
		kill -0 "$dockerd_pid" 2>/dev/null || break
		sleep 0.2
	done
	log "dockerd did not come up; its log:"
	tail -20 "$d/dockerd.log" >&2
	return 1
}

# ensure_busybox imports busybox:latest from $IMAGES/busybox.tar when missing.
ensure_busybox() {
	if [[ -n "$("${CLI[@]}" images -q busybox:latest 2>/dev/null)" ]]; then
		return 0
	fi
	[[ -f "$IMAGES/busybox.tar" ]] || "$here/../scripts/make-images.sh" "$IMAGES" >&2
	log "importing busybox:latest"
	"${CLI[@]}" import -c 'CMD ["sh"]' "$IMAGES/busybox.tar" busybox:latest >/dev/null
}

# ---- timing ------------------------------------------------------------------
# stats FILE prints "median p90" in ms of the nanosecond samples in FILE.
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- -"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		k = int(0.9 * NR); if (k < 0.9 * NR) k++
		printf "%.1f %.1f\n", m / 1e6, v[k] / 1e6
	}'
}
