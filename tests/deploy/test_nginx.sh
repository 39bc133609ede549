#!/usr/bin/env bash
# nginx/tradingbot.conf: `nginx -t` accepts it, and a real nginx in a throwaway prefix proxies
# the public endpoints to a real daemon over keep-alive, and keeps the rest local.
source "$(dirname "$0")/lib.sh"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/setup.sh installs it)"

daemon_port=$(free_port)
nginx_port=$(free_port)
while [ "$nginx_port" = "$daemon_port" ]; do nginx_port=$(free_port); done
mkdir -p "$WORK/nginx/logs"
sed -e "s/listen 80;/listen 127.0.0.1:$nginx_port;/" -e '/listen \[::\]:80;/d' \
    -e "s/server 127.0.0.1:8080;/server 127.0.0.1:$daemon_port;/" "$SOURCE_DIR/nginx/tradingbot.conf" >"$WORK/nginx/site.conf"
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 256; }
http {
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  include $WORK/nginx/site.conf;
}
CONF
out=$(nginx -t -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>&1) || fail "nginx -t: $out"
pass "nginx -t"

write_config "$WORK/tb.toml" "$daemon_port"
start_daemon "$WORK/tb.toml"
wait_http "http://127.0.0.1:$daemon_port/health"
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
CLEANUP+=("nginx -p '$WORK/nginx' -c '$WORK/nginx/nginx.conf' -s stop; sleep 0.2")
wait_http "http://127.0.0.1:$nginx_port/health"

body=$(curl -s --max-time 2 "http://127.0.0.1:$nginx_port/health")
echo "$body" | grep -q '"status":"ok"' || fail "/health through nginx: $body"
[ "$(http_status "http://127.0.0.1:$nginx_port/metrics")" = 200 ] || fail "/metrics through nginx"
[ "$(http_status "http://127.0.0.1:$nginx_port/ready")" = 503 ] || fail "/ready status not passed through"
[ "$(http_status "http://127.0.0.1:$nginx_port/anything")" = 404 ] || fail "unknown path not 404 at nginx"
[ "$(http_status "http://127.0.0.1:$nginx_port/health" -X POST)" = 403 ] || fail "POST /health not refused by nginx"
pass "nginx proxies /health, /ready, /metrics and refuses the rest"

# Upstream keep-alive: 50 requests through nginx reuse a handful of daemon connections.
for _ in $(seq 1 50); do curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$nginx_port/health"; done
accepted=$(curl -s --max-time 2 "http://127.0.0.1:$daemon_port/metrics" |
  awk '/^tradingbot_http_connections_accepted_total / {print $2}')
[ -n "$accepted" ] || fail "daemon does not report accepted connections"
[ "$accepted" -le 10 ] || fail "nginx opened $accepted upstream connections for 50 requests: keep-alive is not working"
pass "upstream keep-alive ($accepted daemon connections for 50+ requests)"

stop_daemon
