#!/usr/bin/env bash
# Installs everything speaker_tf needs on Debian 12 / Python 3.11 (run as root):
# the espeak-ng synthesiser for the embedded corpus, then the package itself.
# Usage: bash install.sh [--test]   (--test adds pytest and ruff)
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v espeak-ng >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends espeak-ng >/dev/null
fi
extra=""
[ "${1:-}" = "--test" ] && extra="[test]"
python3 -m pip install -q --disable-pip-version-check -e ".${extra}"
