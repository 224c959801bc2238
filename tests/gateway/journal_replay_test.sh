#!/usr/bin/env bash
# End-to-end: an order stream written as a journal and replayed with
# `carbonex-replay --journal` gives the same trades and resting orders as
# replaying the stream itself in engine mode; a torn tail is tolerated and
# reported; a corrupt record fails the replay.
# Usage: journal_replay_test.sh BIN_DIR
set -euo pipefail
bin="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

field() {  # field NAME JSON -> the value of "NAME":value
  sed -E "s/.*\"$1\":\"?([^,\"}]*).*/\1/" <<<"$2"
}
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin/carbonex-streamgen" --events 5000 --seed 11 --out "$tmp/s.txt" >/dev/null
"$bin/carbonex-journal-from-stream" "$tmp/s.txt" "$tmp/j" >/dev/null
stream="$("$bin/carbonex-replay" "$tmp/s.txt" --mode engine --json --no-latency)"
journal="$("$bin/carbonex-replay" --journal "$tmp/j" --json)"
echo "stream:  $stream"
echo "journal: $journal"
[ "$(field commands "$journal")" = 5065 ] || fail "command count"
[ "$(field trades "$journal")" = "$(field fills "$stream")" ] || fail "trades"
[ "$(field resting_orders "$journal")" = "$(field resting_orders "$stream")" ] ||
  fail "resting orders"
[ "$(field rejects "$journal")" = 0 ] || fail "rejects"
hash="$(field state_hash "$journal")"

# The same journal replays to the same state hash every time.
again="$("$bin/carbonex-replay" --journal "$tmp/j" --json)"
[ "$(field state_hash "$again")" = "$hash" ] || fail "state hash differs"

# Writing it again refuses to overwrite a journal.
if "$bin/carbonex-journal-from-stream" "$tmp/s.txt" "$tmp/j" 2>/dev/null; then
  fail "overwrote a journal"
fi

# A torn tail: the replay ends cleanly before it.
segment="$(ls "$tmp/j"/journal-*.cxj | tail -n 1)"
printf 'garbage' >>"$segment"
torn="$("$bin/carbonex-replay" --journal "$tmp/j" --json)"
[ "$(field torn_tail_bytes "$torn")" = 7 ] || fail "torn tail not reported"
[ "$(field state_hash "$torn")" = "$hash" ] || fail "torn tail changed state"

# A corrupt record in the middle: the replay fails with a clear error.
printf '\xff' | dd of="$segment" bs=1 seek=1000 conv=notrunc status=none
if out="$("$bin/carbonex-replay" --journal "$tmp/j" 2>&1)"; then
  fail "corrupt journal replayed: $out"
fi
grep -q "checksum mismatch" <<<"$out" || fail "unexpected error: $out"
echo "PASS"
