#!/usr/bin/env bash
# Runs one k6 scenario (k6/smoke.js, load.js, mix.js, soak.js, spike.js, sse.js) against a Tabeby server that this script starts and
# stops itself: the compiled build as the Procfile starts it, with a temporary DATA_DIR (embedded PostgreSQL), a free PORT, HOST=127.0.0.1, 2 workers,
# rate limits raised for a load test. Traffic goes to 127.0.0.1 only, and the run is bounded in time.
#
#   scripts/k6.sh smoke|load|mix|soak|spike|sse [duration]      e.g. scripts/k6.sh load 30s
#
# k6 itself: K6_BIN, else `k6` on PATH. sse.js needs a k6 built with the xk6-sse extension (`k6 version` lists it).
# This script does not build k6: go.k6.io/k6 is AGPL-licensed and this project's package policy marks it
# not-to-use, so it is neither fetched nor built from here (docs/BENCHMARKS.md, "k6"). Bring your own binary
# (Grafana's release or your distribution's package); the Node runners in scripts/bench-*.ts cover the same
# ground without it.
set -euo pipefail

scenario="${1:-}"
duration="${2:-}"
case "$scenario" in
  smoke) duration="${duration:-30s}"; budget=900 ;;
  mix) duration="${duration:-5m}"; budget=1800 ;;
  load) duration="${duration:-30s}"; budget=900 ;;
  soak) duration="${duration:-30m}"; budget=$((2 * 3600)) ;;
  spike) duration="${duration:-70s}"; budget=900 ;;
  sse) duration="${duration:-60s}"; budget=900 ;;
  *) echo "usage: scripts/k6.sh smoke|load|mix|soak|spike|sse [duration]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

k6="${K6_BIN:-$(command -v k6 || true)}"
if [[ -z "$k6" || ! -x "$k6" ]]; then
  cat >&2 <<'EOF'
k6 not found (set K6_BIN or put k6 on PATH).
This project does not build k6: go.k6.io/k6 is under the AGPL and marked not-to-use by the project's package
policy. Use a k6 binary you already have, or the Node runners: npx tsx scripts/bench-bookings.ts,
scripts/bench-cached-read.ts, scripts/bench-sse-swarm.ts.
EOF
  exit 3
fi
if [[ "$scenario" == "sse" ]] && ! "$k6" version 2>/dev/null | grep -qi 'xk6-sse'; then
  echo "k6/sse.js needs a k6 built with the xk6-sse extension; $k6 does not list it in 'k6 version'" >&2
  exit 3
fi

# Thousands of connections: raise the open-file limit as far as this shell may (the hard limit, without privileges).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

port="$(node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
data_dir="$(mktemp -d /tmp/tabeby-k6-XXXXXX)"
chmod 755 "$data_dir" # the embedded PostgreSQL runs as the postgres user when we are root
log="$data_dir/server.log"
server_pid=""

cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$data_dir"
}
trap cleanup EXIT INT TERM

npm run build --silent
HOST=127.0.0.1 PORT="$port" DATA_DIR="$data_dir/data" WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}" \
  RATE_LIMIT_AUTH=30000 RATE_LIMIT_BOOKING=30000 RATE_LIMIT_DEFAULT=30000 TRUST_PROXY_HOPS=1 \
  node dist/src/main.js >"$log" 2>&1 &
server_pid=$!

for _ in $(seq 1 900); do
  grep -q 'Tabeby API listening' "$log" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; echo "server exited during start" >&2; exit 1; }
  sleep 0.1
done
grep -q 'Tabeby API listening' "$log" || { cat "$log" >&2; echo "server not ready in 90 s" >&2; exit 1; }

summary="${K6_SUMMARY:-$root/bench-results/k6-$scenario-summary.json}" # bench-results/ is git-ignored
mkdir -p "$(dirname "$summary")"
echo "k6 $scenario for $duration against http://127.0.0.1:$port (server log: $log)" >&2
set +e
timeout --kill-after=30 "$budget" "$k6" run \
  -e BASE_URL="http://127.0.0.1:$port" -e DURATION="$duration" \
  --summary-export "$summary" "k6/$scenario.js"
status=$?
set -e
curl -s -H 'X-Forwarded-For: 127.20.255.3' "http://127.0.0.1:$port/stats" >"$data_dir/stats.json" 2>/dev/null && \
  node -e 'const s=require(process.argv[1]);console.error(`server after the run: total_rss ${Math.round(s.memory.total_rss/1048576)} MB, pool timeouts ${s.database.pool.timeouts}`)' "$data_dir/stats.json" || true
exit "$status"
