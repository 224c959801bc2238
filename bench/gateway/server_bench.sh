#!/usr/bin/env bash
# Server benchmark: carbonex-loadgen against a real carbonex-server.
#
#   bench/gateway/server_bench.sh [async|durable] [COUNT] [SESSIONS] [WINDOW]
#   bench/gateway/server_bench.sh figures [OUTDIR]
#
# The first form builds a scratch registry (4 companies with cash and
# allowances, brokers BROKER1..N entitled to all of them), starts the server
# in the given sync mode on a free port, runs the load generator and prints
# its summary, the CPU time each process used, then stops the server.
# Defaults: async 200000 4 100. WINDOW 1 measures one order in flight
# (order -> ack latency).
#
# The second form produces every server figure of docs/benchmarks.md, one
# run each, and the latency plots (OUTDIR, default bench-results/):
#   async   4 sessions x window 100   (throughput)
#   durable 4 sessions x window 100   (throughput, group commit)
#   async   1 session, one in flight  (latency; CSV + PNG)
#   durable 1 session, one in flight  (latency; CSV + PNG)
#
# Environment:
#   LATENCY_CSV=F, PLOT=F.png  write the latency curve / gnuplot PNG (first
#                              form; the second writes them into OUTDIR)
#   SERVER_CPUS, LOADGEN_CPUS  pin the processes with taskset, e.g. 1 and 0
#   NAGLE=0                    the load generator's sockets with TCP_NODELAY
#                              (default: Nagle on, --nagle: orders sent while
#                              earlier ones are in flight share TCP segments,
#                              as a broker batching its writes would; one
#                              order in flight is not delayed)
#   BATCH=0                    one write per order (default: --batch-writes,
#                              the orders the load generator has ready at
#                              once leave in one write per session)
#   LOADGEN_ARGS               more carbonex-loadgen options
#   SERVER_CONFIG              more lines for the server's config file (e.g.
#                              'sequencer_spin_us = 0'; docs/server.md)
#   CARBONEX_BIN=DIR           programs from DIR instead of build/bin (e.g. to
#                              compare two builds of carbonex-server)
# Needs build/bin from scripts/build (Release), python3, and gnuplot for plots.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

if [ "${1:-}" = figures ]; then
  out="${2:-bench-results}"
  mkdir -p "$out"
  out="$(cd "$out" && pwd)"
  self="$root/bench/gateway/server_bench.sh"
  echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); uptime:$(uptime)"
  "$self" async 200000 4 100
  "$self" durable 100000 4 100
  LATENCY_CSV="$out/latency-async.csv" PLOT="$out/latency-async.png" \
    "$self" async 20000 1 1
  LATENCY_CSV="$out/latency-durable.csv" PLOT="$out/latency-durable.png" \
    "$self" durable 5000 1 1
  echo "# plots and latency curves in $out"
  exit 0
fi

mode="${1:-async}"
count="${2:-200000}"
sessions="${3:-4}"
window="${4:-100}"
case "$mode" in
  async | durable) ;;
  *)
    echo "usage: $0 [async|durable] [COUNT] [SESSIONS] [WINDOW] | figures [OUTDIR]" >&2
    exit 2
    ;;
esac
bin="${CARBONEX_BIN:-$root/build/bin}"
work="$(mktemp -d)"
db="$work/db"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
reg() { "$bin/carbonex-registry" --db "$db" "$@" >/dev/null; }
pin() {
  if [ -n "$1" ]; then echo "taskset -c $1"; fi
}
# CPU seconds (user + system) a live process has used so far.
cpu_of() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' \
    "/proc/$1/stat"
}

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
# The flow spreads its orders over only 4 accounts, and its books rest more
# than 4 x 10,000 orders (the default max_open_orders_per_account) at their
# peak: without this, about 18 % of the async 4 x 100 run's new orders were
# rejected with OrdRejReason 3. The benchmark measures accepted orders.
printf 'fix_port = %s\nsync_mode = %s\nlog_level = warn\nmax_open_orders_per_account = 0\n%s\n' \
  "$port" "$mode" "${SERVER_CONFIG:-}" >"$work/conf"
# shellcheck disable=SC2046
$(pin "${SERVER_CPUS:-}") "$bin/carbonex-server" --db "$db" --config "$work/conf" \
  >"$work/out" 2>"$work/log" &
server_pid=$!
for _ in $(seq 1 300); do
  grep -q ready "$work/out" 2>/dev/null && break
  sleep 0.1
done
if ! grep -q ready "$work/out"; then
  echo "the server did not start:" >&2
  cat "$work/log" >&2
  exit 1
fi
server_cpu_start=$(cpu_of "$server_pid")
extra=()
if [ -n "${LATENCY_CSV:-}" ]; then extra+=(--latency-csv "$LATENCY_CSV"); fi
if [ -n "${PLOT:-}" ]; then extra+=(--plot "$PLOT"); fi
nagle=on
if [ "${NAGLE:-1}" = 1 ]; then extra+=(--nagle); else nagle=off; fi
batch=on
if [ "${BATCH:-1}" = 1 ]; then extra+=(--batch-writes); else batch=off; fi
# shellcheck disable=SC2206
extra+=(${LOADGEN_ARGS:-})
echo "server ($mode) on port $port; loadgen: $sessions sessions, window $window, $count requests, Nagle $nagle, batched writes $batch"
TIMEFORMAT="loadgen cpu: %U s user + %S s system"
# shellcheck disable=SC2046
time $(pin "${LOADGEN_CPUS:-}") "$bin/carbonex-loadgen" --port "$port" \
  --sessions "$sessions" --comp-id-prefix BROKER --password-file "$work/pw" \
  --accounts "$(IFS=,; echo "${accounts[*]}")" --symbols KZQ-2026,KZO-2025 \
  --count "$count" --window "$window" --duration 120 --quiet "${extra[@]}"
server_cpu_end=$(cpu_of "$server_pid")
awk -v a="$server_cpu_start" -v b="$server_cpu_end" -v n="$count" \
  'BEGIN { printf "server cpu during the run: %.2f s (%.1f us per request)\n", b - a, (b - a) * 1e6 / n }'
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=""
