#!/usr/bin/env bash
# Checks the load generator's permessage-deflate handling against bench/deflate-fake-echo.js, a small
# server that answers and echoes in ways RFC 7692 allows or forbids: the generator must accept
# compressed, uncompressed and fragmented compressed echoes, and must report an invalid or missing
# answer, a corrupt echo and RSV1 on a continuation frame. A few seconds; run by bench/run.sh --smoke.
#
#   bench/check-generator.sh [path/to/sockeye.dll]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DLL="${1:-${BENCH_CLIENT_DLL:-${SOCKEYE_DLL:-$ROOT/src/Sockeye.Cli/bin/Release/net10.0/sockeye.dll}}}"
[[ -f "$DLL" ]] || { echo "load generator not found: $DLL"; exit 2; }
PORT="${BENCH_FAKE_PORT:-18761}"
failures=0
SERVER=

stop() { [[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; SERVER=; }
trap stop EXIT

start() { # mode
  stop
  node "$ROOT/bench/deflate-fake-echo.js" --port "$PORT" --mode "$1" >/dev/null 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.05 # polling for the listening port; bounded by the loop
  done
  echo "fake server ($1) did not start"; exit 2
}

# field JSON NAME: prints one field of the generator's report
field() { node -e 'const r=JSON.parse(process.argv[1]||"null"); const v=r&&r[process.argv[2]]; console.log(v===undefined||v===null?"":v)' "$1" "$2"; }

bench() { dotnet "$DLL" bench "ws://127.0.0.1:$PORT/" --json "$@" 2>/dev/null; }

expect_ok() { # name json [check-expression on r]
  local name="$1" json="$2" check="${3:-true}"
  if [[ "$(field "$json" errors)" == 0 ]] && node -e "const r=JSON.parse(process.argv[1]); process.exit(($check) ? 0 : 1)" "$json" 2>/dev/null; then
    printf 'ok   %s\n' "$name"
  else
    printf 'FAIL %s: %s\n' "$name" "$json"; failures=$((failures + 1))
  fi
}

expect_error() { # name json substring
  local name="$1" json="$2" want="$3" first
  first="$(field "$json" first_error)"
  if [[ "$(field "$json" errors)" != 0 && "$first" == *"$want"* ]]; then
    printf 'ok   %s (%s)\n' "$name" "$first"
  else
    printf 'FAIL %s: wanted an error containing "%s", got: %s\n' "$name" "$want" "$json"; failures=$((failures + 1))
  fi
}

LOAD=(--connections 2 --window 4 --size 200 --payload json --duration 0.5 --warmup 0)

start good
expect_ok "compressed, uncompressed and fragmented echoes are accepted and checked" \
  "$(bench "${LOAD[@]}" --deflate --verify-every 1)" \
  'r.compressed_pct > 20 && r.compressed_pct < 80 && r.verified_replies > 0 && /client_max_window_bits=15/.test(r.extensions)'
expect_ok "an offer without client_max_window_bits is answered without it" \
  "$(bench "${LOAD[@]}" --deflate-offer client_no_context_takeover)" 'r.extensions === "permessage-deflate"'
expect_error "an offered server_max_window_bits must be answered" \
  "$(bench "${LOAD[@]}" --deflate-offer 'server_max_window_bits=10')" "server_max_window_bits was offered but not answered"
expect_ok "--idle-echo: one 1 KiB compressed JSON message per connection, then idle" \
  "$(bench --idle 20 --idle-echo --size 1024 --payload json --deflate --duration 0.2)" 'r.echoes === 20 && r.connected === 20'
expect_ok "without --deflate nothing is offered and nothing compressed" \
  "$(bench "${LOAD[@]}")" 'r.compressed_replies === 0 && r.extensions === null'

start decline
expect_error "a server that declines fails the connection" "$(bench "${LOAD[@]}" --deflate)" "declined"

start unknown-param
expect_error "an unknown parameter in the answer fails the connection" "$(bench "${LOAD[@]}" --deflate)" "unknown parameter foo"

start client-bits
expect_error "client_max_window_bits answered but not offered fails the connection" \
  "$(bench "${LOAD[@]}" --deflate-offer client_no_context_takeover)" "client_max_window_bits answered but not offered"

start corrupt
expect_error "a compressed echo with different contents is reported" "$(bench "${LOAD[@]}" --deflate --verify-every 1)" "differs"

start rsv1-cont
expect_error "RSV1 on a continuation frame is reported" "$(bench "${LOAD[@]}" --deflate)" "continuation"

stop
if ((failures)); then echo "check-generator: $failures failure(s)"; exit 1; fi
echo "check-generator: all passed"
