#!/usr/bin/env bash
# Installs everything speaker_tf needs on Debian 12 / Python 3.11 (run as root):
# the espeak-ng synthesiser for the embedded corpus, then the package itself.
# Usage: bash install.sh [--test]
#   --test          adds pytest and ruff
set -euo pipefail
cd "$(dirname "$0")"
extra=""
packages=()
for arg in "$@"; do
  case "$arg" in
    --test) extra="[test]" ;;
    *) echo "install.sh: unknown option '$arg' (use --test)" >&2; exit 2 ;;
  esac
done
command -v espeak-ng >/dev/null 2>&1 || packages+=(espeak-ng)
if [ "${#packages[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e ".${extra}"
