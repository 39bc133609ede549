#!/usr/bin/env bash
# sysctl/60-tradingbot.conf: every setting is a real kernel key, has a comment saying why, and
# the file parses as sysctl.d syntax.
source "$(dirname "$0")/lib.sh"
conf=$SOURCE_DIR/sysctl/60-tradingbot.conf
for key in net.core.somaxconn net.ipv4.tcp_max_syn_backlog net.ipv4.ip_local_port_range net.ipv4.tcp_keepalive_time; do
  grep -Eq "^$key = " "$conf" || fail "missing $key"
done
prev=""
count=0
while IFS= read -r line; do
  if [[ $line =~ ^([a-z0-9_.]+)\ =\ ([0-9][0-9\ ]*)$ ]]; then
    key=${BASH_REMATCH[1]}
    [ -e "/proc/sys/${key//.//}" ] || fail "$key is not a kernel setting on this kernel"
    [[ $prev == \#* || $prev =~ ^[a-z0-9_.]+\ = ]] || fail "$key has no comment explaining it"
    count=$((count + 1))
  elif [[ -n $line && $line != \#* ]]; then
    fail "not sysctl.d syntax: '$line'"
  fi
  prev=$line
done <"$conf"
[ "$count" -ge 8 ] || fail "only $count settings"
pass "$count settings, all documented and known to the kernel"
