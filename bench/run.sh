#!/usr/bin/env bash
# Sockeye performance harness: echo servers pinned to CPU 0, the load generator (`sockeye bench`)
# pinned to CPU 1, scenarios run alternately across servers and repeated; medians and ratios are
# printed and written to artifacts/bench/results.json. See bench/README.md for the method.
#
#   bench/run.sh                       # full run, 3 repetitions (several minutes)
#   bench/run.sh --smoke               # every scenario once, ~1 s each, few connections (CI)
#   bench/run.sh --repeat 5 --duration 10 --scenarios a,b --servers sockeye,kestrel
#   bench/run.sh --no-build            # use what is already built
#   bench/run.sh --scenarios f,g --g-connections 2000
#   bench/run.sh --scenarios h,i --servers sockeye,ws,socketio     # only the fan-out comparison
#   bench/run.sh --priority ...        # on a shared, busy machine: own session at autogroup nice -20 (root)
#
# Scenarios: a) 50 conns x 64 B, window 16 (msgs/s)    b) 4 conns x 64 KiB, window 4 (MB/s)
#            c) 1 conn x 16 B, window 1 (p50 latency)   d) 10,000 idle conns (server KiB per conn)
#            e) 100,000 idle conns from several loopback source addresses (errors, KiB per conn)
#            f) compressed echo: 50 conns x 64 B JSON text, window 16, permessage-deflate (msgs/s, bytes/msg)
#            g) 1,000 idle conns after one 1 KiB compressed JSON echo each (server KiB per conn)
#            h) fan-out: 1 publisher to 1,000 subscribers, 64 B text (deliveries/s saturated, server cpu-s per
#               million deliveries, Sockeye's allocated bytes per delivery; p50/p99 publish-to-last-delivery at a
#               fixed rate)    i) the same with 10,000 subscribers
#            j) scale-out: three nodes on one redis-server, 1 publisher on the first, 1,000 subscribers spread across the
#               three; Sockeye (`serve --broadcast --history 1000 --redis`) and Socket.IO (@socket.io/redis-adapter), each
#               also as one node without Redis (deliveries/s; added p50/p99 publish-to-last-delivery latency)
# Servers:   sockeye (`sockeye serve`), kestrel (bench/KestrelEcho), aspnet (bench/KestrelSockeyeEcho: the same
#            Kestrel host with Sockeye's MapSockeye instead of ASP.NET Core's WebSockets; a-c and f), raw (bench/RawEcho), node (bench/node-echo.js);
#            f and g run sockeye with --deflate-threshold 0, kestrel with --deflate, node with --deflate (no raw);
#            h and i run sockeye as `serve --broadcast`, ws (bench/fanout/ws-broadcast.js) and socketio
#            (bench/fanout/socketio-room.js); j runs sockeye and socketio as one node and as sockeye-redis and
#            socketio-redis (three nodes and a redis-server on BENCH_PORT_BASE+6..+12)
#
# Environment: SOCKEYE_DLL  sockeye.dll to serve and to load with (default: the Release build;
#                           when set and present, the CLI is not rebuilt)
#              BENCH_CLIENT_DLL  dll whose `bench` command generates the load (default: SOCKEYE_DLL)
#              BENCH_PORT_BASE   first of 14 ports (default 18741); bench/check-generator.sh's fake
#                                servers use BENCH_PORT_BASE+20 and up, check-fanout-generator.sh's +40 and up
#
# Exit status: non-zero when a build fails, a server or the load generator crashed, or
# bench/check-generator.sh failed (it runs with --smoke and with f or g) or bench/check-fanout-generator.sh
# (with --smoke and with h, i or j); with --smoke also when any run reported errors or Sockeye's fan-out runs
# lack the allocation figure. Timings are never asserted.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
OUT="$ROOT/artifacts/bench"
cd "$ROOT"

ARGS=("$@")
SMOKE=0 BUILD=1 PRIORITY=0 REPEAT=3 DURATION=5 WARMUP=2 G_IDLE_WANT= LAT_DURATION=10
SCENARIOS=a,b,c,d,e,f,g,h,i,j
SERVERS=sockeye,kestrel,aspnet,raw,node,ws,socketio
while (($#)); do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --no-build) BUILD=0 ;;
    --priority) PRIORITY=1 ;;
    --repeat) REPEAT="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --scenarios) SCENARIOS="$2"; shift ;;
    --servers) SERVERS="$2"; shift ;;
    --g-connections) G_IDLE_WANT="$2"; shift ;;
    --latency-duration) LAT_DURATION="$2"; shift ;;
    -h | --help) sed -n '2,40p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

# Scenario sizes; smoke keeps the shapes but shrinks counts and times so the whole run is < 1 min.
A_CONNS=50 A_WINDOW=16 B_CONNS=4 B_WINDOW=4 D_IDLE=10000 D_HOLD=3 E_IDLE=100000 E_HOLD=3
F_CONNS=50 F_WINDOW=16 G_IDLE=1000 G_HOLD=3
# Fan-out (h, i): subscribers; messages in flight when saturating; messages/s for the latency runs (20,000
# deliveries/s, well below every server's capacity); 64 B text messages.
H_SUBS=1000 I_SUBS=10000 FANOUT_WINDOW=16 H_RATE=20 I_RATE=2 FANOUT_SIZE=64
# Scale-out (j): subscribers spread over three nodes; latency runs at 20 msg/s; history kept for resume on any node.
J_SUBS=1000 J_RATE=20 J_HISTORY=1000
if ((SMOKE)); then
  REPEAT=1 DURATION=1 WARMUP=0.3 LAT_DURATION=1
  A_CONNS=4 A_WINDOW=4 B_CONNS=2 B_WINDOW=2 D_IDLE=200 D_HOLD=0.5 E_IDLE=1000 E_HOLD=0.5
  F_CONNS=4 F_WINDOW=4 G_IDLE=50 G_HOLD=0.5
  H_SUBS=20 I_SUBS=50 FANOUT_WINDOW=4 H_RATE=20 I_RATE=20 J_SUBS=30 J_RATE=20
fi
G_IDLE="${G_IDLE_WANT:-$G_IDLE}"

# Compressed scenarios (f, g): what the load generator offers. client_no_context_takeover lets it
# send prebuilt compressed frames; the servers keep their own context takeover (their default).
DEFLATE_OFFER="client_no_context_takeover; client_max_window_bits"
# Sockeye's default threshold (32 B) would still compress 64 B messages; 0 makes "every message
# compressed" explicit, as for Node (threshold 0) and Kestrel (which has no threshold).
SOCKEYE_DEFLATE_ARGS=(--deflate-threshold 0)

SOCKEYE_DLL_GIVEN="${SOCKEYE_DLL:-}"
SOCKEYE_DLL="${SOCKEYE_DLL:-$ROOT/src/Sockeye.Cli/bin/Release/net10.0/sockeye.dll}"
BENCH_CLIENT_DLL="${BENCH_CLIENT_DLL:-$SOCKEYE_DLL}"
KESTREL_DLL="$BENCH/KestrelEcho/bin/Release/net10.0/KestrelEcho.dll"
ASPNET_DLL="$BENCH/KestrelSockeyeEcho/bin/Release/net10.0/KestrelSockeyeEcho.dll"
RAW_DLL="$BENCH/RawEcho/bin/Release/net10.0/RawEcho.dll"
PORT_BASE="${BENCH_PORT_BASE:-18741}"
declare -A PORT=([sockeye]=$PORT_BASE [kestrel]=$((PORT_BASE + 1)) [raw]=$((PORT_BASE + 2)) [node]=$((PORT_BASE + 3))
  [ws]=$((PORT_BASE + 4)) [socketio]=$((PORT_BASE + 5))
  [sockeye-redis-1]=$((PORT_BASE + 6)) [sockeye-redis-2]=$((PORT_BASE + 7)) [sockeye-redis-3]=$((PORT_BASE + 8))
  [socketio-redis-1]=$((PORT_BASE + 9)) [socketio-redis-2]=$((PORT_BASE + 10)) [socketio-redis-3]=$((PORT_BASE + 11))
  [redis]=$((PORT_BASE + 12)) [aspnet]=$((PORT_BASE + 13)))
REDIS_DIR="$OUT/redis"
declare -A PID=()
SERVER_MODE=plain # plain for a-e; deflate for f and g (servers restarted with compression on); fanout for h and i
# serve --broadcast rewrites this file with its allocated bytes and delivery count (src/Sockeye.Cli/AllocationReport.cs)
ALLOC_FILE="$OUT/logs/sockeye-allocations.txt"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

mkdir -p "$OUT/logs"
RUNS="$OUT/runs.jsonl"
: >"$RUNS"
CRASHES=0

log() { printf '[bench] %s\n' "$*" >&2; }
has() { [[ ",$2," == *",$1,"* ]]; }

# --priority: with autogroups (the default on desktop and many server kernels) the scheduler shares a CPU between
# sessions first, so on a machine busy with other sessions' builds a pinned server gets a fraction of its core, and
# plain `nice` cannot help. Running in a session of its own whose autogroup is at nice -20 gives the benchmark its
# cores while it runs (needs root or CAP_SYS_NICE). Other work on the machine slows down meanwhile.
if ((PRIORITY)); then
  if [[ -z "${BENCH_OWN_SESSION:-}" ]] && command -v setsid >/dev/null; then
    exec env BENCH_OWN_SESSION=1 setsid -w "$0" "${ARGS[@]}"
  fi
  if echo -20 2>/dev/null >/proc/self/autogroup; then
    log "priority: $(cat /proc/self/autogroup)"
  else
    renice -n -20 -p $$ >/dev/null 2>&1 && log "priority: no autogroup; process nice -20" || log "priority: cannot raise it (needs root)"
  fi
fi

# Pinning: servers on CPU 0, load generator on CPU 1, so neither steals the other's core.
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
  PIN_SERVER=(taskset -c 0) PIN_CLIENT=(taskset -c 1) PINNED=true
else
  log "taskset or a second CPU missing: running unpinned (numbers are less comparable)"
  PIN_SERVER=() PIN_CLIENT=() PINNED=false
fi

# Idle scenarios need one descriptor per connection in both server and client.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FD_LIMIT="$(ulimit -n)"

# ---------------------------------------------------------------------------------------------
# build

if ((BUILD)); then
  if has sockeye "$SERVERS" || [[ "$BENCH_CLIENT_DLL" == "$SOCKEYE_DLL" ]]; then
    if [[ -n "$SOCKEYE_DLL_GIVEN" && -f "$SOCKEYE_DLL" ]]; then
      log "using $SOCKEYE_DLL as is"
    else
      log "building src/Sockeye.Cli (Release)"
      dotnet build src/Sockeye.Cli/Sockeye.Cli.csproj -c Release -nologo -v quiet >"$OUT/logs/build-sockeye.log" 2>&1 ||
        { cat "$OUT/logs/build-sockeye.log"; exit 1; }
    fi
  fi
  log "building bench/KestrelEcho and bench/RawEcho (Release)"
  dotnet build "$BENCH/Bench.slnx" -c Release -nologo -v quiet >"$OUT/logs/build-bench.log" 2>&1 ||
    { cat "$OUT/logs/build-bench.log"; exit 1; }
  if { has node "$SERVERS" || has ws "$SERVERS" || has socketio "$SERVERS"; } &&
    [[ ! -d "$BENCH/node_modules/ws" || ! -d "$BENCH/node_modules/socket.io" || ! -d "$BENCH/node_modules/@socket.io/redis-adapter" ]]; then
    log "npm ci in bench/"
    (cd "$BENCH" && npm ci --no-audit --no-fund --loglevel=error) >"$OUT/logs/npm.log" 2>&1 || { cat "$OUT/logs/npm.log"; exit 1; }
  fi
fi
[[ -f "$BENCH_CLIENT_DLL" ]] || { log "load generator $BENCH_CLIENT_DLL not found"; exit 1; }

# ---------------------------------------------------------------------------------------------
# servers

server_cmd() {
  local deflate=()
  case "$SERVER_MODE:$1" in
    deflate:sockeye) deflate=("${SOCKEYE_DEFLATE_ARGS[@]}") ;;
    deflate:kestrel | deflate:node | deflate:aspnet) deflate=(--deflate) ;;
  esac
  case "$SERVER_MODE:$1" in
    fanout:sockeye) echo dotnet "$SOCKEYE_DLL" serve --broadcast --port "${PORT[sockeye]}" --log-level Warning; return ;;
    # j: one node with the history the Redis nodes keep, three nodes sharing topics / rooms on one redis-server.
    scaleout:sockeye) echo dotnet "$SOCKEYE_DLL" serve --broadcast --history "$J_HISTORY" --port "${PORT[sockeye]}" --log-level Warning; return ;;
    scaleout:sockeye-redis-*) echo dotnet "$SOCKEYE_DLL" serve --broadcast --history "$J_HISTORY" --redis "127.0.0.1:${PORT[redis]}" \
      --port "${PORT[$1]}" --log-level Warning; return ;;
    scaleout:socketio-redis-*) echo node "$BENCH/fanout/socketio-room.js" --port "${PORT[$1]}" --redis "127.0.0.1:${PORT[redis]}"; return ;;
    scaleout:redis) echo redis-server --port "${PORT[redis]}" --bind 127.0.0.1 --save "" --appendonly no --dir "$REDIS_DIR"; return ;;
  esac
  case "$1" in
    sockeye) echo dotnet "$SOCKEYE_DLL" serve --port "${PORT[sockeye]}" --max-message 16777216 --log-level Warning "${deflate[@]}" ;;
    kestrel) echo dotnet "$KESTREL_DLL" --port "${PORT[kestrel]}" "${deflate[@]}" ;;
    aspnet) echo dotnet "$ASPNET_DLL" --port "${PORT[aspnet]}" "${deflate[@]}" ;;
    raw) echo dotnet "$RAW_DLL" --port "${PORT[raw]}" ;;
    node) echo node "$BENCH/node-echo.js" --port "${PORT[node]}" "${deflate[@]}" ;;
    ws) echo node "$BENCH/fanout/ws-broadcast.js" --port "${PORT[ws]}" ;;
    socketio) echo node "$BENCH/fanout/socketio-room.js" --port "${PORT[socketio]}" ;;
  esac
}

start_server() {
  # A three-node cluster is its redis-server and its nodes, all on the server CPU.
  if [[ "$1" == sockeye-redis || "$1" == socketio-redis ]]; then
    if [[ -z "${PID[redis]:-}" ]] || ! kill -0 "${PID[redis]}" 2>/dev/null; then
      mkdir -p "$REDIS_DIR" && start_server redis || return 1
    fi
    local n
    for n in 1 2 3; do start_server "$1-$n" || return 1; done
    PID[$1]="${PID[$1-1]}"
    return 0
  fi
  local name="$1" port="${PORT[$1]}" i
  echo "[$(date +%T)] $(server_cmd "$name")" >>"$OUT/logs/$name.log"
  local env=()
  if [[ "$SERVER_MODE:$name" == fanout:sockeye ]]; then
    rm -f "$ALLOC_FILE"
    env=(env "SOCKEYE_REPORT_ALLOCATIONS=$ALLOC_FILE")
  fi
  # shellcheck disable=SC2046 # server_cmd prints a word list without spaces inside words
  "${env[@]}" "${PIN_SERVER[@]}" $(server_cmd "$name") >>"$OUT/logs/$name.log" 2>&1 &
  PID[$name]=$!
  for ((i = 0; i < 300; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "${PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  log "$name did not start listening on $port; its log:"
  tail -n 30 "$OUT/logs/$name.log" >&2
  CRASHES=$((CRASHES + 1))
  unset 'PID[$name]'
  return 1
}

stop_server() {
  if [[ "$1" == sockeye-redis || "$1" == socketio-redis ]]; then
    local n
    for n in 1 2 3; do stop_server "$1-$n"; done
    unset 'PID[$1]'
    return 0
  fi
  local name="$1" pid="${PID[$1]:-}"
  [[ -n "$pid" ]] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset 'PID[$name]'
}

stop_all() {
  local name
  for name in "${!PID[@]}"; do [[ "$name" == *-redis ]] || stop_server "$name"; done
  PID=()
}
trap stop_all EXIT

# ---------------------------------------------------------------------------------------------
# one load-generator run, recorded as a line of runs.jsonl

# run_one SCENARIO SERVER REP ARGS...
run_one() {
  local scenario="$1" server="$2" rep="$3" json rc alive=true
  shift 3
  if [[ -z "${PID[$server]:-}" ]] && ! start_server "$server"; then
    printf '{"scenario":"%s","server":"%s","rep":%s,"exit":null,"server_alive":false,"result":null}\n' \
      "$scenario" "$server" "$rep" >>"$RUNS"
    return 0
  fi
  local extra=()
  [[ "$server" == raw ]] && extra+=(--raw-baseline)
  if [[ "$SERVER_MODE" == fanout ]]; then
    [[ "$server" == socketio ]] && extra+=(--protocol socketio)
    [[ "$server" == sockeye ]] && extra+=(--server-alloc-file "$ALLOC_FILE")
  fi
  local url="ws://127.0.0.1:${PORT[$server]:-}/" pids=("${PID[$server]}") p
  if [[ "$SERVER_MODE" == scaleout ]]; then
    [[ "$server" == socketio* ]] && extra+=(--protocol socketio)
    if [[ "$server" == *-redis ]]; then
      # The publisher on node 1, subscribers round-robin on nodes 1-3; CPU summed over the nodes and redis-server.
      url="ws://127.0.0.1:${PORT[$server-1]}/"
      extra+=(--subscriber-urls "$url,ws://127.0.0.1:${PORT[$server-2]}/,ws://127.0.0.1:${PORT[$server-3]}/"
        --server-pids "${PID[$server-2]},${PID[$server-3]},${PID[redis]}")
      pids+=("${PID[$server-2]}" "${PID[$server-3]}" "${PID[redis]}")
    fi
  fi
  set +e
  json="$("${PIN_CLIENT[@]}" dotnet "$BENCH_CLIENT_DLL" bench "$url" "$@" "${extra[@]}" \
    --server-pid "${PID[$server]}" --json 2>>"$OUT/logs/client.log")"
  rc=$?
  set -e
  [[ "$json" == "{"*"}" ]] || json=null
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || alive=false; done
  if [[ "$alive" == false ]]; then
    alive=false
    CRASHES=$((CRASHES + 1))
    log "$server crashed during scenario $scenario; its log:"
    tail -n 30 "$OUT/logs/$server"*.log >&2
    stop_server "$server"
  fi
  if ((rc > 1)) || [[ "$json" == null ]]; then
    CRASHES=$((CRASHES + 1))
    log "load generator failed (exit $rc) on $server, scenario $scenario; see $OUT/logs/client.log"
  fi
  printf '{"scenario":"%s","server":"%s","rep":%s,"exit":%s,"server_alive":%s,"result":%s}\n' \
    "$scenario" "$server" "$rep" "$rc" "$alive" "$json" >>"$RUNS"
  log "$(printf '%s %-8s rep %s: %s' "$scenario" "$server" "$rep" "$(summary_of "$json")")"
}

summary_of() {
  node -e '
    const r = JSON.parse(process.argv[1]);
    if (!r) { console.log("no result"); process.exit(0); }
    const f = (x) => (x === null || x === undefined) ? "n/a" : Math.round(x).toLocaleString("en-US");
    if (r.mode === "fanout") {
      const alloc = r.server_alloc_bytes_per_delivery === null || r.server_alloc_bytes_per_delivery === undefined ? "" : `, ${r.server_alloc_bytes_per_delivery} B/delivery allocated`;
      console.log(`${f(r.connected)} subs, ${f(r.deliveries_per_s)} deliveries/s, server ${r.server_cpu_pct}% cpu, ${r.server_cpu_s_per_m_deliveries} cpu-s/M deliveries, ` +
        `last delivery p50 ${r.p50_us} us p99 ${r.p99_us} us (${r.latency_samples} msgs), client ${r.client_cpu_pct}% cpu${alloc}, errors ${r.errors}`);
      process.exit(0);
    }
    const z = r.deflate_offer ? (r.mode === "idle"
      ? `, ${f(r.compressed_echoes)}/${f(r.echoes)} echoes compressed`
      : `, ${r.tx_bytes_per_msg} B/msg out, ${r.rx_bytes_per_msg} B/msg back, ${r.compressed_pct}% compressed`) : "";
    console.log((r.mode === "idle"
      ? `${f(r.connected)}/${f(r.connections)} connected, ${r.kb_per_conn} KiB/conn, errors ${r.errors}`
      : `${f(r.msgs_per_s)} msg/s, ${r.mb_per_s} MB/s, p50 ${r.p50_us} us, p99 ${r.p99_us} us, errors ${r.errors}`) + z);' "$1"
}

servers_for() {
  local wanted="$1" s out=()
  for s in ${wanted//,/ }; do has "$s" "$SERVERS" && out+=("$s"); done
  echo "${out[@]}"
}

load_args() {
  case "$1" in
    a) echo --connections "$A_CONNS" --size 64 --window "$A_WINDOW" --binary ;;
    b) echo --connections "$B_CONNS" --size 65536 --window "$B_WINDOW" --binary ;;
    c) echo --connections 1 --size 16 --window 1 --binary ;;
    f) echo --connections "$F_CONNS" --size 64 --window "$F_WINDOW" --payload json ;;
  esac
}

# Loopback source addresses: each gives ~28k ephemeral ports towards one server port.
source_ips() {
  local n=$(($1 / 20000 + 2)) i ips=()
  for ((i = 2; i < n + 2; i++)); do ips+=("127.0.0.$i"); done
  local IFS=,
  echo "${ips[*]}"
}

# ---------------------------------------------------------------------------------------------
# scenarios

log "servers: $SERVERS; scenarios: $SCENARIOS; repeat $REPEAT; ${DURATION}s + ${WARMUP}s warm-up per run; pinned: $PINNED; ulimit -n $FD_LIMIT"

# a-c: servers stay up (and warm) across repetitions; runs alternate between servers.
for scenario in a b c; do
  has "$scenario" "$SCENARIOS" || continue
  for ((rep = 1; rep <= REPEAT; rep++)); do
    for server in $(servers_for sockeye,kestrel,aspnet,raw,node); do
      # shellcheck disable=SC2046
      run_one "$scenario" "$server" "$rep" $(load_args "$scenario") --duration "$DURATION" --warmup "$WARMUP"
    done
  done
done

# Idle connections that fit the descriptor limit (server and client each need one per connection).
idle_count() {
  local want="$1" fit=$((FD_LIMIT - 512))
  if ((fit < want)); then
    log "scenario $2 limited to $((fit > 0 ? fit : 0)) connections by ulimit -n $FD_LIMIT (raise the hard limit for $want)"
    echo $((fit > 0 ? fit : 0))
  else
    echo "$want"
  fi
}

# d: each measurement on a freshly started server, so earlier load does not colour its heap.
if has d "$SCENARIOS"; then
  D_COUNT="$(idle_count "$D_IDLE" d)"
  for ((rep = 1; rep <= REPEAT && D_COUNT >= 10; rep++)); do
    for server in $(servers_for sockeye,kestrel,node); do
      stop_server "$server"
      run_one d "$server" "$rep" --idle "$D_COUNT" --duration "$D_HOLD" --source-ips "$(source_ips "$D_COUNT")"
    done
  done
fi

# e: as many of 100,000 connections as the descriptor limit allows, once per server.
if has e "$SCENARIOS"; then
  E_COUNT="$(idle_count "$E_IDLE" e)"
  for server in $( ((E_COUNT >= 10)) && servers_for sockeye,kestrel,node); do
    stop_server "$server"
    run_one e "$server" 1 --idle "$E_COUNT" --duration "$E_HOLD" --source-ips "$(source_ips "$E_IDLE")" --connect-concurrency 256
    stop_server "$server"
  done
fi

# f, g: permessage-deflate. Servers restart with compression on (raw cannot take part: a byte-copy
# echo would return the client's compressed frames masked).
if has f "$SCENARIOS" || has g "$SCENARIOS"; then
  stop_all
  SERVER_MODE=deflate
fi

# f: like a, with 64 B JSON text compressed both ways; servers stay up across repetitions.
if has f "$SCENARIOS"; then
  for ((rep = 1; rep <= REPEAT; rep++)); do
    for server in $(servers_for sockeye,kestrel,aspnet,node); do
      # shellcheck disable=SC2046
      run_one f "$server" "$rep" $(load_args f) --deflate-offer "$DEFLATE_OFFER" --duration "$DURATION" --warmup "$WARMUP"
    done
  done
fi

# g: like d, but each connection negotiates deflate and exchanges one 1 KiB JSON message before
# going idle, so the compression state a server keeps per used connection is in its RSS. Once per
# server, each on a freshly started server.
if has g "$SCENARIOS"; then
  G_COUNT="$(idle_count "$G_IDLE" g)"
  for server in $( ((G_COUNT >= 10)) && servers_for sockeye,kestrel,node); do
    stop_server "$server"
    run_one g "$server" 1 --idle "$G_COUNT" --idle-echo --size 1024 --payload json --deflate-offer "$DEFLATE_OFFER" \
      --duration "$G_HOLD" --source-ips "$(source_ips "$G_COUNT")"
    stop_server "$server"
  done
fi
stop_all

# h, i: fan-out. One publisher and N subscribers on one path: a topic of `serve --broadcast`, the ws README's
# broadcast loop, a Socket.IO room. Servers stay up (and warm) across repetitions and loads; runs alternate servers.
# Each repetition runs saturated (deliveries/s, cpu per delivery, allocations) and then at a fixed rate (latency).
if has h "$SCENARIOS" || has i "$SCENARIOS"; then
  SERVER_MODE=fanout
  for scenario in h i; do
    has "$scenario" "$SCENARIOS" || continue
    if [[ "$scenario" == h ]]; then subs=$H_SUBS rate=$H_RATE; else subs=$I_SUBS rate=$I_RATE; fi
    subs="$(idle_count "$subs" "$scenario")"
    for ((rep = 1; rep <= REPEAT; rep++)); do
      for server in $(servers_for sockeye,ws,socketio); do
        run_one "$scenario" "$server" "$rep" --fanout --subscribers "$subs" --size "$FANOUT_SIZE" --window "$FANOUT_WINDOW" --saturate \
          --duration "$DURATION" --warmup "$WARMUP" --source-ips "$(source_ips "$subs")"
      done
      for server in $(servers_for sockeye,ws,socketio); do
        run_one "$scenario-latency" "$server" "$rep" --fanout --subscribers "$subs" --size "$FANOUT_SIZE" --rate "$rate" \
          --duration "$LAT_DURATION" --warmup "$WARMUP" --source-ips "$(source_ips "$subs")"
      done
    done
  done
  stop_all
fi

# j: scale-out. Three nodes on one redis-server (Sockeye `serve --broadcast --redis`, Socket.IO with its Redis
# adapter), the publisher on node 1 and the subscribers spread over the three, next to the same server as one node
# without Redis: deliveries/s saturated, and at a fixed rate the publish-to-last-delivery latency that Redis adds.
# Each server first gets one discarded warm-up run (JIT, pools, Redis connections), then runs alternate servers.
if has j "$SCENARIOS"; then
  SERVER_MODE=scaleout
  command -v redis-server >/dev/null || { log "scenario j needs redis-server (apt-get install redis-server)"; exit 1; }
  J_COUNT="$(idle_count "$J_SUBS" j)"
  J_SERVERS=()
  for server in $(servers_for sockeye,socketio); do J_SERVERS+=("$server" "$server-redis"); done
  j_args=(--fanout --subscribers "$J_COUNT" --size "$FANOUT_SIZE" --source-ips "$(source_ips "$J_COUNT")")
  for server in "${J_SERVERS[@]}"; do
    run_one j-warmup "$server" 0 "${j_args[@]}" --window "$FANOUT_WINDOW" --saturate --duration "$DURATION" --warmup "$WARMUP"
  done
  for ((rep = 1; rep <= REPEAT; rep++)); do
    for server in "${J_SERVERS[@]}"; do
      run_one j "$server" "$rep" "${j_args[@]}" --window "$FANOUT_WINDOW" --saturate --duration "$DURATION" --warmup "$WARMUP"
    done
    for server in "${J_SERVERS[@]}"; do
      run_one j-latency "$server" "$rep" "${j_args[@]}" --rate "$J_RATE" --duration "$LAT_DURATION" --warmup "$WARMUP"
    done
  done
  stop_all
  rm -rf "$REDIS_DIR"
fi

# The generator's own deflate checks (a fake server that misbehaves on purpose): with --smoke, and
# whenever a compressed scenario ran, so its numbers come from a generator known to check echoes.
GENERATOR_CHECK=skipped
if ((SMOKE)) || has f "$SCENARIOS" || has g "$SCENARIOS"; then
  log "bench/check-generator.sh"
  if BENCH_FAKE_PORT=$((PORT_BASE + 20)) bash "$BENCH/check-generator.sh" "$BENCH_CLIENT_DLL" >"$OUT/logs/check-generator.log" 2>&1; then
    GENERATOR_CHECK=passed
  else
    GENERATOR_CHECK=failed
    cat "$OUT/logs/check-generator.log" >&2
  fi
fi

# The fan-out generator's own checks (a fake broadcast server that loses, repeats and reorders on purpose; keepalive
# pings answered): with --smoke and whenever a fan-out scenario ran.
FANOUT_CHECK=skipped
if ((SMOKE)) || has h "$SCENARIOS" || has i "$SCENARIOS" || has j "$SCENARIOS"; then
  log "bench/check-fanout-generator.sh"
  if BENCH_FAKE_PORT=$((PORT_BASE + 40)) bash "$BENCH/check-fanout-generator.sh" "$BENCH_CLIENT_DLL" >"$OUT/logs/check-fanout-generator.log" 2>&1; then
    FANOUT_CHECK=passed
  else
    FANOUT_CHECK=failed
    cat "$OUT/logs/check-fanout-generator.log" >&2
  fi
fi

node "$BENCH/report.js" --runs "$RUNS" --out "$OUT/results.json" --smoke "$SMOKE" --crashes "$CRASHES" \
  --meta "$(printf '{"priority":%s,"repeat":%s,"duration_s":%s,"warmup_s":%s,"pinned":%s,"fd_limit":%s,"e_target":%s,"g_target":%s,"deflate_offer":"%s","sockeye_deflate_args":"%s","generator_check":"%s","fanout_generator_check":"%s","fanout":{"h_subscribers":%s,"i_subscribers":%s,"window":%s,"h_rate":%s,"i_rate":%s,"size":%s,"latency_duration_s":%s,"j_subscribers":%s,"j_rate":%s,"j_history":%s}}' \
    "$PRIORITY" "$REPEAT" "$DURATION" "$WARMUP" "$PINNED" "$FD_LIMIT" "$E_IDLE" "$G_IDLE" "$DEFLATE_OFFER" "${SOCKEYE_DEFLATE_ARGS[*]}" "$GENERATOR_CHECK" "$FANOUT_CHECK" \
    "$H_SUBS" "$I_SUBS" "$FANOUT_WINDOW" "$H_RATE" "$I_RATE" "$FANOUT_SIZE" "$LAT_DURATION" "$J_SUBS" "$J_RATE" "$J_HISTORY")"
