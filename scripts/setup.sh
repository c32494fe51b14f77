#!/usr/bin/env bash
# Installs what building and testing ComputeWPS needs on Debian 12, and nothing
# that is already there. Safe to run again.
set -euo pipefail

need=()
check() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || need+=("$1"); }

# Build: cgo binding to libnetcdf.
check libnetcdf-dev
check pkg-config
check gcc
# Tests: ncdump (netcdf-bin) reads our outputs, CDO is the numerical oracle.
if [ "${1:-}" = "test" ]; then
  check netcdf-bin
  check cdo
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Tests of authentication run real identity providers and a browser; tests
# of the job store run a throwaway PostgreSQL.
if [ "${1:-}" = "test" ]; then
  "$(dirname "$0")/setup-auth-test.sh"
  "$(dirname "$0")/postgres-test.sh" install
fi

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    echo "setup: Go is at /usr/local/go/bin; add it to PATH" >&2
  else
    echo "setup: Go 1.26 is required (https://go.dev/dl/)" >&2
    exit 1
  fi
fi
