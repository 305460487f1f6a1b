#!/usr/bin/env bash
# Fuzz the REST API: serve Leadflow on a throwaway PostgreSQL database with demo data and
# run schemathesis against /api/v1/openapi.json with an admin's API token. Fails on any
# 5xx, any answer the schema does not declare, any body that does not match its schema.
# The server is stopped whatever happens. Run from anywhere: `make api-fuzz`.
#
#   FUZZ_DATABASE_URL  the database to DROP and re-create
#                      (default postgres://postgres@127.0.0.1:5432/leadflow_fuzz)
#   FUZZ_MAX_EXAMPLES  examples per operation and phase (default 20: about 2 minutes on
#                      2 cores)
#   FUZZ_SEED          schemathesis' seed, to replay a run (default: random)
set -euo pipefail
cd "$(dirname "$0")/../.."

DB_URL=${FUZZ_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/leadflow_fuzz}
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-20}
PY=.venv/bin/python
work=$(mktemp -d)
server=""

stop() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$server" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop EXIT

# The database is a throwaway: schemathesis creates, merges and erases leads.
"$PY" - "$DB_URL" <<'EOF'
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg

url = urlsplit(sys.argv[1])
name = url.path.lstrip("/")
admin = urlunsplit(url._replace(path="/postgres"))
with psycopg.connect(admin, autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.execute(f'CREATE DATABASE "{name}"')
EOF

port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export DATABASE_URL=$DB_URL LEADFLOW_DATA_DIR="$work/data" LEADFLOW_BASE_URL=$base \
  LEADFLOW_SECRET_KEY="fuzz-$(date +%s%N)-$RANDOM$RANDOM" LEADFLOW_DEMO=1 \
  LEADFLOW_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend \
  LEADFLOW_EMAIL_FILE_PATH="$work/sent-emails" LEADFLOW_LOG_LEVEL=WARNING
unset LEADFLOW_DEBUG LEADFLOW_TESTING

.venv/bin/leadflow migrate >/dev/null
.venv/bin/leadflow demo --credentials "$work/credentials.json" --url "$base" >/dev/null
token=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' \
  "$work/credentials.json")

.venv/bin/leadflow serve --host 127.0.0.1 --port "$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 60); do
  "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "$base/api/v1/openapi.json" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 1
done

status=0
.venv/bin/schemathesis run "$base/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks "${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,ignored_auth}" \
  --max-examples "$MAX_EXAMPLES" \
  --generation-database none \
  --suppress-health-check all \
  --request-timeout 30 \
  --no-color \
  ${FUZZ_SEED:+--seed "$FUZZ_SEED"} || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log (errors) ---"
  grep -E -A30 "ERROR|Traceback" "$work/server.log" | tail -n 200 || true
fi
exit "$status"
