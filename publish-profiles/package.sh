#!/usr/bin/env bash
# Builds the Debian package: publish-profiles/package.sh amd64|arm64 -> artifacts/edgemeter_<version>_<arch>.deb
#
#   VERSION=0.1.1      package (and binary) version; default: <Version> in Directory.Build.props
#   PUBLISH_DIR=DIR    package the edgemeter and libSystem.IO.Ports.Native.so already published in DIR instead of
#                      running dotnet publish (the tests reuse their one publish per run)
#   OUT_DIR=DIR        where the .deb goes; default artifacts/
#
# Needs dpkg-deb, gzip and, without PUBLISH_DIR, the .NET SDK (arm64 also the cross toolchain: README.md).
# Layout and choices: publish-profiles/README.md.
set -euo pipefail

arch=${1:-}
case "$arch" in
  amd64) rid=linux-x64 machine=62 ;;    # ELF e_machine EM_X86_64
  arm64) rid=linux-arm64 machine=183 ;; # EM_AARCH64
  *) echo "usage: $0 amd64|arm64" >&2; exit 2 ;;
esac

repo=$(cd "$(dirname "$0")/.." && pwd)
here="$repo/publish-profiles/debian"
version=${VERSION:-$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props" | head -n 1)}
if ! [[ "$version" =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
  echo "package.sh: version '$version' is not a Debian version without revision" >&2
  exit 2
fi

publish=${PUBLISH_DIR:-}
if [ -z "$publish" ]; then
  publish="$repo/artifacts/publish/$rid"
  dotnet publish "$repo/src/EdgeAgent" -p:PublishProfile="$rid" -p:Version="$version" -nologo
fi
for f in edgemeter libSystem.IO.Ports.Native.so; do
  [ -f "$publish/$f" ] || { echo "package.sh: $publish/$f missing" >&2; exit 1; }
done
# A package of the wrong architecture installs and then fails with "Exec format error": refuse to build it.
if [ "$(od -An -tu2 -j18 -N2 "$publish/edgemeter" | tr -d ' ')" != "$machine" ]; then
  echo "package.sh: $publish/edgemeter is not a $arch binary" >&2
  exit 1
fi

out=${OUT_DIR:-"$repo/artifacts"}
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"

# The binary lives in a private folder with the serial-port library beside it: a DllImport in a Native AOT binary
# looks first in the directory of the executable (resolved through the /usr/bin symlink), and a library without
# a versioned SONAME has no place in the shared library path.
install -D -m 0755 "$publish/edgemeter" "$stage/usr/lib/edgemeter/edgemeter"
install -m 0644 "$publish/libSystem.IO.Ports.Native.so" "$stage/usr/lib/edgemeter/"
install -d -m 0755 "$stage/usr/bin"
ln -s ../lib/edgemeter/edgemeter "$stage/usr/bin/edgemeter"

install -D -m 0644 "$repo/hardware/systemd/edgemeter.service" "$stage/lib/systemd/system/edgemeter.service"
install -D -m 0644 "$repo/hardware/udev/99-edgemeter.rules" "$stage/lib/udev/rules.d/99-edgemeter.rules"
install -D -m 0644 "$here/edgemeter.json" "$stage/etc/edgemeter/edgemeter.json"
install -d -m 0755 "$stage/var/lib/edgemeter"  # 0700 and the owner come from dpkg-statoverride (postinst)

# Timestamps from the last commit, so that two builds of one commit give the same package.
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH=$epoch
doc="$stage/usr/share/doc/edgemeter"
install -D -m 0644 "$here/copyright" "$doc/copyright"
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -u -R -d "@$epoch")/" "$here/changelog.in" | gzip -9n > "$doc/changelog.gz"
install -d -m 0755 "$stage/usr/share/man/man1"
sed "s/@VERSION@/$version/" "$here/edgemeter.1" | gzip -9n > "$stage/usr/share/man/man1/edgemeter.1.gz"
chmod 0644 "$doc/changelog.gz" "$stage/usr/share/man/man1/edgemeter.1.gz"

install -d -m 0755 "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" "$here/control.in" > "$stage/DEBIAN/control"
install -m 0644 "$here/conffiles" "$here/templates" "$stage/DEBIAN/"
install -m 0755 "$here/config" "$here/postinst" "$here/prerm" "$here/postrm" "$stage/DEBIAN/"
(cd "$stage" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z \
  | xargs -0 md5sum > DEBIAN/md5sums)
chmod 0644 "$stage/DEBIAN/md5sums"
find "$stage" -exec touch -h -d "@$epoch" {} +

deb="$out/edgemeter_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
