#!/usr/bin/env bash
# make-images.sh builds berth's offline test images as tarballs for `berth import`.
#
# Usage: scripts/make-images.sh [--import] [--force] OUTDIR
#
#   OUTDIR/busybox.tar               busybox-static rootfs  -> busybox:latest
#   OUTDIR/debian-bookworm-slim.tar  debootstrap minbase    -> debian:bookworm-slim
#
# An existing tarball is kept unless --force is given. With --import each tarball is
# imported with ${BERTH:-bin/berth} import; otherwise the import commands are printed.
# Missing apt packages (busybox-static, debootstrap) are installed when run as root.
set -euo pipefail

usage() {
	echo "usage: $0 [--import] [--force] OUTDIR" >&2
	exit 2
}

do_import=0
force=0
outdir=""
while (($# > 0)); do
	case "$1" in
	--import) do_import=1 ;;
	--force) force=1 ;;
	-h | --help) usage ;;
	-*)
		echo "unknown flag: $1" >&2
		usage
		;;
	*)
		[[ -z "$outdir" ]] || usage
		outdir="$1"
		;;
	esac
	shift
done
[[ -n "$outdir" ]] || usage

BERTH="${BERTH:-bin/berth}"
SUITE=bookworm

log() { printf '==> %s\n' "$*" >&2; }

# need_pkg CMD PKG: make CMD available, installing PKG with apt-get when root.
need_pkg() {
	local cmd="$1" pkg="$2"
	if [[ -x "$cmd" ]] || command -v "$cmd" >/dev/null 2>&1; then
		return 0
	fi
	if [[ "$(id -u)" -ne 0 ]]; then
		echo "missing $cmd: install the $pkg package (or run as root)" >&2
		exit 1
	fi
	log "installing $pkg"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg" ||
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg"; }
}

# apt_mirror prints the first configured Debian mirror serving $SUITE, read from
# the one-line (*.list) and deb822 (*.sources) apt sources.
apt_mirror() {
	local files=() f
	[[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
	for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[[ -f "$f" ]] && files+=("$f")
	done
	((${#files[@]} > 0)) || return 1
	awk -v suite="$SUITE" '
		function flush() {
			if (uris != "" && (" " suites " ") ~ (" " suite " ") && types ~ /(^| )deb( |$)/) {
				split(uris, u, " "); print u[1]; found = 1; exit
			}
			uris = ""; suites = ""; types = ""
		}
		FNR == 1 { flush() }
		FILENAME ~ /\.sources$/ {
			if ($0 ~ /^[ \t]*$/) { flush(); next }
			if ($0 ~ /^[ \t]*#/) next
			if (tolower($1) == "uris:")   { $1 = ""; uris = $0 }
			if (tolower($1) == "suites:") { $1 = ""; suites = $0 }
			if (tolower($1) == "types:")  { $1 = ""; types = $0 }
			next
		}
		$1 == "deb" {
			flush()
			i = 2
			if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			if ($(i + 1) == suite) { print $i; found = 1; exit }
		}
		END { if (!found) flush(); if (!found) exit 1 }
	' "${files[@]}"
}

# pack DIR TARBALL: deterministic tar of DIR's contents, written atomically.
pack() {
	local dir="$1" out="$2"
	chmod 0755 "$dir" # mktemp -d made it 0700
	tar -C "$dir" --sort=name --mtime=@0 --numeric-owner -cf "$out.tmp" .
	mv -f "$out.tmp" "$out"
}

build_busybox() {
	local out="$1" root bb applet
	need_pkg busybox busybox-static
	bb=/bin/busybox
	[[ -x "$bb" ]] || bb="$(command -v busybox)"
	root="$(mktemp -d "$outdir/.busybox.XXXXXX")"
	tmpdirs+=("$root")
	mkdir -p "$root"/{bin,etc,proc,sys,dev,root,var,home,tmp}
	chmod 1777 "$root/tmp"
	chmod 0700 "$root/root"
	cp -L "$bb" "$root/bin/busybox"
	chmod 0755 "$root/bin/busybox"
	while read -r applet; do
		[[ -n "$applet" && "$applet" != busybox ]] || continue
		ln -sf busybox "$root/bin/$applet"
	done < <("$root/bin/busybox" --list)
	# the accounts of Docker's busybox image (buildroot's skeleton): Moby's
	# build suite checks `root wheel` and `daemon:wheel`
	printf '%s\n' \
		'root:x:0:0:root:/root:/bin/sh' \
		'daemon:x:1:1:daemon:/usr/sbin:/bin/false' \
		'bin:x:2:2:bin:/bin:/bin/false' \
		'sys:x:3:3:sys:/dev:/bin/false' \
		'sync:x:4:100:sync:/bin:/bin/sync' \
		'mail:x:8:8:mail:/var/spool/mail:/bin/false' \
		'www-data:x:33:33:www-data:/var/www:/bin/false' \
		'operator:x:37:37:Operator:/var:/bin/false' \
		'nobody:x:65534:65534:nobody:/home:/bin/false' >"$root/etc/passwd"
	printf '%s\n' 'root:x:0:' 'daemon:x:1:' 'bin:x:2:' 'sys:x:3:' 'adm:x:4:' 'tty:x:5:' 'disk:x:6:' \
		'lp:x:7:' 'mail:x:8:' 'kmem:x:9:' 'wheel:x:10:root' 'cdrom:x:11:' 'dialout:x:18:' 'floppy:x:19:' \
		'video:x:28:' 'audio:x:29:' 'tape:x:32:' 'www-data:x:33:' 'operator:x:37:' 'utmp:x:43:' \
		'plugdev:x:46:' 'staff:x:50:' 'lock:x:54:' 'netdev:x:82:' 'users:x:100:' 'nogroup:x:65534:' \
		>"$root/etc/group"
	pack "$root" "$out"
	rm -rf "$root"
}

build_debian() {
	local out="$1" root mirror
	need_pkg debootstrap debootstrap
	mirror="$(apt_mirror)" || {
		echo "no apt mirror for $SUITE found in /etc/apt/sources.list{,.d/*}" >&2
		exit 1
	}
	root="$(mktemp -d "$outdir/.debian.XXXXXX")"
	tmpdirs+=("$root")
	log "debootstrap --variant=minbase $SUITE from $mirror (takes a few minutes)"
	debootstrap --variant=minbase "$SUITE" "$root" "$mirror" >&2
	rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
	rm -rf "$root"/var/lib/apt/lists/*
	mkdir -p "$root/var/lib/apt/lists/partial"
	rm -rf "$root"/tmp/* "$root"/var/log/bootstrap.log
	# The runtime mounts /dev; device nodes in a layer only trouble importers.
	rm -rf "${root:?}"/dev/*
	pack "$root" "$out"
	rm -rf "$root"
}

mkdir -p "$outdir"
tmpdirs=()
cleanup() { ((${#tmpdirs[@]} == 0)) || rm -rf "${tmpdirs[@]}"; }
trap cleanup EXIT

# image: tarball builder reference CMD
images=(
	"busybox.tar build_busybox busybox:latest sh"
	"debian-bookworm-slim.tar build_debian debian:bookworm-slim bash"
)

cmds=()
for spec in "${images[@]}"; do
	read -r file builder ref cmd <<<"$spec"
	out="$outdir/$file"
	if [[ -f "$out" && "$force" -eq 0 ]]; then
		log "$out exists; keeping it (--force rebuilds)"
	else
		log "building $out"
		"$builder" "$out"
	fi
	cmds+=("$BERTH import -c 'CMD [\"$cmd\"]' $out $ref")
	if ((do_import)); then
		log "importing $ref"
		"$BERTH" import -c "CMD [\"$cmd\"]" "$out" "$ref"
	fi
done

if ((!do_import)); then
	echo "# import with:"
	printf '%s\n' "${cmds[@]}"
fi
