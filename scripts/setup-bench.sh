#!/usr/bin/env bash
# Installs what `make bench` compares against on Debian 12: CDO, NCO (ncks)
# and netcdf-bin (nccopy makes the deflated copy). Safe to run again; not
# needed by `make test`.
set -euo pipefail

need=()
check() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || need+=("$1"); }
check netcdf-bin
check cdo
check nco

if [ ${#need[@]} -gt 0 ]; then
  echo "setup-bench: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
