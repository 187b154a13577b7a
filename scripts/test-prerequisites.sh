#!/usr/bin/env bash
# Runs before `npm test` (npm's pretest). Some tests need real programs from Debian's packages: redis-server (the
# Redis tests), chromium (CORS as a browser enforces it, the waiting-room screen) and nginx (the front proxy the deployment requires). Find
# them, or install the missing ones where we may (root, with apt). Where neither works, say so; those tests then
# skip, naming the package, and the rest of the suite runs. This step never fails the run.
set -u

# program:package, one per line
wanted="redis-server:redis-server
chromium:chromium
nginx:nginx"

found () { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

missing=()
while IFS=: read -r program package; do
  found "$program" || missing+=("$package")
done <<<"$wanted"
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "pretest: installing Debian's ${missing[*]} for the tests that need them"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/dev/null 2>&1 \
    || echo "pretest: could not install ${missing[*]}"
fi

while IFS=: read -r program package; do
  found "$program" || echo "pretest: $program not found: its tests will be skipped (install the Debian package $package)"
done <<<"$wanted"
exit 0
