#!/usr/bin/env bash
# The public status page under load, side by side with nginx serving the same bytes as
# static files, in the same run on the same machine: /api/v2/summary.json and the HTML page.
# Then the same load on Triage while an incident is published and updated every second:
# no request may fail.
#
#   bash bench/status.sh        # from the repository root; installs wrk and nginx if missing
#
# Environment: DURATION (seconds per figure, 15), CONNECTIONS (64), THREADS (2),
# OUT (target/bench-status/<date>).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
OUT=${OUT:-target/bench-status/$(date -u +%Y-%m-%d)}
mkdir -p "$OUT"

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo build --release -p app --bin triage >/dev/null
TRIAGE=$PWD/target/release/triage
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

dir=$(mktemp -d)
port=$(free_port)
(cd "$dir" && TRIAGE_DATABASE_URL="sqlite://$dir/triage.db" TRIAGE_LISTEN=127.0.0.1:$port \
  RUST_LOG=warn "$TRIAGE" serve >"$dir/server.log" 2>&1) &
triage_pid=$!
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"

# The same bytes for nginx: one worker per core, access log off, as a static site would run.
static="$dir/static"
mkdir -p "$static/api/v2"
curl -sf "$base/api/v2/summary.json" -o "$static/api/v2/summary.json"
curl -sf "$base/status" -o "$static/status.html"
nginx_port=$(free_port)
cat >"$dir/nginx.conf" <<EOF
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/json json; text/html html; }
  server {
    listen 127.0.0.1:$nginx_port;
    root $static;
    etag on;
    add_header Cache-Control "public, max-age=5";
  }
}
EOF
# nginx's workers run as another user: let them read the files.
chmod a+rx "$dir"
chmod -R a+rX "$static"
nginx -c "$dir/nginx.conf"
curl -sf "http://127.0.0.1:$nginx_port/api/v2/summary.json" -o /dev/null || { echo "nginx does not serve the copy" >&2; exit 1; }
cleanup() {
  nginx -c "$dir/nginx.conf" -s stop 2>/dev/null || true
  kill "$triage_pid" 2>/dev/null || true
}
trap cleanup EXIT

# "requests/s p50 p99 non-2xx errors" from wrk's report.
measure() {
  local name=$1 url=$2 report
  report="$OUT/$name.txt"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url" >"$report"
  local rps p50 p99 non2xx errors bytes
  rps=$(awk '/^Requests\/sec/ {print $2}' "$report")
  p50=$(awk '$1 == "50%" {print $2}' "$report")
  p99=$(awk '$1 == "99%" {print $2}' "$report")
  non2xx=$(awk -F: '/Non-2xx/ {gsub(/ /, "", $2); print $2}' "$report")
  bytes=$(curl -s "$url" | wc -c)
  errors=$(awk '/Socket errors/ {print $0}' "$report")
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$bytes" "$rps" "$p50" "$p99" "${non2xx:-0}" "${errors:-none}"
}

{
  echo "| target | body bytes | requests/s | p50 | p99 | non-2xx | socket errors |"
  echo "|---|---|---|---|---|---|---|"
  measure triage-summary.json "$base/api/v2/summary.json"
  measure nginx-summary.json "http://127.0.0.1:$nginx_port/api/v2/summary.json"
  measure triage-status-page "$base/status"
  measure nginx-status-page "http://127.0.0.1:$nginx_port/status.html"
} | tee "$OUT/summary.md"

# Publishing during the load: an incident, an update a second, then its resolution.
token=$(cd "$dir" && TRIAGE_DATABASE_URL="sqlite://$dir/triage.db" "$TRIAGE" admin create-token \
  --email agent1@operator.example --name bench | grep -o 'trg_[A-Za-z0-9_-]*')
api() {
  curl -sf -X "$1" "$base$2" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$3"
}
component=$(curl -sf "$base/api/v1/status/components" -H "Authorization: Bearer $token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
publish() {
  sleep 2
  local id
  id=$(api POST /api/v1/status/incidents "{\"title_en\":\"Viewer down\",\"title_fr\":\"Visualiseur en panne\",\"impact\":\"critical\",\"body_en\":\"Investigating.\",\"body_fr\":\"Nous enquêtons.\",\"components\":[{\"component_id\":$component,\"status\":\"major_outage\"}]}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["event"]["id"])')
  for i in $(seq 1 $((DURATION - 5))); do
    sleep 1
    api POST "/api/v1/status/events/$id/updates" \
      "{\"status\":\"identified\",\"body_en\":\"Update $i.\",\"body_fr\":\"Mise à jour $i.\"}" >/dev/null
  done
  api POST "/api/v1/status/events/$id/updates" \
    '{"status":"resolved","body_en":"Fixed.","body_fr":"Corrigé."}' >/dev/null
  echo "published event $id and posted $((DURATION - 4)) updates during the load" >"$OUT/publish.txt"
}
publish &
publisher=$!
measure triage-summary.json-while-publishing "$base/api/v2/summary.json" | tee -a "$OUT/summary.md"
wait "$publisher"
cat "$OUT/publish.txt"
curl -sf "$base/api/v2/incidents.json" | python3 -c \
  'import json,sys; i=json.load(sys.stdin)["incidents"][0]; print("latest incident:", i["name"], i["status"], len(i["incident_updates"]), "updates")'
echo "reports in $OUT"
