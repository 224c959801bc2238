#!/usr/bin/env bash
# Server benchmark: carbonex-loadgen against a real carbonex-server.
#
#   bench/gateway/server_bench.sh [async|durable] [COUNT] [SESSIONS] [WINDOW]
#
# Builds a scratch registry (4 companies with cash and allowances, brokers
# BROKER1..N entitled to all of them), starts the server in the given sync
# mode on a free port, runs the load generator and prints its summary, then
# stops the server. Defaults: async 200000 4 100. WINDOW 1 measures one order
# in flight (order → ack latency).
set -euo pipefail
cd "$(dirname "$0")/../.."
mode="${1:-async}"
count="${2:-200000}"
sessions="${3:-4}"
window="${4:-100}"
bin="$PWD/build/bin"
work="$(mktemp -d)"
db="$work/db"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
reg() { "$bin/carbonex-registry" --db "$db" "$@" >/dev/null; }

reg init
reg instrument add KZQ-2026 --kind allowance --vintage 2026
reg instrument add KZO-2025 --kind offset --vintage 2025
accounts=()
for i in 1 2 3 4; do
  reg company add "KZ-BENCH-$i" --name "Bench company $i"
  reg cash deposit "KZ-BENCH-$i" 900000000000.00
  reg issue KZQ-2026 "KZ-BENCH-$i" 500000000
  reg issue KZO-2025 "KZ-BENCH-$i" 500000000
  accounts+=("KZ-BENCH-$i")
done
printf 'bench-password\n' >"$work/pw"
for s in $(seq 1 "$sessions"); do
  reg broker add "BROKER$s" --password-file "$work/pw"
  for a in "${accounts[@]}"; do reg broker entitle "BROKER$s" "$a"; done
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'fix_port = %s\nsync_mode = %s\nlog_level = warn\n' "$port" "$mode" >"$work/conf"
"$bin/carbonex-server" --db "$db" --config "$work/conf" >"$work/out" 2>"$work/log" &
server_pid=$!
for _ in $(seq 1 300); do
  grep -q ready "$work/out" 2>/dev/null && break
  sleep 0.1
done
echo "server ($mode) on port $port; loadgen: $sessions sessions, window $window, $count requests"
"$bin/carbonex-loadgen" --port "$port" --sessions "$sessions" \
  --comp-id-prefix BROKER --password-file "$work/pw" \
  --accounts "$(IFS=,; echo "${accounts[*]}")" --symbols KZQ-2026,KZO-2025 \
  --count "$count" --window "$window" --duration 120 --quiet
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=""
