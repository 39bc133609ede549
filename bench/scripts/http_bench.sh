#!/usr/bin/env bash
# HTTP figures for issue 2, each next to the peer it is compared with, measured in one run:
#   - /health under `wrk -t2 -c100`: the daemon with its default single HTTP thread and with
#     `http.threads = 2`, vs a plain nginx `return 200` (worker_processes auto: one per core) on
#     this box (target: at least nginx's req/s, p99 no worse than 1.5x nginx's), and through the
#     project's own nginx site (nginx/tradingbot.conf) proxying to the daemon.
#   - idle RSS of the daemon (target < 15 MB; the Python bot used ~200 MB)
#   - exec to /health answering (target < 100 ms)
# The machine is shared and wrk competes with the server for its 2 cores, so one wrk run swings
# by +-10%: the daemon and nginx are measured in alternating rounds (default 3) and the figures
# are the medians, with each round's own ratio printed next to them.
# Usage: bench/scripts/http_bench.sh [seconds per wrk run, default 10] [rounds, default 3]
# Loopback only; every process it starts is stopped on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
duration=${1:-10}
rounds=${2:-3}
bin=${TB_BINARY_DIR:-$root/build}/tradingbot
[ -x "$bin" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "run scripts/setup.sh first (wrk, nginx)" >&2; exit 1; }

work=$(mktemp -d /tmp/tb-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  sleep 0.2
  rm -rf "$work"
}
trap cleanup EXIT

port() { echo $((10000 + RANDOM % 22000)); }  # below the ephemeral range (32768-)
daemon_port=$(port); plain_port=$((daemon_port + 1)); proxy_port=$((daemon_port + 2)); daemon2_port=$((daemon_port + 3))

wait_up() {
  for _ in $(seq 1 400); do curl -s -o /dev/null --max-time 1 "$1" && return 0; sleep 0.01; done
  echo "$1 never answered" >&2; exit 1
}

# --- daemon: start-up time and idle RSS
daemon_config() {  # daemon_config PORT THREADS NAME
  printf '[http]\nlisten = "127.0.0.1:%s"\nthreads = %s\n[trading]\nmode = "paper"\n[log]\nlevel = "warn"\n[store]\njournal_dir = "%s"\n' \
    "$1" "$2" "$work/journal-$3" >"$work/$3.toml"
}
daemon_config "$daemon_port" 1 tb
daemon_config "$daemon2_port" 2 tb2
# The daemon runs with the environment systemd gives it (systemd/tradingbot.service sets no
# OpenSSL variables). A shell that exports SSL_CERT_FILE (some distributions' profiles, Nix) makes
# OpenSSL decode the whole CA bundle at start instead of the hashed directory on demand: +40 ms
# to /health and +1.3 MB here, a property of that shell, not of the deployment.
daemon_env=(env -u SSL_CERT_FILE -u NIX_SSL_CERT_FILE)
t0=$(date +%s%N)
"${daemon_env[@]}" "$bin" --config "$work/tb.toml" >"$work/daemon.log" 2>&1 &
pids+=($!)
daemon_pid=$!
until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$daemon_port/health"; do
  sleep 0.001
  [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 5000 ] || { echo "daemon did not answer in 5 s" >&2; cat "$work/daemon.log" >&2; exit 1; }
done
t1=$(date +%s%N)
startup_ms=$(( (t1 - t0) / 1000000 ))
sleep 1
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$daemon_pid/status")
# Split: anonymous memory is the daemon's own; file pages are the mapped code of the binary and
# its shared libraries (libcrypto alone ~4 MB), shared with every other process that maps them.
anon_kb=$(awk '/^RssAnon/ {print $2}' "/proc/$daemon_pid/status")
file_kb=$(awk '/^RssFile/ {print $2}' "/proc/$daemon_pid/status")

# --- nginx: a plain `return 200` server and the project's site, in one throwaway prefix
mkdir -p "$work/nginx/logs"
sed -e "s/listen 80;/listen 127.0.0.1:$proxy_port;/" -e '/listen \[::\]:80;/d' \
    -e "s/server 127.0.0.1:8080;/server 127.0.0.1:$daemon_port;/" "$root/nginx/tradingbot.conf" >"$work/nginx/site.conf"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp_body;
  proxy_temp_path $work/nginx/tmp_proxy;
  fastcgi_temp_path $work/nginx/tmp_fcgi;
  uwsgi_temp_path $work/nginx/tmp_uwsgi;
  scgi_temp_path $work/nginx/tmp_scgi;
  server { listen 127.0.0.1:$plain_port; location / { return 200 '{"status":"ok"}'; } }
  include $work/nginx/site.conf;
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"
wait_up "http://127.0.0.1:$plain_port/health"
wait_up "http://127.0.0.1:$proxy_port/health"
"${daemon_env[@]}" "$bin" --config "$work/tb2.toml" >"$work/daemon2.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$daemon2_port/health"

# wrk's latency distribution: req/s and p99 in microseconds.
run_wrk() {
  local out
  out=$(wrk -t2 -c100 -d"${duration}s" --latency "$1")
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); print v} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s/,"",v); print v*1000000}}')
  echo "$rps $p99"
}

median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
nginx_r=() nginx_l=() tb_r=() tb_l=() tb2_r=() tb2_l=() round_ratios=""
for round in $(seq 1 "$rounds"); do
  read -r rps p99 < <(run_wrk "http://127.0.0.1:$plain_port/health"); nginx_r+=("$rps"); nginx_l+=("$p99")
  read -r rps p99 < <(run_wrk "http://127.0.0.1:$daemon_port/health"); tb_r+=("$rps"); tb_l+=("$p99")
  read -r rps p99 < <(run_wrk "http://127.0.0.1:$daemon2_port/health"); tb2_r+=("$rps"); tb2_l+=("$p99")
  round_ratios+=$(awk -v a="${tb2_r[-1]}" -v b="${nginx_r[-1]}" -v r="$round" 'BEGIN {printf " round %d %.2f", r, a / b}')
done
nginx_rps=$(median "${nginx_r[@]}") nginx_p99=$(median "${nginx_l[@]}")
tb_rps=$(median "${tb_r[@]}") tb_p99=$(median "${tb_l[@]}")
tb2_rps=$(median "${tb2_r[@]}") tb2_p99=$(median "${tb2_l[@]}")
read -r proxy_rps proxy_p99 < <(run_wrk "http://127.0.0.1:$proxy_port/health")

echo
echo "tradingbot HTTP benchmark ($(nproc) cores, wrk -t2 -c100 -d${duration}s, loopback, median of $rounds alternating rounds)"
printf '%-34s %12s %12s\n' "target" "req/s" "p99 (us)"
printf '%-34s %12s %12s\n' "nginx return 200 (peer)" "$nginx_rps" "$nginx_p99"
printf '%-34s %12s %12s\n' "tradingbot /health (1 HTTP thread)" "$tb_rps" "$tb_p99"
printf '%-34s %12s %12s\n' "tradingbot /health (2 HTTP threads)" "$tb2_rps" "$tb2_p99"
printf '%-34s %12s %12s\n' "nginx/tradingbot.conf -> /health" "$proxy_rps" "$proxy_p99"
printf '%-34s %12s\n' "FastAPI bot (recorded figure)" "~10700"
awk -v a="$tb_rps" -v a2="$tb2_rps" -v b="$nginx_rps" -v pa="$tb_p99" -v pa2="$tb2_p99" -v pb="$nginx_p99" 'BEGIN {
  printf "ratio req/s tradingbot/nginx: 1 thread %.2f, 2 threads %.2f (target >= 1.00)\n", a / b, a2 / b;
  printf "ratio p99 tradingbot/nginx:   1 thread %.2f, 2 threads %.2f (target <= 1.50)\n", pa / pb, pa2 / pb }'
echo "req/s ratio 2 threads/nginx per round:$round_ratios"
echo "idle RSS: $((rss_kb / 1024)) MB ($rss_kb kB: $anon_kb kB anonymous, $file_kb kB mapped code) (target < 15 MB; Python bot ~200 MB)"
echo "exec to /health answering: ${startup_ms} ms (target < 100 ms)"
