#!/usr/bin/env bash
# systemd/tradingbot.service: valid for systemd-analyze, and hardened ("OK" exposure or better).
source "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed (scripts/setup.sh installs it)"

unit=$WORK/tradingbot.service
# verify checks that ExecStart exists, so point it at the binary we just built.
sed "s#/usr/local/bin/tradingbot#$TRADINGBOT#" "$SOURCE_DIR/systemd/tradingbot.service" >"$unit"
out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify printed warnings: $out"
pass "systemd-analyze verify"

for key in Type=notify WatchdogSec= Restart=on-failure User=tradingbot EnvironmentFile= NoNewPrivileges=yes \
           ProtectSystem=strict ProtectHome=yes PrivateTmp=yes ReadWritePaths= "CapabilityBoundingSet=\$"; do
  grep -Eq "^$key" "$unit" || fail "unit lacks $key"
done
pass "unit carries the required directives"

line=$(systemd-analyze security --offline=true "$unit" 2>&1 | grep 'Overall exposure level') ||
  fail "systemd-analyze security gave no overall level"
echo "$line"
echo "$line" | grep -Eq ' (OK|SAFE)' || fail "exposure is worse than OK: $line"
pass "systemd-analyze security rates the unit OK or better"

grep -Eq '^u tradingbot ' "$SOURCE_DIR/systemd/tradingbot.sysusers" || fail "sysusers file does not create the user"
pass "sysusers file"
