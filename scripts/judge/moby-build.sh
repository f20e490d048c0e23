#!/usr/bin/env bash
# Runs Moby's integration-cli build suite (TestDockerCLIBuildSuite) against a
# running daemon (berthd or dockerd) with the docker CLI, and prints the
# counts and every test that did not pass. See docs/judges.md.
#
#   scripts/judge/moby-build.sh MOBY_CHECKOUT TEST_BINARY DOCKER_HOST [LOG]
#
# MOBY_CHECKOUT is github.com/moby/moby at the docker CLI's version, and
# TEST_BINARY its integration-cli built with `go test -c` (both made by hand,
# never committed). The frozen images the suite expects are made here from
# the offline images of scripts/make-images.sh, the same way for any daemon,
# so that it never pulls.
set -euo pipefail

checkout="${1:?usage: $0 MOBY_CHECKOUT TEST_BINARY DOCKER_HOST [LOG]}"
testbin="$(realpath "${2:?test binary}")"
export DOCKER_HOST="${3:?docker host}"
log="${4:-/tmp/moby-build-$(date +%s).log}"
images="${BERTH_IMAGES:-/var/cache/berth/images}"
here="$(cd "$(dirname "$0")/../.." && pwd)"

[[ -f "$images/busybox.tar" && -f "$images/debian-bookworm-slim.tar" ]] ||
	"$here/scripts/make-images.sh" "$images"

export DOCKER_API_VERSION="$(docker version --format '{{.Server.APIVersion}}')"
export DOCKER_BUILDKIT=0

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

docker image inspect busybox:latest >/dev/null 2>&1 ||
	docker import -c 'CMD ["sh"]' "$images/busybox.tar" busybox:latest >/dev/null
docker tag busybox:latest busybox:glibc
docker image inspect debian:bookworm-slim >/dev/null 2>&1 ||
	docker import -c 'CMD ["bash"]' "$images/debian-bookworm-slim.tar" debian:bookworm-slim >/dev/null

# hello-world:frozen: one program, /hello, that prints Docker's greeting
# (a static busybox behind a script stands in for Docker's binary)
mkdir -p "$tmp/hello/bin"
tar -xf "$images/busybox.tar" -C "$tmp/hello" ./bin/busybox 2>/dev/null ||
	tar -xf "$images/busybox.tar" -C "$tmp/hello" bin/busybox
printf '#!/bin/busybox sh\n/bin/busybox printf "\\nHello from Docker!\\nThis message shows that your installation appears to be working correctly.\\n\\n"\n' >"$tmp/hello/hello"
chmod 0755 "$tmp/hello/hello"
tar -C "$tmp/hello" -cf "$tmp/hello.tar" .
docker import -c 'CMD ["/hello"]' "$tmp/hello.tar" hello-world:frozen >/dev/null
docker tag hello-world:frozen hello-world:amd64
docker tag hello-world:frozen hello-world:arm64

# some tests run the CLI as this user (a member of the socket's group)
id unprivilegeduser >/dev/null 2>&1 || useradd -m unprivilegeduser
for g in berth docker; do
	getent group "$g" >/dev/null && usermod -aG "$g" unprivilegeduser
done

echo "moby build suite against $DOCKER_HOST (API $DOCKER_API_VERSION); log: $log" >&2
(cd "$checkout/integration-cli" &&
	"$testbin" -test.run '^TestDockerCLIBuildSuite$' -test.v -test.timeout 90m) >"$log" 2>&1 || true

pass=$(grep -c -- '^    --- PASS: TestDockerCLIBuildSuite/' "$log" || true)
fail=$(grep -c -- '^    --- FAIL: TestDockerCLIBuildSuite/' "$log" || true)
skip=$(grep -c -- '^    --- SKIP: TestDockerCLIBuildSuite/' "$log" || true)
echo "passed $pass, failed $fail, skipped $skip of $((pass + fail + skip))"
grep -- '^    --- \(FAIL\|SKIP\): TestDockerCLIBuildSuite/' "$log" | sed 's/^    //; s/ (.*//' | sort
