#!/usr/bin/env bash
# Triage and Request Tracker 5 side by side: the same load tool (the peers' target-neutral
# ticket_bench.py), the same machine, the same session, SQLite and PostgreSQL, concurrency 1
# and 4. Writes one JSON per run and summary.md under $OUT.
#
#   bash bench/compare-rt.sh            # from the repository root, as root (RT needs apt)
#
# Environment: PEERS (../shared/peers), N (tickets per run, 300), GETS (300), SEARCHES (100),
# BACKENDS ("sqlite pg"), CONC ("1 4"), PG_URL (postgres://postgres@127.0.0.1:5432/test),
# SKIP_RT=1 to measure Triage only.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${PEERS:-../shared/peers}
N=${N:-300}
GETS=${GETS:-300}
SEARCHES=${SEARCHES:-100}
BACKENDS=${BACKENDS:-"sqlite pg"}
CONC=${CONC:-"1 4"}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
OUT=${OUT:-target/compare-rt/$(date -u +%Y-%m-%d)}
BENCH="$PEERS/bench/ticket_bench.py"
mkdir -p "$OUT"
cargo build --release -p app >/dev/null
TRIAGE=$PWD/target/release/triage

run_triage() {
  local be=$1 c=$2 dir url port pid token
  dir=$(mktemp -d)
  if [ "$be" = sqlite ]; then
    url="sqlite://$dir/triage.db"
  else
    local name="triage_cmp_$$_$c"
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $name" -qc "CREATE DATABASE $name" >/dev/null
    url="${PG_URL%/*}/$name"
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd "$dir" && TRIAGE_DATABASE_URL=$url TRIAGE_LISTEN=127.0.0.1:$port "$TRIAGE" serve >"$dir/server.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  token=$(cd "$dir" && TRIAGE_DATABASE_URL=$url "$TRIAGE" admin create-token --email helpdesk@hhs.example --name bench | grep -o 'trg_[A-Za-z0-9_-]*')
  python3 "$BENCH" --target triage --base "http://127.0.0.1:$port" --token "$token" --org HHS \
    --n "$N" -c "$c" --gets "$GETS" --searches "$SEARCHES" --label "triage $be c=$c" \
    --out "$OUT/triage-$be-c$c.json" >/dev/null
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}

run_rt() {
  local be=$1 c=$2
  python3 "$BENCH" --target rt --base http://127.0.0.1:8095 \
    --n "$N" -c "$c" --gets "$GETS" --searches "$SEARCHES" --label "rt $be c=$c" \
    --out "$OUT/rt-$be-c$c.json" >/dev/null
}

# RT 5.0.3 (deb12u7) refuses REST2 calls made with its session cookie unless they carry a
# Referer from its own site ("Cross-site request forgery protection refused this request");
# the load tool logs in by cookie and sends none. Off for this loopback-only peer.
RT_CONFIG_DIR=${RT_STATE:-/var/lib/triage-peer-rt}/RT_SiteConfig.d
mkdir -p "$RT_CONFIG_DIR"
printf 'Set($RestrictReferrer, 0);\n1;\n' >"$RT_CONFIG_DIR/zz-bench-referrer.pm"

for be in $BACKENDS; do
  for c in $CONC; do
    echo "triage $be c=$c"; run_triage "$be" "$c"
  done
  if [ -z "${SKIP_RT:-}" ]; then
    for c in $CONC; do
      echo "rt $be c=$c"
      RT_FRESH=1 bash "$PEERS/rt/setup.sh" "$be" >/dev/null
      run_rt "$be" "$c"
    done
  fi
done
[ -z "${SKIP_RT:-}" ] && bash "$PEERS/rt/setup.sh" stop >/dev/null || true

python3 - "$OUT" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
rows = ["| run | creates/s | create p50 / p95 ms | GET p50 / p95 ms | GET req/s | search p50 / p95 ms | errors | client CPU s |",
        "|---|---|---|---|---|---|---|---|"]
for f in sorted(out.glob("*.json")):
    d = json.loads(f.read_text())
    ph = d["phases"]
    pair = lambda name: f"{ph[name]['p50_ms']} / {ph[name]['p95_ms']}" if name in ph else "-"
    errors = sum(p["errors"] for p in ph.values())
    rows.append(f"| {f.stem} | {ph['create']['rate_per_s']} | {pair('create')} | {pair('get')} | "
                f"{ph['get']['rate_per_s']} | {pair('search')} | {errors} | {d['client']['cpu_s']} |")
(out / "summary.md").write_text("\n".join(rows) + "\n")
print("\n".join(rows))
PY
