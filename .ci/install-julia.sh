#!/usr/bin/env bash
# Install Debian bullseye's Julia 1.5.3 and a private libunwind8 1.3.2 without touching the machine's
# own apt sources. Prints the path of a `julia` wrapper directory (to put on PATH) on its last line.
#   usage: bash .ci/install-julia.sh [PREFIX]      (default PREFIX: $HOME/.cache/pyjinit-julia)
set -euo pipefail
prefix=${1:-${HOME}/.cache/pyjinit-julia}
mkdir -p "$prefix/apt/lists/partial" "$prefix/apt/archives/partial" "$prefix/libunwind" "$prefix/bin"

# Same mirror as the machine's Debian sources (deb822 or one-line format), suite bullseye.
mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
         | grep -E '^[[:space:]]*(URIs:|deb )' | grep -oE 'https?://[^ ]+/debian/?' \
         | grep -v security | head -n 1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] ${mirror%/} bullseye main" > "$prefix/apt/bullseye.list"

APT_OPTS=(-o "Dir::Etc::SourceList=$prefix/apt/bullseye.list" -o "Dir::Etc::SourceParts=/dev/null"
          -o "Dir::State::Lists=$prefix/apt/lists" -o "Dir::Cache::Archives=$prefix/apt/archives"
          -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

if ! [ -x /usr/bin/julia ] || ! /usr/bin/julia --version 2>/dev/null | grep -q '1\.5\.'; then
  $SUDO apt-get "${APT_OPTS[@]}" update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends julia >&2
fi

# Bullseye's libunwind8 1.3.2: Julia 1.5.3 segfaults on exceptions with bookworm's 1.6.
if ! ls "$prefix"/libunwind/usr/lib/x86_64-linux-gnu/libunwind.so.8 >/dev/null 2>&1; then
  [ -f "$prefix/apt/lists/lock" ] || $SUDO apt-get "${APT_OPTS[@]}" update -qq >&2 || true
  ( cd "$prefix" && rm -f libunwind8_*.deb && apt-get "${APT_OPTS[@]}" download libunwind8=1.3.2-2 >&2 \
      && dpkg -x libunwind8_*.deb "$prefix/libunwind" )
fi
libdir=$(dirname "$(ls "$prefix"/libunwind/usr/lib/*/libunwind.so.8 | head -n 1)")

cat > "$prefix/bin/julia" <<WRAP
#!/bin/sh
# Debian's Julia 1.5.3 with bullseye's libunwind (exceptions segfault with bookworm's) and AVX BLAS.
export LD_LIBRARY_PATH="$libdir\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export OPENBLAS_CORETYPE="\${OPENBLAS_CORETYPE:-Haswell}"
exec /usr/bin/julia "\$@"
WRAP
chmod +x "$prefix/bin/julia"
"$prefix/bin/julia" --version >&2
echo "$prefix/bin"
