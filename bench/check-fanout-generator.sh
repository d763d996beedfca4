#!/usr/bin/env bash
# Checks the fan-out load generator (`sockeye bench --fanout`) against bench/fanout/fake-broadcast.js, a broadcast
# server that misbehaves on purpose: a correct broadcast must count without errors (saturated and at a fixed rate, and
# with a subscriber that starts receiving late, which the readiness probes must wait for); a lost, repeated or
# binary message and a closed subscriber must be reported. It also checks that the generator answers keepalive pings:
# Engine.IO's against bench/fanout/socketio-room.js and WebSocket pings against `sockeye serve --broadcast`, both
# pinging every 0.2 s, so a client that does not answer is cut during the run. Cases run concurrently (~15 s,
# mostly .NET start-up); run by bench/run.sh with --smoke and with scenarios h or i.
#
#   bench/check-fanout-generator.sh [path/to/sockeye.dll]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DLL="${1:-${BENCH_CLIENT_DLL:-${SOCKEYE_DLL:-$ROOT/src/Sockeye.Cli/bin/Release/net10.0/sockeye.dll}}}"
[[ -f "$DLL" ]] || { echo "load generator not found: $DLL"; exit 2; }
PORT="${BENCH_FAKE_PORT:-18781}"
# One fake server per case: a broadcast server sends to every client it has, so cases must not share one.
CASES=(saturate:good rate:good late:late drop:drop duplicate:duplicate binary:binary close:close spread:good)
WORK="$(mktemp -d)"
SERVERS=()
failures=0

cleanup() { local p; for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT

declare -A SERVER_PORT=()
start() { # name port command...
  local name="$1" port="$2"
  shift 2
  SERVER_PORT[$name]=$port
  "$@" >"$WORK/server-$name.log" 2>&1 &
  SERVERS+=($!)
}
for i in "${!CASES[@]}"; do
  start "${CASES[$i]%%:*}" $((PORT + i)) node "$ROOT/bench/fanout/fake-broadcast.js" --port $((PORT + i)) --mode "${CASES[$i]#*:}"
done
start socketio $((PORT + 10)) node "$ROOT/bench/fanout/socketio-room.js" --port $((PORT + 10)) --ping-interval 200 --ping-timeout 300
start sockeye $((PORT + 11)) dotnet "$DLL" serve --broadcast --port $((PORT + 11)) --log-level Warning --ping-interval 0.2 --ping-timeout 0.3
for name in "${!SERVER_PORT[@]}"; do
  for ((t = 0; t < 300; t++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/${SERVER_PORT[$name]}") 2>/dev/null && break
    sleep 0.05 # polling for the listening port; bounded by the loop
  done
  ((t < 300)) || { echo "server $name did not start:"; cat "$WORK/server-$name.log"; exit 2; }
done

field() { node -e 'const r=JSON.parse(process.argv[1]||"null"); const v=r&&r[process.argv[2]]; console.log(v===undefined||v===null?"":v)' "$1" "$2"; }

CASE_PIDS=()
run_case() { # id args...: the load generator against the server of the same name
  local id="$1" server="$1"
  shift
  dotnet "$DLL" bench "ws://127.0.0.1:${SERVER_PORT[$server]}/t" --fanout --json "$@" >"$WORK/$id.json" 2>"$WORK/$id.err" &
  CASE_PIDS+=($!)
}

expect_ok() { # id name check-expression-on-r
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

LOAD=(--subscribers 5 --window 4 --duration 1 --warmup 0)
run_case saturate "${LOAD[@]}"
run_case rate --subscribers 5 --rate 200 --duration 1 --warmup 0
run_case late "${LOAD[@]}"
run_case drop "${LOAD[@]}"
run_case duplicate "${LOAD[@]}"
run_case binary "${LOAD[@]}"
run_case close "${LOAD[@]}"
run_case socketio --protocol socketio --subscribers 5 --rate 100 --duration 2 --warmup 0
run_case sockeye --subscribers 5 --rate 100 --duration 2 --warmup 0
# Subscribers over two URLs (--subscriber-urls, scenario j's nodes; here one server that broadcasts to every client) and
# CPU summed over two processes (--server-pids; the same one twice, so its figure must be there).
SPREAD_PID="${SERVERS[7]}"
run_case spread "${LOAD[@]}" --subscriber-urls "ws://127.0.0.1:${SERVER_PORT[spread]}/a,ws://127.0.0.1:${SERVER_PORT[spread]}/b" \
  --server-pid "$SPREAD_PID" --server-pids "$SPREAD_PID"
for pid in "${CASE_PIDS[@]}"; do wait "$pid"; done

expect_ok saturate 'a correct broadcast, saturated, counts every delivery' 'r.deliveries > 0 && r.latency_samples > 0'
expect_ok rate 'a correct broadcast at a fixed rate' 'r.deliveries > 0 && r.latency_samples > 100'
expect_ok late 'a subscriber that starts receiving late: probes until every subscriber gets one' 'r.probes >= 2 && r.deliveries > 0'
expect_error drop 'a lost message is reported' 'lost, repeated or out of order'
expect_error duplicate 'a repeated message is reported' 'lost, repeated or out of order'
expect_error binary 'a binary frame instead of the text sent is reported' 'opcode 2'
expect_error close 'a subscriber closed by the server is reported' 'close frame (1011'
expect_ok socketio 'Engine.IO pings every 0.2 s are answered (Socket.IO keeps the connections)' 'r.deliveries > 0'
expect_ok sockeye 'WebSocket pings every 0.2 s are answered (serve --broadcast keeps the connections)' 'r.deliveries > 0'
expect_ok spread 'subscribers spread over --subscriber-urls, CPU over --server-pids' \
  'r.deliveries > 0 && r.nodes === 2 && r.server_processes === 2 && r.server_cpu_s !== null'

if ((failures)); then
  echo "check-fanout-generator: $failures failure(s)"
  exit 1
fi
echo "check-fanout-generator: all cases passed"
