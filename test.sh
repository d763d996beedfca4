#!/usr/bin/env bash
# The one command that runs every Sockeye test, on a fresh Debian 12 machine (root, .NET 10 SDK,
# Node 20 and npm present). It installs what is missing, builds in Release, then runs each stage,
# keeps going when one fails, prints a summary table and exits non-zero if any stage failed.
#
#   ./test.sh                      # everything
#   ./test.sh interop browser      # selected stages (setup and build run first when needed)
#   ./test.sh --no-build unit      # skip the build (use what is already built)
#   ./test.sh --list               # list the stages
#
# Stages: setup build unit security conformance-server conformance-client interop-node interop-python
#         browser cli exec adversarial redis nats aspnetcore soak bench-smoke package native
# Aliases: conformance = conformance-server conformance-client; interop = interop-node interop-python;
#          node = interop-node; python = interop-python; all = every stage.
# Logs go to artifacts/logs/<stage>.log, conformance reports to artifacts/conformance/{server,client}.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

ALL_STAGES=(setup build unit security conformance-server conformance-client interop-node interop-python browser cli exec adversarial redis nats aspnetcore soak bench-smoke package native)
STAGE_TIMEOUT_DEFAULT=1200   # seconds; a hung stage is killed and counted as failed
declare -A STAGE_TIMEOUT=([setup]=1500 [build]=1200 [unit]=1500 [conformance-server]=1200 [conformance-client]=1200 [bench-smoke]=1500 [native]=1500)

export CONFIG=Release
export ARTIFACTS="$ROOT/artifacts"
export SOCKEYE_DLL="${SOCKEYE_DLL:-$ROOT/src/Sockeye.Cli/bin/$CONFIG/net10.0/sockeye.dll}"
export CONFORMANCE_DLL="${CONFORMANCE_DLL:-$ROOT/tests/Sockeye.Conformance/bin/$CONFIG/net10.0/sockeye-conformance.dll}"
export SEED_FIXTURES_DIR="${SEED_FIXTURES_DIR:-$(cd "$ROOT/.." && pwd)/shared/fixtures}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false NPM_CONFIG_UPDATE_NOTIFIER=false
export PY=/usr/bin/python3   # Debian's python (python3-websockets), not whatever python3 is on PATH
RUN_DIR="$(mktemp -d /tmp/sockeye-test.XXXXXX)"
export RUN_DIR
export PID_FILE="$RUN_DIR/pids"
: >"$PID_FILE"

# ---------------------------------------------------------------------------------------------
# helpers (exported: each stage runs in its own bash under `timeout`)

say() { printf '%s\n' "$*"; }

# Prints a free TCP port on 127.0.0.1 (the kernel picks it).
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

# start_server NAME CMD... : runs CMD in the background (output to artifacts/logs/NAME.server.log),
# records its pid for cleanup and prints the pid.
start_server() {
  local name="$1"; shift
  "$@" </dev/null >"$ARTIFACTS/logs/$name.server.log" 2>&1 &
  local pid=$!
  echo "$pid" >>"$PID_FILE"
  echo "$pid"
}

# wait_for_port PORT PID [SECONDS] : polls until PORT accepts connections; fails if PID dies first.
wait_for_port() {
  local port="$1" pid="$2" limit="${3:-60}"
  local deadline=$((SECONDS + limit))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "server (pid $pid) exited before listening on port $port"
      return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1 # poll interval
  done
  say "timed out after ${limit}s waiting for port $port"
  return 1
}

# stop_server PID : SIGTERM, then SIGKILL after 10 s. Returns the server's exit status when it is our child.
stop_server() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null
}

require_file() {
  if [[ ! -f "$1" ]]; then
    say "missing $1 (did the build stage succeed?)"
    return 1
  fi
}

# The interop and browser tests honour SOCKEYE_CMD (e.g. a stand-in during development) over the dll.
require_sockeye() {
  [[ -n "${SOCKEYE_CMD:-}" ]] || require_file "$SOCKEYE_DLL"
}

export -f say free_port start_server wait_for_port stop_server require_file require_sockeye

# ---------------------------------------------------------------------------------------------
# stages

stage_setup() {
  local missing=() rc=0
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  "$PY" -c 'import websockets' >/dev/null 2>&1 || missing+=(python3-websockets)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v clang >/dev/null 2>&1 || missing+=(clang)           # native AOT (the native stage)
  [[ -f /usr/include/zlib.h ]] || missing+=(zlib1g-dev)
  if ((${#missing[@]})); then
    say "installing with apt: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update || rc=1
    apt-get -o DPkg::Lock::Timeout=600 install -y "${missing[@]}" || rc=1
  else
    say "apt packages present: chromium python3-websockets redis-server nats-server openssl curl clang zlib1g-dev"
  fi
  if [[ ! -d tests/interop/node_modules/ws || ! -d tests/interop/node_modules/playwright-core ]]; then
    say "npm ci in tests/interop"
    (cd tests/interop && npm ci --no-audit --no-fund) || rc=1
  else
    say "tests/interop/node_modules present"
  fi
  dotnet restore Sockeye.sln || rc=1
  say "versions: $(dotnet --version 2>/dev/null | head -1) / node $(node --version) / $("$PY" -c 'import websockets,sys;print("python",sys.version.split()[0],"websockets",websockets.__version__)' 2>/dev/null) / $(chromium --version 2>/dev/null)"
  return "$rc"
}

stage_build() {
  dotnet build -c "$CONFIG" --no-restore Sockeye.sln
}

stage_unit() {
  require_file tests/Sockeye.Tests/bin/$CONFIG/net10.0/Sockeye.Tests.dll || return 1
  require_file tests/Sockeye.Hosting.Tests/bin/$CONFIG/net10.0/Sockeye.Hosting.Tests.dll || return 1
  local rc=0
  dotnet test tests/Sockeye.Tests/Sockeye.Tests.csproj -c "$CONFIG" --no-build \
    --results-directory "$ARTIFACTS/test-results" --logger "trx;LogFileName=unit.trx" --logger "console;verbosity=normal" || rc=1
  # The generic-host integration (src/Sockeye.Hosting), against a real host on a loopback port.
  dotnet test tests/Sockeye.Hosting.Tests/Sockeye.Hosting.Tests.csproj -c "$CONFIG" --no-build \
    --results-directory "$ARTIFACTS/test-results" --logger "trx;LogFileName=unit-hosting.trx" --logger "console;verbosity=normal" || rc=1
  return "$rc"
}

# Attack-class regression tests over loopback sockets, and a short bounded fuzz of the parsers and the engine.
stage_security() {
  require_file tests/Sockeye.SecurityTests/bin/$CONFIG/net10.0/Sockeye.SecurityTests.dll || return 1
  dotnet test tests/Sockeye.SecurityTests/Sockeye.SecurityTests.csproj -c "$CONFIG" --no-build \
    --results-directory "$ARTIFACTS/test-results" --logger "trx;LogFileName=security.trx" --logger "console;verbosity=normal"
}

# Conformance tool as client against `sockeye serve`.
stage_conformance_server() {
  require_file "$SOCKEYE_DLL" || return 1
  require_file "$CONFORMANCE_DLL" || return 1
  local port pid rc
  port="$(free_port)"
  pid="$(start_server conformance-serve dotnet "$SOCKEYE_DLL" serve --host 127.0.0.1 --port "$port" --max-message 16777216)"
  wait_for_port "$port" "$pid" || { cat "$ARTIFACTS/logs/conformance-serve.server.log"; stop_server "$pid"; return 1; }
  rm -rf "$ARTIFACTS/conformance/server"
  # The judge's own deflate codec is checked against zlib first (a few seconds); groups 12/13 rely on it.
  dotnet "$CONFORMANCE_DLL" selftest || { stop_server "$pid"; return 1; }
  dotnet "$CONFORMANCE_DLL" client --url "ws://127.0.0.1:$port/" --require-deflate \
    --expected tests/Sockeye.Conformance/expected/sockeye-serve.json --report "$ARTIFACTS/conformance/server"
  rc=$?
  if ! kill -0 "$pid" 2>/dev/null; then
    say "sockeye serve died during the conformance run; its log:"
    tail -n 50 "$ARTIFACTS/logs/conformance-serve.server.log"
    rc=1
  fi
  stop_server "$pid"
  return "$rc"
}

# Conformance tool as server, driving `sockeye connect --echo`; groups 12/13 (permessage-deflate) start it with
# --deflate-offer and the parameters each case wants offered ({offer}).
stage_conformance_client() {
  require_file "$SOCKEYE_DLL" || return 1
  require_file "$CONFORMANCE_DLL" || return 1
  local port
  port="$(free_port)"
  rm -rf "$ARTIFACTS/conformance/client"
  dotnet "$CONFORMANCE_DLL" server --port "$port" \
    --peer "dotnet $SOCKEYE_DLL connect --echo {url}" \
    --peer-deflate "dotnet $SOCKEYE_DLL connect --echo --deflate-offer {offer} {url}" \
    --require-deflate --expected tests/Sockeye.Conformance/expected/sockeye-connect.json \
    --report "$ARTIFACTS/conformance/client"
}

stage_interop_node() {
  require_sockeye || return 1
  cd tests/interop && node --test --test-reporter=spec --test-concurrency=1 --test-timeout=180000 node/
}

stage_interop_python() {
  require_sockeye || return 1
  local rc=0 f
  for f in tests/interop/python/test_*.py; do
    say "--- $PY $f"
    "$PY" "$f" || rc=1
  done
  return "$rc"
}

stage_browser() {
  require_sockeye || return 1
  # The seed-page tests need the user's fixture (../shared/fixtures); outside CI they skip themselves when it is
  # missing (the other browser tests still run), with CI=true a missing fixture fails the stage.
  if [[ ! -f "$SEED_FIXTURES_DIR/seed-test-page.html" ]]; then
    if [[ "${CI:-}" == true ]]; then
      say "seed page not found at $SEED_FIXTURES_DIR/seed-test-page.html (CI=true: failing)"
      return 1
    fi
    say "seed page not found at $SEED_FIXTURES_DIR/seed-test-page.html: the seed-page tests are skipped (CI=true makes this a failure)"
  fi
  # topics-failover.test.js runs three `serve --broadcast` nodes on a redis-server and on a `nats-server -js` it starts
  # (setup installs both; outside CI a missing one skips its case).
  local server
  for server in redis-server nats-server; do
    if ! command -v "$server" >/dev/null 2>&1 && [[ "${CI:-}" == true ]]; then
      say "$server not installed (CI=true: failing; the setup stage installs it)"
      return 1
    fi
  done
  mkdir -p "$ARTIFACTS/screenshots"
  cd tests/interop && SCREENSHOT_DIR="$ARTIFACTS/screenshots" \
    node --test --test-reporter=spec --test-concurrency=1 --test-timeout=180000 browser/
}

# `sockeye serve` end to end: TLS (PEM, PKCS#12), certificate validation in `connect`, origin check, SIGTERM.
stage_cli() {
  require_file "$SOCKEYE_DLL" || return 1
  bash tests/cli/run.sh "$SOCKEYE_DLL"
}

# `sockeye serve --exec/--dir/--proxy/--exec-shared` with real processes (tests/exec).
stage_exec() {
  require_file "$SOCKEYE_DLL" || return 1
  bash tests/exec/run.sh "$SOCKEYE_DLL"
}

# A short soak: many connections with random lifetimes and sizes; fds and RSS must come back/stay flat.
# Attacks from the reliability review against the real `sockeye serve` (tests/adversarial, docs/security.md).
stage_adversarial() {
  require_file "$SOCKEYE_DLL" || return 1
  bash tests/adversarial/run.sh "$SOCKEYE_DLL"
}

# The Redis backplane against real redis-server processes that the tests start, kill and restart on free ports
# (no persistence, temp dirs), with real `sockeye serve --broadcast --redis` nodes (docs/scale-out.md).
stage_redis() {
  require_file tests/Sockeye.Redis.Tests/bin/$CONFIG/net10.0/Sockeye.Redis.Tests.dll || return 1
  require_file "$SOCKEYE_DLL" || return 1
  command -v redis-server >/dev/null 2>&1 || { say "redis-server not installed (the setup stage installs it)"; return 1; }
  dotnet test tests/Sockeye.Redis.Tests/Sockeye.Redis.Tests.csproj -c "$CONFIG" --no-build \
    --results-directory "$ARTIFACTS/test-results" --logger "trx;LogFileName=redis.trx" --logger "console;verbosity=normal"
}

# The NATS JetStream backplane against real `nats-server -js` processes that the tests start, kill and restart on free
# ports (temp store dirs, kept or wiped), with real `sockeye serve --broadcast --nats` nodes (docs/scale-out.md).
stage_nats() {
  require_file tests/Sockeye.Nats.Tests/bin/$CONFIG/net10.0/Sockeye.Nats.Tests.dll || return 1
  require_file "$SOCKEYE_DLL" || return 1
  if ! command -v nats-server >/dev/null 2>&1; then
    say "installing nats-server with apt"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y nats-server \
      || { apt-get -o DPkg::Lock::Timeout=600 update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y nats-server; } \
      || { say "nats-server could not be installed"; return 1; }
  fi
  say "$(nats-server --version)"
  dotnet test tests/Sockeye.Nats.Tests/Sockeye.Nats.Tests.csproj -c "$CONFIG" --no-build \
    --results-directory "$ARTIFACTS/test-results" --logger "trx;LogFileName=nats.trx" --logger "console;verbosity=normal"
}

# Sockeye.AspNetCore inside a real Kestrel app on loopback port 0: ClientWebSocket over HTTP/1.1, h2c and HTTP/2
# over TLS (self-signed, made by the tests), auth, origin, limits (docs/aspnetcore.md).
stage_aspnetcore() {
  require_file tests/Sockeye.AspNetCore.Tests/bin/$CONFIG/net10.0/Sockeye.AspNetCore.Tests.dll || return 1
  dotnet test tests/Sockeye.AspNetCore.Tests/Sockeye.AspNetCore.Tests.csproj -c "$CONFIG" --no-build \
    --results-directory "$ARTIFACTS/test-results" --logger "trx;LogFileName=aspnetcore.trx" --logger "console;verbosity=normal"
}

stage_soak() {
  require_file "$SOCKEYE_DLL" || return 1
  SOAK_SECONDS="${SOAK_SECONDS:-15}" bash tests/soak/run.sh "$SOCKEYE_DLL"
}

stage_bench_smoke() {
  if [[ ! -f bench/run.sh ]]; then
    say "bench/run.sh not present: skipped"
    return 200
  fi
  bash bench/run.sh --smoke
}

# The NuGet packages (README, license, repository, Source Link, symbols) and the `sockeye` .NET tool installed from
# them with `dotnet tool install -g`, then run (tests/package/tool.sh).
stage_package() {
  require_file "$SOCKEYE_DLL" || return 1
  bash tests/package/tool.sh --no-build
}

# The native AOT `sockeye`: published with no trimming/AOT warning, run without .NET, start-up time next to the dll's.
stage_native() {
  bash tests/package/native.sh "$SOCKEYE_DLL"
}

export -f stage_package stage_native stage_setup stage_build stage_unit stage_conformance_server stage_conformance_client \
  stage_interop_node stage_interop_python stage_browser stage_exec stage_adversarial stage_bench_smoke stage_security stage_soak stage_cli \
  stage_redis stage_nats stage_aspnetcore

# ---------------------------------------------------------------------------------------------
# cleanup: every server this run started (recorded pids only), and the .NET build servers

cleanup() {
  local pid
  if [[ -s "$RUN_DIR/stage.pid" ]]; then
    kill -TERM "$(cat "$RUN_DIR/stage.pid")" 2>/dev/null # timeout passes it on to the stage's processes
  fi
  if [[ -s "$PID_FILE" ]]; then
    while read -r pid; do
      [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null
    done <"$PID_FILE"
    sleep 0.5
    while read -r pid; do
      [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null
    done <"$PID_FILE"
  fi
  if [[ "${BUILD_RAN:-0}" == 1 ]]; then
    dotnet build-server shutdown >/dev/null 2>&1 || true
  fi
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# argument parsing

NO_BUILD=0
selected=()
for arg in "$@"; do
  case "$arg" in
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --list) printf '%s\n' "${ALL_STAGES[@]}"; exit 0 ;;
    --no-build) NO_BUILD=1 ;;
    all) selected+=("${ALL_STAGES[@]}") ;;
    conformance) selected+=(conformance-server conformance-client) ;;
    interop) selected+=(interop-node interop-python) ;;
    node) selected+=(interop-node) ;;
    python) selected+=(interop-python) ;;
    bench) selected+=(bench-smoke) ;;
    setup | build | unit | security | conformance-server | conformance-client | interop-node | interop-python | browser | cli | exec | adversarial | redis | nats | aspnetcore | soak | bench-smoke | package | native)
      selected+=("$arg") ;;
    *) say "unknown stage '$arg' (stages: ${ALL_STAGES[*]}; aliases: all conformance interop node python bench)"; exit 2 ;;
  esac
done
if ((${#selected[@]} == 0)); then
  selected=("${ALL_STAGES[@]}")
fi
# setup and build always come first (they are cheap when nothing changed) unless --no-build.
if ((NO_BUILD == 0)); then
  selected=(setup build "${selected[@]}")
fi
# de-duplicate, keeping the canonical order
run_stages=()
for s in "${ALL_STAGES[@]}"; do
  for t in "${selected[@]}"; do
    if [[ "$s" == "$t" ]]; then run_stages+=("$s"); break; fi
  done
done

mkdir -p "$ARTIFACTS/logs"

# ---------------------------------------------------------------------------------------------
# run

if [[ -t 1 ]]; then B=$'\033[1m' N=$'\033[0m'; else B='' N=''; fi
declare -A RESULT DURATION
failed=0
build_failed=0

for stage in "${run_stages[@]}"; do
  fn="stage_${stage//-/_}"
  log="$ARTIFACTS/logs/$stage.log"
  limit="${STAGE_TIMEOUT[$stage]:-$STAGE_TIMEOUT_DEFAULT}"
  printf '\n%s==================== %s ====================%s\n' "$B" "$stage" "$N"
  start=$SECONDS
  if ((build_failed)) && [[ "$stage" != setup && "$stage" != build ]]; then
    say "not run: the build failed"
    RESULT[$stage]="NOT RUN (build failed)"
    DURATION[$stage]=0
    failed=1
    continue
  fi
  [[ "$stage" == build ]] && BUILD_RAN=1
  # Each stage runs in its own bash (so `cd` and errors stay inside it) under a time limit;
  # timeout's pid is recorded so that an interrupted run can stop the stage's whole process group.
  rm -f "$RUN_DIR/rc"
  {
    timeout -k 30 "$limit" bash -c "cd '$ROOT' && $fn" </dev/null 2>&1 &
    echo $! >"$RUN_DIR/stage.pid"
    wait $!
    echo $? >"$RUN_DIR/rc"
  } 2>&1 | tee "$log"
  rc="$(cat "$RUN_DIR/rc" 2>/dev/null || echo 130)"
  rm -f "$RUN_DIR/stage.pid"
  DURATION[$stage]=$((SECONDS - start))
  case "$rc" in
    0) RESULT[$stage]=PASS ;;
    200) RESULT[$stage]=SKIP ;;
    124 | 137) RESULT[$stage]="FAIL (timed out after ${limit}s)"; failed=1 ;;
    *) RESULT[$stage]="FAIL (exit $rc)"; failed=1 ;;
  esac
  if [[ "$stage" == build && "$rc" != 0 ]]; then build_failed=1; fi
  printf '%s---- %s: %s (%ss)%s\n' "$B" "$stage" "${RESULT[$stage]}" "${DURATION[$stage]}" "$N"
done

printf '\n%s==================== summary ====================%s\n' "$B" "$N"
printf '%-20s %-32s %8s\n' STAGE RESULT SECONDS
npass=0 nfail=0 nskip=0
for stage in "${run_stages[@]}"; do
  printf '%-20s %-32s %8s\n' "$stage" "${RESULT[$stage]}" "${DURATION[$stage]}"
  case "${RESULT[$stage]}" in
    PASS) npass=$((npass + 1)) ;;
    SKIP) nskip=$((nskip + 1)) ;;
    *) nfail=$((nfail + 1)) ;;
  esac
done
# What failed, at the end where a truncated CI log still shows it: the failing tests' names and first lines.
for stage in "${run_stages[@]}"; do
  case "${RESULT[$stage]}" in
    PASS | SKIP) ;;
    *)
      printf '\n%s---- why %s failed (from %s)%s\n' "$B" "$stage" "$ARTIFACTS/logs/$stage.log" "$N"
      grep -a -E -A8 '^\s+Failed [A-Za-z_]|\[FAIL\]|^not ok|^# fail [1-9]|✖ |^FAIL[: ]|^fail |Traceback' "$ARTIFACTS/logs/$stage.log" 2>/dev/null | head -n 60 || true
      ;;
  esac
done
say "logs: $ARTIFACTS/logs"
say "stages: $npass passed, $nfail failed, $nskip skipped"
exit "$failed"
