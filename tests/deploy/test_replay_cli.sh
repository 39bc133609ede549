#!/usr/bin/env bash
# `tradingbot replay` as a user runs it, on the real captures in ../shared/data/binance:
# the summary JSON of ARCHITECTURE.md section 7, with the capture's known facts.
source "$(dirname "$0")/lib.sh"
data=$SOURCE_DIR/../shared/data/binance
capture=$data/btcusdt_spot_20240808.capture.gz
if [ ! -f "$capture" ]; then
  echo "SKIP: $capture is missing (tests read the shared captures from ../shared/data/binance)"
  exit 0
fi
"$TRADINGBOT" replay --config "$SOURCE_DIR/config/demo.toml" --summary "$WORK/summary.json" "$capture" >"$WORK/out.txt" ||
  fail "replay failed: $(cat "$WORK/out.txt")"
summary=$(cat "$WORK/summary.json")
for fragment in '"messages":41249' '"BTCUSDT":{"synced":true' '"gaps":0' '"crossed":0' '"book_ticker_mismatches":0'; do
  echo "$summary" | grep -qF "$fragment" || fail "summary lacks $fragment: ${summary:0:400}"
done
# config/demo.toml runs the market maker: it must trade on the paper venue, and deterministically.
paper=$(echo "$summary" | grep -oE '"paper":\{"orders":[0-9]+,"fills":[0-9]+,"realized_pnl":"-?[0-9.]+"\}') ||
  fail "summary lacks the paper section: ${summary: -300}"
[[ $paper =~ \"orders\":[1-9] && $paper =~ \"fills\":[1-9] ]] || fail "the demo market maker did not trade: $paper"
"$TRADINGBOT" replay --config "$SOURCE_DIR/config/demo.toml" --summary "$WORK/again.json" "$capture" >/dev/null ||
  fail "second replay failed"
strip() { sed -E 's/"(elapsed_s|msgs_per_s|pipeline_s|pipeline_msgs_per_s)":[^,]*,//g' "$1"; }
[ "$(strip "$WORK/summary.json")" = "$(strip "$WORK/again.json")" ] || fail "two replays of the same capture differ"
pass "replay trades the demo strategy on paper, deterministically: $paper"
checks=$(echo "$summary" | grep -oE '"book_ticker_checks":[0-9]+' | head -1 | cut -d: -f2)
[ "$checks" -ge 300 ] || fail "only $checks bookTicker checks: the cross-check verified too little"
levels=$(echo "$summary" | grep -oE '"bids":\[\[[^]]*\]' | head -1)
[[ $levels =~ \[\"[0-9]+(\.[0-9]+)?\",\"[0-9]+(\.[0-9]+)?\" ]] || fail "bids are not exact decimal strings: $levels"
pass "replay of the BTCUSDT capture: synced, no gap, $checks bookTicker checks, 0 mismatches"

"$TRADINGBOT" replay --config "$SOURCE_DIR/config/demo.toml" --summary "$WORK/cf.json" \
  "$data/cryptofeed_binance_ws.txt" "$data/cryptofeed_binance_http.txt" >/dev/null || fail "cryptofeed replay failed"
for symbol in NKNUSDT BLZETH LRCBTC RUNEEUR; do
  grep -qF "\"$symbol\":{\"synced\":true" "$WORK/cf.json" || fail "$symbol not synced in the cryptofeed replay"
done
pass "replay of the cryptofeed capture: all four symbols synced"

set +e
"$TRADINGBOT" replay --config "$SOURCE_DIR/config/demo.toml" "$WORK/missing.gz" 2>"$WORK/err.txt"
rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q 'missing.gz' "$WORK/err.txt" || fail "a missing capture is not a clear error"
pass "missing capture reported"
