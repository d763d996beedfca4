# Sourced by tests/package/{tool,native}.sh. Runs an installed `sockeye` command as a user would: --version,
# `serve --port 0` until it logs where it listens, the demo page over HTTP, an echo (plain and with
# permessage-deflate, which calls the machine's zlib) through its own `connect`, and SIGTERM to a clean exit.
# Needs: ok/fail functions, WORK (a scratch directory) and curl.

# smoke_sockeye LABEL EXPECTED_VERSION CMD... : CMD is the command that runs sockeye (e.g. /path/sockeye).
smoke_sockeye() {
  local label="$1" version="$2"; shift 2
  local log="$WORK/$label.serve.log" out port="" pid rc i

  out=$("$@" --version 2>&1); rc=$?
  if [[ $rc -eq 0 && "$out" == "$version"* ]]; then ok "$label: sockeye --version prints $out"
  else fail "$label: sockeye --version (exit $rc): $out"; fi

  "$@" serve --port 0 </dev/null >"$log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  # The log line "listening on http://127.0.0.1:PORT" is written once the socket is bound; poll the log for it
  # (bounded: 600 x 0.05 s), giving up early if the server exits.
  for ((i = 0; i < 600; i++)); do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$log" | head -1)
    [[ -n "$port" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05 # waiting for a line that is not written yet
  done
  if [[ -z "$port" ]]; then
    fail "$label: sockeye serve --port 0 never logged 'listening on': $(tail -5 "$log")"
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return
  fi
  ok "$label: sockeye serve --port 0 is listening on port $port"

  out=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/")
  [[ "$out" == 200 ]] && ok "$label: the demo page is served (HTTP 200)" || fail "$label: GET / answered '$out'"

  out=$(printf 'hello from %s\n' "$label" | timeout 30 "$@" connect "ws://127.0.0.1:$port/echo" 2>&1)
  [[ "$out" == "hello from $label" ]] && ok "$label: echo through sockeye connect" || fail "$label: echo (got: $out)"

  # Longer than the 32-byte compression threshold, so it really goes through zlib both ways.
  local text="compressed by $label: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
  out=$(printf '%s\n' "$text" | timeout 30 "$@" connect --deflate --log-level Debug "ws://127.0.0.1:$port/echo" 2>"$WORK/$label.connect.err")
  if [[ "$out" == "$text" ]] && grep -q 'extensions: permessage-deflate' "$WORK/$label.connect.err"; then
    ok "$label: echo with permessage-deflate negotiated"
  else
    fail "$label: deflate echo (got: $out; stderr: $(head -3 "$WORK/$label.connect.err"))"
  fi

  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  [[ $rc -eq 0 ]] && ok "$label: SIGTERM stops it with exit 0" || fail "$label: exit $rc after SIGTERM: $(tail -3 "$log")"
}
