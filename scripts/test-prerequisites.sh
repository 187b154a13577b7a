#!/usr/bin/env bash
# Runs before `npm test` (npm's pretest). The Redis tests need a real redis-server (Debian's package of that name):
# find it, or install it where we may (root, with apt). Where neither works, say so; those tests then skip, naming
# the package, and the rest of the suite runs. This step never fails the run.
set -u

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "pretest: redis-server is missing; installing Debian's redis-server package for the Redis tests"
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >/dev/null 2>&1 \
    && command -v redis-server >/dev/null 2>&1; then
    exit 0
  fi
  echo "pretest: could not install redis-server"
fi

echo "pretest: redis-server not found: the Redis tests will be skipped (install the Debian package redis-server)"
exit 0
