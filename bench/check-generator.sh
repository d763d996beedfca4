#!/usr/bin/env bash
# Checks the load generator's permessage-deflate handling against bench/deflate-fake-echo.js, a small
# server that answers and echoes in ways RFC 7692 allows or forbids: the generator must accept
# compressed, uncompressed and fragmented compressed echoes, and must report an invalid or missing
# answer, a corrupt echo and RSV1 on a continuation frame. The cases run concurrently (~10 s on 2
# idle cores, mostly .NET start-up); run by bench/run.sh --smoke and with scenarios f or g.
#
#   bench/check-generator.sh [path/to/sockeye.dll]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DLL="${1:-${BENCH_CLIENT_DLL:-${SOCKEYE_DLL:-$ROOT/src/Sockeye.Cli/bin/Release/net10.0/sockeye.dll}}}"
[[ -f "$DLL" ]] || { echo "load generator not found: $DLL"; exit 2; }
PORT="${BENCH_FAKE_PORT:-18761}"
MODES=(good decline unknown-param client-bits corrupt rsv1-cont)
WORK="$(mktemp -d)"
SERVERS=()
failures=0

cleanup() { local p; for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT

# One fake server per mode, each on its own port, all started at once.
declare -A MODE_PORT=()
for i in "${!MODES[@]}"; do
  MODE_PORT[${MODES[$i]}]=$((PORT + i))
  node "$ROOT/bench/deflate-fake-echo.js" --port "$((PORT + i))" --mode "${MODES[$i]}" >/dev/null 2>&1 &
  SERVERS+=($!)
done
for i in "${!MODES[@]}"; do
  for ((t = 0; t < 100; t++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$((PORT + i))") 2>/dev/null && break
    kill -0 "${SERVERS[$i]}" 2>/dev/null || t=100
    sleep 0.05 # polling for the listening port; bounded by the loop
  done
  ((t < 100)) || { echo "fake server (${MODES[$i]}) did not start"; exit 2; }
done

# field JSON NAME: prints one field of the generator's report
field() { node -e 'const r=JSON.parse(process.argv[1]||"null"); const v=r&&r[process.argv[2]]; console.log(v===undefined||v===null?"":v)' "$1" "$2"; }

# Cases run concurrently (each is mostly .NET start-up); results are judged afterwards, in order.
CASE_PIDS=()
# run_case ID MODE ARGS...: starts the load generator against the fake server in MODE
run_case() {
  local id="$1" mode="$2"
  shift 2
  dotnet "$DLL" bench "ws://127.0.0.1:${MODE_PORT[$mode]}/" --json "$@" >"$WORK/$id.json" 2>/dev/null &
  CASE_PIDS+=($!)
}

expect_ok() { # id name [check-expression on r]
  local json name="$2" check="${3:-true}"
  json="$(cat "$WORK/$1.json")"
  if [[ "$(field "$json" errors)" == 0 ]] && node -e "const r=JSON.parse(process.argv[1]); process.exit(($check) ? 0 : 1)" "$json" 2>/dev/null; then
    printf 'ok   %s\n' "$name"
  else
    printf 'FAIL %s: %s\n' "$name" "$json"; failures=$((failures + 1))
  fi
}

expect_error() { # id name substring
  local json name="$2" want="$3" first
  json="$(cat "$WORK/$1.json")"
  first="$(field "$json" first_error)"
  if [[ "$(field "$json" errors)" != 0 && "$first" == *"$want"* ]]; then
    printf 'ok   %s (%s)\n' "$name" "$first"
  else
    printf 'FAIL %s: wanted an error containing "%s", got: %s\n' "$name" "$want" "$json"; failures=$((failures + 1))
  fi
}

LOAD=(--connections 2 --window 4 --size 200 --payload json --duration 0.3 --warmup 0)

run_case mixed good "${LOAD[@]}" --deflate --verify-every 1
run_case no-client-bits good "${LOAD[@]}" --deflate-offer client_no_context_takeover
run_case server-bits good "${LOAD[@]}" --deflate-offer 'server_max_window_bits=10'
run_case idle good --idle 20 --idle-echo --size 1024 --payload json --deflate --duration 0.2
run_case plain good "${LOAD[@]}"
run_case decline decline "${LOAD[@]}" --deflate
run_case unknown unknown-param "${LOAD[@]}" --deflate
run_case client-bits client-bits "${LOAD[@]}" --deflate-offer client_no_context_takeover
run_case corrupt corrupt "${LOAD[@]}" --deflate --verify-every 1
run_case rsv1-cont rsv1-cont "${LOAD[@]}" --deflate
for pid in "${CASE_PIDS[@]}"; do wait "$pid"; done

expect_ok mixed "compressed, uncompressed and fragmented echoes are accepted and checked" \
  'r.compressed_pct > 20 && r.compressed_pct < 80 && r.verified_replies > 0 && /client_max_window_bits=15/.test(r.extensions)'
expect_ok no-client-bits "an offer without client_max_window_bits is answered without it" 'r.extensions === "permessage-deflate"'
expect_error server-bits "an offered server_max_window_bits must be answered" "server_max_window_bits was offered but not answered"
expect_ok idle "--idle-echo: one 1 KiB compressed JSON message per connection, then idle" 'r.echoes === 20 && r.connected === 20'
expect_ok plain "without --deflate nothing is offered and nothing compressed" 'r.compressed_replies === 0 && r.extensions === null'
expect_error decline "a server that declines fails the connection" "declined"
expect_error unknown "an unknown parameter in the answer fails the connection" "unknown parameter foo"
expect_error client-bits "client_max_window_bits answered but not offered fails the connection" "client_max_window_bits answered but not offered"
expect_error corrupt "a compressed echo with different contents is reported" "differs"
expect_error rsv1-cont "RSV1 on a continuation frame is reported" "continuation"

if ((failures)); then echo "check-generator: $failures failure(s)"; exit 1; fi
echo "check-generator: all passed"
