#!/usr/bin/env bash
# End-to-end checks of `sockeye serve` options that need the real CLI: TLS (PEM and PKCS#12) serving https:// and
# wss:// on one port, the client's certificate validation and --insecure, the origin check, and graceful shutdown
# on SIGTERM. Usage: tests/cli/run.sh [path/to/sockeye.dll]. Prints one line per check; exits non-zero on failure.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DLL="${1:-$ROOT/src/Sockeye.Cli/bin/Release/net10.0/sockeye.dll}"
[[ -f "$DLL" ]] || { echo "sockeye.dll not found: $DLL"; exit 2; }
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT
failures=0
ok() { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; failures=$((failures + 1)); }

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { # port pid
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05 # polling a port that is not open yet; bounded by the loop
  done
  return 1
}

# A self-signed certificate for localhost, as PEM and as PKCS#12.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || { echo "openssl failed"; exit 2; }
openssl pkcs12 -export -in "$WORK/cert.pem" -inkey "$WORK/key.pem" -out "$WORK/cert.pfx" -passout pass:secret >/dev/null 2>&1
echo '<h1>hello over tls</h1>' >"$WORK/index.html"

# 1. PEM: https static file and wss echo on the same port.
port=$(free_port)
dotnet "$DLL" serve --port "$port" --static "$WORK" --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" >"$WORK/pem.log" 2>&1 &
pid=$!; PIDS+=("$pid")
if wait_port "$port" "$pid"; then
  body=$(curl -sk "https://localhost:$port/")
  [[ "$body" == *"hello over tls"* ]] && ok "https static file with a PEM certificate" || fail "https static file (got: $body)"
  out=$(printf 'secure\n' | timeout 20 dotnet "$DLL" connect --insecure "wss://localhost:$port/echo" 2>&1)
  [[ "$out" == "secure" ]] && ok "wss echo with connect --insecure" || fail "wss echo with --insecure (got: $out)"
  out=$(printf 'x\n' | timeout 20 dotnet "$DLL" connect "wss://localhost:$port/echo" 2>&1); rc=$?
  [[ $rc -ne 0 && "$out" == *"cannot connect"* ]] && ok "connect validates certificates by default (exit $rc)" || fail "self-signed certificate accepted without --insecure (rc $rc: $out)"
  plain=$(timeout 10 curl -s -o /dev/null -w '%{http_code}' "http://localhost:$port/"); 
  [[ "$plain" == "000" ]] && ok "plain http on the TLS port is not served" || fail "plain http on the TLS port answered $plain"
else
  fail "serve with a PEM certificate did not start: $(tail -3 "$WORK/pem.log")"
fi

# 2. PKCS#12 with a password.
port=$(free_port)
dotnet "$DLL" serve --port "$port" --tls-cert "$WORK/cert.pfx" --tls-password secret >"$WORK/pfx.log" 2>&1 &
pid=$!; PIDS+=("$pid")
if wait_port "$port" "$pid"; then
  out=$(printf 'pfx\n' | timeout 20 dotnet "$DLL" connect --insecure "wss://127.0.0.1:$port/" 2>&1)
  [[ "$out" == "pfx" ]] && ok "wss echo with a PKCS#12 certificate" || fail "PKCS#12 (got: $out)"
else
  fail "serve with a PKCS#12 certificate did not start: $(tail -3 "$WORK/pfx.log")"
fi

# 3. A bad certificate path is a startup error with a clear message.
out=$(timeout 20 dotnet "$DLL" serve --port 0 --tls-cert "$WORK/missing.pem" --tls-key "$WORK/key.pem" 2>&1); rc=$?
[[ $rc -ne 0 && "$out" == *"certificate"* ]] && ok "missing certificate: exit $rc with a message" || fail "missing certificate (rc $rc: $out)"

# 4. Origin: same origin accepted, other origins 403 unless --origin allows them.
port=$(free_port)
dotnet "$DLL" serve --port "$port" --origin https://app.example >"$WORK/origin.log" 2>&1 &
pid=$!; PIDS+=("$pid")
if wait_port "$port" "$pid"; then
  upgrade() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Origin: $1" -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
    -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "http://127.0.0.1:$port/"; }
  [[ "$(upgrade "http://127.0.0.1:$port")" == 101 ]] && ok "same-origin upgrade: 101" || fail "same-origin upgrade refused"
  [[ "$(upgrade https://evil.example)" == 403 ]] && ok "cross-origin upgrade: 403" || fail "cross-origin upgrade not refused"
  [[ "$(upgrade https://app.example)" == 101 ]] && ok "--origin allows a listed origin: 101" || fail "--origin did not allow the listed origin"
  grep -q "403" "$WORK/origin.log" && ok "the refusal is logged with its reason" || fail "no log line for the 403"
else
  fail "serve --origin did not start"
fi

# 5. Graceful shutdown: SIGTERM → clients get 1001, the server exits 0 within the deadline.
port=$(free_port)
dotnet "$DLL" serve --port "$port" --shutdown-timeout 3 >"$WORK/shutdown.log" 2>&1 &
pid=$!; PIDS+=("$pid")
if wait_port "$port" "$pid"; then
  /usr/bin/python3 - "$port" "$pid" <<'PY' && ok "SIGTERM: client got 1001 after its pending echo; server exited 0" || fail "graceful shutdown"
import asyncio, os, signal, sys, websockets
port, pid = int(sys.argv[1]), int(sys.argv[2])
async def main():
    async with websockets.connect(f"ws://127.0.0.1:{port}/") as ws:
        await ws.send("before shutdown")
        assert await ws.recv() == "before shutdown"
        os.kill(pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(ws.recv(), 10)
            sys.exit("unexpected message")
        except websockets.ConnectionClosed as e:
            assert e.code == 1001, e.code
asyncio.run(main())
PY
  wait "$pid"; rc=$?
  [[ $rc -eq 0 ]] && ok "server exit status 0 after SIGTERM" || fail "server exit status $rc after SIGTERM"
else
  fail "serve did not start for the shutdown check"
fi

echo "cli checks: $failures failed"
exit $((failures > 0))
