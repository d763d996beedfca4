#!/usr/bin/env bash
# End-to-end checks that need the real CLI: TLS (PEM and PKCS#12) serving https:// and wss:// on one port, the
# client's certificate validation and --insecure, the origin check, graceful shutdown on SIGTERM, option validation
# and parse errors, and `sockeye connect` (scheme-less URLs, --binary, --no-wait; connect_checks.py: what happens
# after stdin EOF, close reporting, connect timeouts). Usage: tests/cli/run.sh [path/to/sockeye.dll]. Prints one
# line per check; exits non-zero on failure.
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
  out=$(printf 'secure\n' | timeout 20 dotnet "$DLL" connect --no-wait --insecure "wss://localhost:$port/echo" 2>&1)
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
  out=$(printf 'pfx\n' | timeout 20 dotnet "$DLL" connect --no-wait --insecure "wss://127.0.0.1:$port/" 2>&1)
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
  # The server's console logger writes from its own thread: the line may land after the 403 reached curl.
  logged=no
  for _ in $(seq 1 100); do
    grep -q "403" "$WORK/origin.log" && { logged=yes; break; }
    sleep 0.05 # polling a log line written asynchronously; bounded by the loop
  done
  [[ $logged == yes ]] && ok "the refusal is logged with its reason" || fail "no log line for the 403"
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

# 6. Bad option values: exit 2 with one line naming the option and what it accepts; no stack trace, no help, and
#    nothing started (a negative --max-message used to start a server that closed every message with 1009).
bad_value() { # expected-line args...
  local expected="$1"; shift
  local err rc
  err=$(timeout 20 dotnet "$DLL" "$@" 2>&1 >/dev/null </dev/null); rc=$?
  [[ $rc -eq 2 && "$err" == "$expected" ]] && ok "$* -> exit 2, '$expected'" || fail "$* -> exit $rc, stderr: $(head -c 300 <<<"$err")"
}
bad_value "sockeye: --port: 70000 is not a port (0-65535)" serve --port 70000
bad_value "sockeye: --port: -1 is not a port (0-65535)" serve --port -1
bad_value "sockeye: --max-message: -5 is not a size in bytes (1 or more)" serve --port 0 --max-message -5
bad_value "sockeye: --max-frame: 0 is not a size in bytes (1 or more)" serve --port 0 --max-frame 0
bad_value "sockeye: --ping-interval: 1e300 is not a time in seconds (0-1000000)" serve --port 0 --ping-interval 1e300
bad_value "sockeye: --handshake-timeout: 0 is not a time in seconds (more than 0, at most 1000000)" serve --port 0 --handshake-timeout 0
bad_value "sockeye: --close-timeout: NaN is not a time in seconds (0-1000000)" serve --port 0 --close-timeout NaN
bad_value "sockeye: --max-send-buffer: -1 is not a size in bytes (1 or more)" serve --port 0 --max-send-buffer -1
bad_value "sockeye: --max-connections: 0 is not a number of connections (1 or more)" serve --port 0 --max-connections 0
bad_value "sockeye: --deflate-window-bits: 16 is not a window size in bits (8-15)" serve --port 0 --deflate-window-bits 16
bad_value "sockeye: --deflate-level: 12 is not a zlib level (0-9)" serve --port 0 --deflate-level 12
bad_value "sockeye: --max-message: 0 is not a size in bytes (1 or more)" connect --max-message 0 ws://127.0.0.1:1/
bad_value "sockeye: --ping-timeout: -3 is not a time in seconds (more than 0, at most 1000000)" connect --ping-timeout -3 ws://127.0.0.1:1/
bad_value "sockeye: --connect-timeout: 0 is not a time in seconds (more than 0, at most 1000000)" connect --connect-timeout 0 ws://127.0.0.1:1/
bad_value "sockeye: --quiet-time: x is not a time in seconds (0-1000000)" connect --quiet-time x ws://127.0.0.1:1/
bad_value "sockeye: URL: unsupported scheme 'ftp' in ftp://127.0.0.1/ (use ws:// or wss://)" connect ftp://127.0.0.1/

# 7. A syntax error prints the error and one line pointing at the command's help, not the whole help.
err=$(timeout 20 dotnet "$DLL" serve --bogus 2>&1 >/dev/null); rc=$?
expected=$'sockeye: Unrecognized command or argument \'--bogus\'.\nsee \'sockeye serve --help\''
[[ $rc -eq 2 && "$err" == "$expected" ]] && ok "serve --bogus -> exit 2, the error and a pointer to 'sockeye serve --help'" || fail "serve --bogus -> exit $rc, $(wc -l <<<"$err") lines: $(head -c 300 <<<"$err")"
err=$(timeout 20 dotnet "$DLL" connect 2>&1 >/dev/null); rc=$?
[[ $rc -eq 2 && $(wc -l <<<"$err") -eq 2 && "$err" == *"see 'sockeye connect --help'" ]] && ok "connect without URL -> exit 2, two lines" || fail "connect without URL -> exit $rc: $(head -c 300 <<<"$err")"

# 8. sockeye connect against sockeye serve: host:port means ws://, --no-wait, --binary streams stdin as one message.
port=$(free_port)
dotnet "$DLL" serve --port "$port" --max-message 8000000 >"$WORK/echo.log" 2>&1 &
pid=$!; PIDS+=("$pid")
if wait_port "$port" "$pid"; then
  out=$(printf 'no scheme\n' | timeout 20 dotnet "$DLL" connect --no-wait "127.0.0.1:$port" 2>&1); rc=$?
  [[ $rc -eq 0 && "$out" == "no scheme" ]] && ok "connect 127.0.0.1:PORT assumes ws://" || fail "connect 127.0.0.1:PORT (rc $rc: $out)"
  out=$(printf 'path\n' | timeout 20 dotnet "$DLL" connect --no-wait "localhost:$port/some/path" 2>&1); rc=$?
  [[ $rc -eq 0 && "$out" == "path" ]] && ok "connect localhost:PORT/path assumes ws://" || fail "connect localhost:PORT/path (rc $rc: $out)"
  # Lines, including a 300 KB one, echoed before the close reply: --no-wait closes at EOF and prints all of them.
  big=$(head -c 300000 /dev/zero | tr '\0' 'x')
  printf 'one\ntwo\n%s\nthree\n' "$big" >"$WORK/lines.txt"
  timeout 20 dotnet "$DLL" connect --no-wait "ws://127.0.0.1:$port/" <"$WORK/lines.txt" >"$WORK/lines.out" 2>"$WORK/lines.err"; rc=$?
  cmp -s "$WORK/lines.txt" "$WORK/lines.out" && [[ $rc -eq 0 && ! -s "$WORK/lines.err" ]] && ok "--no-wait: every echo before the close reply is printed, exit 0, nothing on stderr" || fail "--no-wait echo (rc $rc, $(wc -c <"$WORK/lines.out") bytes, stderr: $(head -c 200 "$WORK/lines.err"))"
  for size in 1 65536 5000001; do
    head -c "$size" /dev/urandom >"$WORK/blob.bin"
    out=$(timeout 30 dotnet "$DLL" connect --binary --no-wait "ws://127.0.0.1:$port/" <"$WORK/blob.bin" 2>"$WORK/blob.err"); rc=$?
    [[ $rc -eq 0 && "$out" == "bin:$(base64 -w0 "$WORK/blob.bin")" ]] && ok "--binary: $size bytes of stdin go out as one binary message (echo printed as bin:base64)" || fail "--binary $size bytes (rc $rc, ${#out} chars, stderr: $(head -c 200 "$WORK/blob.err"))"
  done
else
  fail "serve did not start for the connect checks"
fi

# 9. connect after stdin EOF, close codes, timeouts (Python websockets servers).
while IFS= read -r line; do
  echo "$line"
  [[ "$line" == FAIL* ]] && failures=$((failures + 1))
done < <(/usr/bin/python3 "$ROOT/tests/cli/connect_checks.py" "$DLL" 2>&1)

# connect --topic: subscribe and publish through sockeye.v1 against serve --broadcast, then resume with --since.
port=$(free_port)
dotnet "$DLL" serve --port "$port" --broadcast --history 100 >"$WORK/topic.log" 2>&1 &
pid=$!; PIDS+=("$pid")
if wait_port "$port" "$pid"; then
  out=$(printf 'one\ntwo\n' | timeout 30 dotnet "$DLL" connect --topic room --quiet-time 1 "127.0.0.1:$port/" 2>"$WORK/topic1.err"); rc=$?
  pos=$(sed -n 's/.*resume with --since \([^)]*\)).*/\1/p' "$WORK/topic1.err")
  if [[ $rc == 0 && "$out" == $'one\ntwo' && -n "$pos" ]]; then ok "connect --topic: published lines come back in order; last position printed ($pos)"; else fail "connect --topic: rc=$rc out=[$out] err=[$(cat "$WORK/topic1.err")]"; fi
  printf 'three\nfour\n' | timeout 30 dotnet "$DLL" connect --topic room --no-wait "127.0.0.1:$port/" >/dev/null 2>&1
  out=$(timeout 30 dotnet "$DLL" connect --topic room --quiet-time 1 --since "$pos" "127.0.0.1:$port/" </dev/null 2>"$WORK/topic2.err"); rc=$?
  if [[ $rc == 0 && "$out" == $'three\nfour' ]]; then ok "connect --topic --since: exactly the messages published after the position"; else fail "connect --since: rc=$rc out=[$out] err=[$(cat "$WORK/topic2.err")]"; fi
  out=$(timeout 30 dotnet "$DLL" connect --topic room --quiet-time 1 --since "elsewhere:5" "127.0.0.1:$port/" </dev/null 2>&1 >/dev/null); rc=$?
  if [[ $rc == 0 && "$out" == *"could not resume 'room'"* ]]; then ok "connect --since from another epoch says it could not resume"; else fail "connect --since other epoch: rc=$rc err=[$out]"; fi
else
  fail "serve --broadcast did not start: $(cat "$WORK/topic.log")"
fi

# serve --metrics: the Sockeye meters in Prometheus text format on a port of their own.
port=$(free_port); mport=$(free_port)
dotnet "$DLL" serve --port "$port" --metrics "127.0.0.1:$mport" >"$WORK/metrics.log" 2>&1 &
pid=$!; PIDS+=("$pid")
if wait_port "$port" "$pid" && wait_port "$mport" "$pid"; then
  out=$(printf 'hello\n' | timeout 20 dotnet "$DLL" connect --no-wait "ws://127.0.0.1:$port/" 2>&1)
  [[ "$out" == "hello" ]] || fail "echo before the metrics scrape (got: $out)"
  # The server counts the close once it has released the connection, just after the client saw the close reply:
  # scrape until it shows (bounded), then check the rest of the page.
  page=""
  for _ in $(seq 1 100); do
    page=$(curl -s --max-time 5 "http://127.0.0.1:$mport/metrics")
    [[ "$page" == *'sockeye_server_closes_total{'*'sockeye_close_code="1000"} 1'* ]] && break
    sleep 0.05 # polling a counter the server updates asynchronously; bounded by the loop
  done
  if [[ "$page" == *"sockeye_server_active_connections{"*"} 0"* && "$page" == *'sockeye_handshake_outcome="accepted"} 1'* \
     && "$page" == *'sockeye_close_code="1000"} 1'* && "$page" == *"sockeye_connection_received_messages_total{"*"} 1"* \
     && "$page" == *"sockeye_connection_received_bytes_total{"*"} 5"* && "$page" == *"sockeye_connection_sent_messages_total{"*"} 1"* ]]; then
    ok "serve --metrics: Prometheus page counts the connection, handshake, message, bytes and close 1000"
  else
    fail "serve --metrics page: $page"
  fi
else
  fail "serve --metrics did not start: $(cat "$WORK/metrics.log")"
fi
out=$(timeout 20 dotnet "$DLL" serve --port 0 --metrics nope 2>&1); rc=$?
[[ $rc -eq 2 && "$out" == *"--metrics"* ]] && ok "serve --metrics with a bad value: exit 2 naming the option" || fail "serve --metrics nope (rc $rc: $out)"

echo "cli checks: $failures failed"
exit $((failures > 0))
