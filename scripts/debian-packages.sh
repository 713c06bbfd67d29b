#!/usr/bin/env bash
# Installs the Debian packages the project needs, when their commands (or files) are missing:
#   scripts/debian-packages.sh COMMAND:PACKAGE ...   e.g. promtool:prometheus
#   scripts/debian-packages.sh /PATH:PACKAGE ...     e.g. a font file the package brings
# Run as root (or with sudo available); the package lists are refreshed once if needed.
set -euo pipefail

missing=()
for pair in "$@"; do
  need=${pair%%:*}
  if [[ $need == /* ]]; then [[ -e $need ]] || missing+=("${pair#*:}")
  else command -v "$need" >/dev/null 2>&1 || missing+=("${pair#*:}"); fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root to install: ${missing[*]}" >&2; exit 1; }
  as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing Debian packages: ${missing[*]}"
if ! "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
