#!/usr/bin/env bash
# Command-line behaviour of carbonex-streamgen and carbonex-replay: bad input
# gives exit status 1 and a one-line error naming the problem; good input
# round-trips. Usage: cli_test.sh <carbonex-streamgen> <carbonex-replay>
set -uo pipefail
gen="$1"
replay="$2"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
failures=0

# expect_fail <stderr-substring> <command...>
expect_fail() {
  local want="$1"
  shift
  if "$@" >"$dir/out" 2>"$dir/err"; then
    echo "FAIL: expected failure: $*"
    failures=$((failures + 1))
    return
  fi
  if ! grep -qF -- "$want" "$dir/err"; then
    echo "FAIL: '$*' stderr lacks '$want':"
    cat "$dir/err"
    failures=$((failures + 1))
  fi
}

expect_fail "--events must be between 1" "$gen" --events 0 --seed 1 --out "$dir/s"
expect_fail "--passive-pct + --aggressive-pct" \
  "$gen" --events 5 --seed 1 --passive-pct 90 --aggressive-pct 20 --out "$dir/s"
expect_fail "--seed is required" "$gen" --events 5 --out "$dir/s"
expect_fail "cannot create /nonexistent/dir/s" \
  "$gen" --events 5 --seed 1 --out /nonexistent/dir/s
expect_fail "cannot open $dir/missing" "$replay" "$dir/missing"
printf '# ets-stream v1 events=1 seed=1 mid=1 target=1 mix=70/20/10\nA 1 B 0 5 p\n' \
  >"$dir/bad.txt"
expect_fail "$dir/bad.txt: line 2: price must be" "$replay" "$dir/bad.txt"
expect_fail "--mode" "$replay" "$dir/bad.txt" --mode sideways

# A round trip through a pipe: generate to stdout, replay from stdin.
if ! "$gen" --events 2000 --seed 9 --out - 2>/dev/null |
  "$replay" - --json >"$dir/report.json"; then
  echo "FAIL: generate | replay - failed"
  failures=$((failures + 1))
elif ! grep -q '"events":2000' "$dir/report.json"; then
  echo "FAIL: unexpected report: $(cat "$dir/report.json")"
  failures=$((failures + 1))
fi

# Engine mode reports its market data, unless --no-market-data.
"$gen" --events 2000 --seed 9 --out "$dir/s2k.txt" 2>/dev/null
if ! "$replay" "$dir/s2k.txt" --mode engine --no-latency >"$dir/on.txt" ||
  ! grep -Eq '^market_data: +on, [1-9][0-9]* BookLevelChanged' "$dir/on.txt"; then
  echo "FAIL: engine mode without market data: $(cat "$dir/on.txt")"
  failures=$((failures + 1))
fi
if ! "$replay" "$dir/s2k.txt" --mode engine --no-latency --no-market-data \
  >"$dir/off.txt" || ! grep -Eq '^market_data: +off' "$dir/off.txt"; then
  echo "FAIL: --no-market-data not reported: $(cat "$dir/off.txt")"
  failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all command-line checks passed"
