#!/usr/bin/env bash
# Installs what the authentication tests (internal/auth/authtest) need, and
# nothing that is already there: Debian's chromium for the browser flows, the
# npm package oidc-provider (KeyCloak-like provider) and an Ory Hydra binary
# built from the Go module proxy into a cache outside the repository.
# Safe to run again; fast when everything is in place.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="/usr/local/go/bin:$PATH"

die() { echo "setup-auth-test: $*" >&2; exit 1; }
say() { echo "setup-auth-test: $*"; }
took() { say "$1 took $((SECONDS - $2))s"; }

# --- Debian packages: chromium (headless browser), gcc (Hydra is cgo: SQLite) ---
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "need root or sudo to apt-get install ${need[*]}"
    sudo="sudo"
  fi
  t=$SECONDS
  $sudo apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" \
    || die "apt-get install ${need[*]} failed"
  took "apt-get install" "$t"
fi
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing after install"

# --- oidc-provider: npm ci when node_modules is missing or the lock changed ---
command -v node >/dev/null 2>&1 || die "Node.js (>= 20) is required for oidc-provider"
command -v npm >/dev/null 2>&1 || die "npm is required for oidc-provider"
opdir="$root/internal/auth/authtest/oidc-provider"
stamp="$opdir/node_modules/.computewps-lock.sha256"
want="$(sha256sum "$opdir/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "npm ci in ${opdir#"$root"/}"
  t=$SECONDS
  (cd "$opdir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $opdir"
  echo "$want" >"$stamp"
  took "npm ci" "$t"
fi

# --- Ory Hydra: build into the cache when missing or tools/hydra changed ---
command -v go >/dev/null 2>&1 || die "Go 1.26 is required (https://go.dev/dl/)"
hydra="${COMPUTEWPS_HYDRA:-${XDG_CACHE_HOME:-$HOME/.cache}/compute-wps/hydra-v2.3.0}"
want="$(cat "$root/tools/hydra/go.mod" "$root/tools/hydra/go.sum" | sha256sum | cut -d' ' -f1)"
stale=0
# A binary named by $COMPUTEWPS_HYDRA is the caller's: use it as it is.
[ -n "${COMPUTEWPS_HYDRA:-}" ] || [ "$(cat "$hydra.sha256" 2>/dev/null)" = "$want" ] || stale=1
if [ ! -x "$hydra" ] || [ "$stale" = 1 ]; then
  say "building Ory Hydra v2.3.0 into $hydra (about 1.5 minutes the first time)"
  t=$SECONDS
  mkdir -p "$(dirname "$hydra")"
  # The sqlite tags compile in SQLite, which DSN=memory needs. GOWORK=off:
  # tools/hydra is its own module, whatever go.work lies above.
  (cd "$root/tools/hydra" && GOWORK=off CGO_ENABLED=1 go build -trimpath \
    -tags sqlite,sqlite_omit_load_extension \
    -ldflags "-X github.com/ory/hydra/v2/driver/config.Version=v2.3.0" \
    -o "$hydra.tmp" github.com/ory/hydra/v2) || { rm -f "$hydra.tmp"; die "building Hydra failed"; }
  mv "$hydra.tmp" "$hydra"
  echo "$want" >"$hydra.sha256"
  took "Hydra build" "$t"
fi
