#!/usr/bin/env bash
# floor.sh measures berth's run path against its floor: the same container
# run by one OCI runtime process (crun, from apt), with the runtime spec
# berthd itself wrote for a busybox container (Docker's defaults: seccomp,
# capabilities, masked paths, cgroups), on a plain directory rootfs. The
# two are timed in one interleaved loop (berth, crun, berth, crun, …) so a
# change of machine speed hits both alike; also 20 × `run -d` side by side
# with dockerd when installed (the median of RUND_REPS=7 loops; dockerd:
# RUND_DOCKER_REPS=3). A measurement, not a test.
#
# Usage: BERTH_HOST=unix:///run/berth/berth.sock EXEC_ROOT=/run/berth bench/floor.sh [-n N]
set -euo pipefail

N="${N:-30}"
RUND_REPS="${RUND_REPS:-7}" RUND_DOCKER_REPS="${RUND_DOCKER_REPS:-3}"
while (($# > 0)); do
	case "$1" in
	-n) N="$2"; shift ;;
	-h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
# crun refuses a hybrid host whose cgroup2 holds controllers (this one's
# has hugetlb): the script then runs in a mount namespace of its own
# without the cgroup2 mount, where crun sees the v1 hierarchies berth uses
# and manages them itself (berthd, outside, is not affected)
if [[ -z "${FLOOR_NS:-}" && -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]]; then
	exec env FLOOR_NS=1 unshare -m --propagation private "$0" -n "$N"
fi
[[ -n "${FLOOR_NS:-}" ]] && umount /sys/fs/cgroup/unified
BERTH="${BERTH:-bin/berth}"
BERTH_HOST="${BERTH_HOST:-unix:///run/berth/berth.sock}"
EXEC_ROOT="${EXEC_ROOT:-/run/berth}"
CRUN="${CRUN:-crun}"
DOCKER="${DOCKER:-docker}"
DOCKERD="${DOCKERD:-dockerd}"
IMAGES="${IMAGES:-/var/cache/berth/images}"
BERTH_RUN_ARGS="" DOCKER_RUN_ARGS=""
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/berth-floor.XXXXXX)"
log() { printf '==> %s\n' "$*" >&2; }
command -v "$CRUN" >/dev/null || { log "no $CRUN (apt-get install crun)"; exit 1; }
dockerd_pid=""
ctr=""
cleanup() {
	[[ -n "$ctr" ]] && "$BERTH" -H "$BERTH_HOST" rm -f "$ctr" >/dev/null 2>&1 || true
	"$CRUN" delete -f floor-exec >/dev/null 2>&1 || true
	if [[ -n "$dockerd_pid" ]]; then
		kill "$dockerd_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
	fi
	# crun's cgroups and their parent (left behind, empty)
	find /sys/fs/cgroup -maxdepth 3 -depth -type d -path "*/berth-floor*" -exec rmdir {} + 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
use_engine berth
ensure_busybox
B=("$BERTH" -H "$BERTH_HOST")

# ---- the floor's bundle: berthd's own spec for this container -----------------------
ctr="$("${B[@]}" run -d --network none busybox sleep 1000)"
spec="${EXEC_ROOT:-/run/berth}/containers/${ctr:0:16}/bundle" # berthd --exec-root
[[ -f "$spec/config.json" ]] || { log "no bundle at $spec (set EXEC_ROOT)"; exit 1; }
mkdir -p "$work/rootfs"
tar -xf "$IMAGES/busybox.tar" -C "$work/rootfs"
for name in run exec; do
	mkdir -p "$work/$name"
	python3 - "$spec/config.json" "$work/$name" "$work/rootfs" "$name" <<'PY'
import json, shutil, sys, os
src, bundle, rootfs, name = sys.argv[1:]
s = json.load(open(src))
s["root"] = {"path": rootfs}
s["ociVersion"] = "1.0.2"  # what crun 1.8 accepts; the fields are the same
s["process"]["args"] = ["true"] if name == "run" else ["sleep", "1000"]
s["linux"]["cgroupsPath"] = "/berth-floor/" + name
for ns in s["linux"]["namespaces"]:  # berthd's pinned one goes with its container: crun makes its own
    if ns["type"] == "network":
        ns.pop("path", None)
for m in s["mounts"]:  # the container's own hosts, hostname and resolv.conf files
    if m.get("type") == "bind" and os.path.isfile(m["source"]):
        dst = os.path.join(bundle, os.path.basename(m["source"]))
        shutil.copy(m["source"], dst)
        m["source"] = dst
json.dump(s, open(os.path.join(bundle, "config.json"), "w"))
PY
done
FLOOR=("$CRUN")
"${FLOOR[@]}" run --bundle "$work/run" floor-run >/dev/null # the bundle works
"$CRUN" run -d --bundle "$work/exec" floor-exec >/dev/null

# ---- interleaved samples ------------------------------------------------------------
us() { local s=$EPOCHREALTIME; "$@" >/dev/null; local e=$EPOCHREALTIME; echo $((${e/./} - ${s/./})); }
declare -A file
pair() { # pair NAME-A NAME-B -- CMD-A… -- CMD-B…: N interleaved samples of each
	local a="$1" b="$2"; shift 3
	local ca=() cb=()
	while [[ "$1" != -- ]]; do ca+=("$1"); shift; done
	shift
	cb=("$@")
	file[$a]="$work/$a.us" file[$b]="$work/$b.us"
	: >"${file[$a]}"; : >"${file[$b]}"
	"${ca[@]}" >/dev/null; "${cb[@]}" >/dev/null # warm up
	for ((i = 0; i < N; i++)); do
		us "${ca[@]}" >>"${file[$a]}"
		us "${cb[@]}" >>"${file[$b]}"
	done
}
med() { sort -n "${file[$1]}" | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; k = int(0.9 * NR); if (k < 0.9 * NR) k++; printf "%.1f %.1f\n", m / 1e3, v[k] / 1e3 }'; }

log "run --rm --network none busybox true vs crun run (N=$N, interleaved)"
pair berth-none crun-run -- "${B[@]}" run --rm --network none busybox true -- "${FLOOR[@]}" run --bundle "$work/run" floor-run
log "run --rm busybox true (default bridge) vs crun run"
pair berth-bridge crun-run2 -- "${B[@]}" run --rm busybox true -- "${FLOOR[@]}" run --bundle "$work/run" floor-run
log "exec CTR true vs crun exec"
pair berth-exec crun-exec -- "${B[@]}" exec "$ctr" true -- "$CRUN" exec floor-exec true

# ---- 20 × run -d, side by side with dockerd --------------------------------------------
rund() { # rund CLI…: ms for 20 × run -d busybox sleep 1000, then removes them
	local ids=() s e
	s=$EPOCHREALTIME
	for _ in $(seq 20); do ids+=("$("$@" run -d --network none busybox sleep 1000)"); done
	e=$EPOCHREALTIME
	"$@" rm -f "${ids[@]}" >/dev/null
	echo $(((${e/./} - ${s/./}) / 1000))
}
rundmed() { # rundmed REPS CLI…: the median of REPS rund, a second apart (the removals settle)
	local reps=$1 all=()
	shift
	for _ in $(seq "$reps"); do all+=("$(rund "$@")"); sleep 1; done
	printf '%s\n' "${all[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
log "20 x run -d, median of $RUND_REPS (dockerd: of $RUND_DOCKER_REPS)"
rund_berth="$(rundmed "$RUND_REPS" "${B[@]}")"
rund_docker=-
if command -v "$DOCKERD" >/dev/null 2>&1 && start_dockerd; then
	use_engine docker
	ensure_busybox
	rund_docker="$(rundmed "$RUND_DOCKER_REPS" "${CLI[@]}")"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }
printf '\n%-44s %10s %10s %10s %8s\n' metric "berth ms" "floor ms" "p90/med" ratio
row() { # row LABEL BERTH FLOOR
	read -r bm bp <<<"$(med "$2")"
	read -r fm _ <<<"$(med "$3")"
	printf '%-44s %10s %10s %10s %8s\n' "$1" "$bm" "$fm" "$(ratio "$bp" "$bm")" "$(ratio "$bm" "$fm")"
}
row "run --rm --network none vs crun run" berth-none crun-run
row "run --rm (bridge) vs crun run (no network)" berth-bridge crun-run2
row "exec CTR true vs crun exec" berth-exec crun-exec
printf '%-44s %10s %10s %10s %8s\n' "20 x run -d (floor: dockerd)" "$rund_berth" "$rund_docker" - "$(ratio "$rund_docker" "$rund_berth")x faster"
