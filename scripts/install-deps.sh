#!/usr/bin/env bash
# Installs what berth needs at run time from Debian's packages: an OCI
# runtime (runc, the alternative to the native one), ps (procps), a C compiler,
# musl for berth-monitor, static libc and libseccomp for berth-seccomp, iptables for bridge networks
# (iproute2's ip for the tests),
# and, for test images, busybox-static. With --test also the registry peers
# the integration tests talk to: Debian's docker-registry (Distribution
# 2.8) and skopeo (berth itself needs neither), and Debian's docker-compose
# 1.29, a Compose client the compose tests drive berthd with (no dockerd
# comes with it: --no-install-recommends).
set -euo pipefail
need=()
if [ "${1:-}" = --test ]; then
  command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
  command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
  command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
  command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools) # the compose tests' Redis image (redis-check-rdb is redis-server)
fi
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v ps >/dev/null 2>&1 || need+=(procps)
command -v cc >/dev/null 2>&1 || need+=(gcc)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/aarch64-linux-gnu/libc.a ] || need+=(libc6-dev)
[ -f /usr/include/seccomp.h ] && { [ -f /usr/lib/x86_64-linux-gnu/libseccomp.a ] || [ -f /usr/lib/aarch64-linux-gnu/libseccomp.a ]; } || need+=(libseccomp-dev)
command -v musl-gcc >/dev/null 2>&1 || need+=(musl-tools)
[ -f /usr/include/linux/mount.h ] || need+=(linux-libc-dev)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
[ -x /bin/busybox ] || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "berth needs these packages: ${need[*]} (run as root to install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
