# Sourced by quickstart and test: install the Debian 12 packages Trapeze
# needs, only those that are missing.  Uses sudo when not root.
DEPS="build-essential autoconf automake libtool pkg-config \
libcapstone-dev libunwind-dev check"

install_deps() {
	missing=
	for p in $DEPS "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "installing:$missing"
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -q >/dev/null &&
		# shellcheck disable=SC2086
		$sudo apt-get install -y -q --no-install-recommends $missing
}

# Configure once, rebuild as needed.
build() {
	[ -x configure ] || autoreconf -fi
	[ -f Makefile ] || ./configure -q
	make -j"$(nproc)" "$@"
}
