#!/usr/bin/env bash
# Packs what the GPU check needs into one folder, for a machine that has a GPU
# but no Rust toolchain and no network: a release-built, stripped, gzipped `train`, the
# Vulkan loader unpacked from Debian's libvulkan1 (not installed: it travels in
# the folder), and scripts/gpu-check.sh. The folder must stay small (what
# travels to the GPU machine is limited to 64 MiB in all).
#
#   scripts/gpu-bundle.sh [DIR]        # default dist/gpu
#   bash DIR/gpu-check.sh OUT          # then, on the GPU machine
#
# BUNDLE_PROFILE=dev packs the dev build instead (dependencies are optimised
# there too; it saves a second, release build of Burn when rehearsing).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/gpu}
profile=${BUNDLE_PROFILE:-release}
limit_mib=60

cargo build --profile "$profile" -p train --bin train
target=${CARGO_TARGET_DIR:-target}
[ "$profile" = dev ] && profile_dir=debug || profile_dir=$profile

rm -rf "$out"
mkdir -p "$out/lib"
cp "$target/$profile_dir/train" "$out/train"
strip "$out/train"
# Stripped, it is still ~60 MiB (wgpu, CubeCL and three backends); gzip
# halves that, and gpu-check.sh unpacks it with the gzip every Linux has.
gzip -9 "$out/train"
cp scripts/gpu-check.sh "$out/gpu-check.sh"

# The Vulkan loader (libvulkan.so.1), unpacked from Debian's package: wgpu
# loads it at run time, and the GPU machine may not have it installed.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get download libvulkan1 >/dev/null 2>&1); then
  apt-get update -qq
  (cd "$work" && apt-get download libvulkan1 >/dev/null)
fi
dpkg-deb -x "$work"/libvulkan1_*.deb "$work/root"
cp -a "$work"/root/usr/lib/*/libvulkan.so.1* "$out/lib/"

size_mib=$(du -sm "$out" | cut -f1)
echo "gpu-bundle: $out is ${size_mib} MiB:"
ls -l "$out" "$out/lib" | sed 's/^/  /'
if [ "$size_mib" -gt "$limit_mib" ]; then
  echo "gpu-bundle: error: $out is ${size_mib} MiB, over the ${limit_mib} MiB that can travel" >&2
  exit 1
fi
