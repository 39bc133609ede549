#!/usr/bin/env bash
# logrotate/tradingbot: parses cleanly, says daily/compress/keep 14, and really rotates a file.
source "$(dirname "$0")/lib.sh"
command -v logrotate >/dev/null || fail "logrotate is not installed (scripts/setup.sh installs it)"
conf=$SOURCE_DIR/logrotate/tradingbot
for key in daily compress "rotate 14" postrotate; do
  grep -Eq "^\s+$key" "$conf" || fail "logrotate config lacks '$key'"
done

# Same config, pointed at a temp dir and at the user running the test (the service user does
# not exist on a build machine).
mkdir -p "$WORK/log"
sed -e "s#/var/log/tradingbot#$WORK/log#" -e "s#tradingbot tradingbot#$(id -un) $(id -gn)#g" "$conf" >"$WORK/lr.conf"
out=$(logrotate -d --state "$WORK/lr.state" "$WORK/lr.conf" 2>&1)
echo "$out" | grep -q '^error' && fail "logrotate -d reports errors: $out"
echo "$out" | grep -q 'Handling 1 logs' || fail "logrotate -d did not take the log block: $out"
pass "logrotate -d"

echo "line before rotation" >"$WORK/log/tradingbot.log"
logrotate -f --state "$WORK/lr.state" "$WORK/lr.conf" || fail "forced rotation failed"
[ -f "$WORK/log/tradingbot.log.1" ] || fail "rotation did not produce tradingbot.log.1"
grep -q "line before rotation" "$WORK/log/tradingbot.log.1" || fail "rotated file lost its content"
pass "forced rotation moves the file aside"
