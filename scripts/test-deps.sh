#!/usr/bin/env bash
# Debian packages the test suite drives for real: chromium (the admin page's browser test, through
# playwright-core, which downloads no browser), redis-server (shared rate limits and the shared allowlist)
# and procps (`ps`: the worker tests find the cluster's workers with it; slim images lack it).
# Runs before `npm test`, so the README's test command works on a fresh machine; a no-op once installed.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v ps >/dev/null || missing+=(procps)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "npm test needs these Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing test dependencies: ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
