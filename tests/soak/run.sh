#!/usr/bin/env bash
# Soak test of `sockeye serve`: 200 concurrent echo clients with random lifetimes, message sizes (0..256 KiB)
# and abrupt disconnects, for SOAK_SECONDS (default 60); samples the server's RSS and fd count every second and
# fails on unexpected errors, leaked connections (fds not back to baseline) or linear RSS growth.
#
#   tests/soak/run.sh src/Sockeye.Cli/bin/Release/net10.0/sockeye.dll          # 60 s
#   SOAK_SECONDS=15 tests/soak/run.sh path/to/sockeye.dll                       # CI
#   SOAK_SECONDS=600 SOAK_JSON=/tmp/soak.json tests/soak/run.sh path/to/sockeye.dll
#
# Env: SOAK_SECONDS, SOAK_CONNECTIONS (200), SOAK_SEED, SOAK_JSON (samples + summary), PY (/usr/bin/python3).
set -euo pipefail

DLL="${1:?usage: run.sh path/to/sockeye.dll}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PY:-/usr/bin/python3}"
SECONDS_TO_RUN="${SOAK_SECONDS:-60}"
CONNECTIONS="${SOAK_CONNECTIONS:-200}"
SEED="${SOAK_SEED:-$(date +%s)}"
LOG="$(mktemp /tmp/sockeye-soak.XXXXXX.log)"

PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
dotnet "$DLL" serve --host 127.0.0.1 --port "$PORT" --log-level Warning </dev/null >"$LOG" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; }
trap cleanup EXIT

# Wait for the port (poll; fail if the server dies first).
for _ in $(seq 1 300); do
  if ! kill -0 "$SERVER" 2>/dev/null; then echo "soak: server exited early; log:"; cat "$LOG"; exit 1; fi
  if "$PY" -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$PORT)))" 2>/dev/null; then break; fi
  sleep 0.1
done

echo "soak: server pid $SERVER on port $PORT, $CONNECTIONS clients for ${SECONDS_TO_RUN}s (seed $SEED)"
status=0
"$PY" "$HERE/soak.py" --url "ws://127.0.0.1:$PORT/" --pid "$SERVER" --seconds "$SECONDS_TO_RUN" \
  --connections "$CONNECTIONS" --seed "$SEED" ${SOAK_JSON:+--json "$SOAK_JSON"} || status=$?

# Graceful stop: SIGTERM must end the server promptly (connections are already gone).
kill -TERM "$SERVER"
for _ in $(seq 1 100); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SERVER" 2>/dev/null; then echo "soak: server did not exit within 10 s of SIGTERM"; status=1; fi
wait "$SERVER" 2>/dev/null || true
trap - EXIT

if grep -qiE "unhandled|fail:|crit:|exception" "$LOG"; then
  echo "soak: server log has errors:"; grep -iE "unhandled|fail:|crit:|exception" "$LOG" | head -20; status=1
fi
echo "soak: $([ $status -eq 0 ] && echo PASS || echo FAIL) (server log: $LOG)"
exit $status
