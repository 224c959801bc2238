#!/usr/bin/env bash
# Benchmarks carbonex-replay on the canonical 1M-event stream in book and
# engine mode: runs each mode N times, checks every run's results against
# data/streams/stream_1m_s42.meta.json, and prints the median (and best)
# events/s, the median events per CPU-second and the median latency
# percentiles as a Markdown table. Engine mode runs as carbonex-replay
# does by default: risk checks and market-data events on.
# Usage: bench/stream/replay_bench.sh [runs (default 5)] [build dir (default build)]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-5}"
bin="${2:-build}/bin"
meta=data/streams/stream_1m_s42.meta.json
stream="${TMPDIR:-/tmp}/carbonex_stream_1m_s42.txt"
if [ ! -f "$stream" ]; then
  "$bin/carbonex-streamgen" --events 1000000 --seed 42 --out "$stream" 2>/dev/null
fi
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for mode in book engine; do
  for _ in $(seq "$runs"); do
    echo "run $mode" >>"$results"
    "$bin/carbonex-replay" "$stream" --mode "$mode" >>"$results"
  done
done
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$results" "$meta" <<'PY'
import json, statistics, sys
meta = json.load(open(sys.argv[2]))["expected"]
runs, current = {}, None
for line in open(sys.argv[1]):
    if line.startswith("run "):
        current = {}
        runs.setdefault(line.split()[1], []).append(current)
    elif ":" in line and not line.startswith("("):
        key, value = line.split(":", 1)
        current[key.strip()] = value.split()
checks = {"fills": "fills", "volume": "volume", "notional": "notional",
          "fill_hash": "fill_hash_fnv1a64", "book_hash": "final_book_hash_fnv1a64",
          "resting_orders": "final_resting_orders", "best_bid": "final_best_bid",
          "best_ask": "final_best_ask", "cancel_rejects": "cancel_rejects"}
print("| mode | runs | events/s (median) | events/s (best) | events per CPU-s (median) "
      "| p50 ns | p99 ns | p999 ns | max ns | results |")
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|---|")
ok = True
for mode, reports in runs.items():
    bad = sorted({k for r in reports for k, m in checks.items()
                  if r[k][0] != str(meta[m])})
    ok = ok and not bad
    eps = [float(r["events_per_sec"][0]) for r in reports]
    cpu = [float(r["cpu_seconds"][1].lstrip("(")) for r in reports]
    lat = lambda i: int(statistics.median(int(r["latency_ns"][i]) for r in reports))
    print(f"| {mode} | {len(reports)} | {statistics.median(eps)/1e6:.2f} M "
          f"| {max(eps)/1e6:.2f} M | {statistics.median(cpu)/1e6:.2f} M "
          f"| {lat(1)} | {lat(3)} | {lat(5)} | {lat(7)} "
          f"| {'as expected' if not bad else 'MISMATCH: ' + ','.join(bad)} |")
sys.exit(0 if ok else 1)
PY
