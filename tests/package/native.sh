#!/usr/bin/env bash
# The native AOT `sockeye` (docs/packaging.md): `dotnet publish src/Sockeye.Cli -c Release -r linux-x64
# -p:PublishAot=true` must succeed with no trimming/AOT warning, give one self-contained executable that runs without
# the .NET runtime, and that executable must pass the same smoke test as the .NET tool (smoke.sh). Then prints its
# start-to-listening time next to `dotnet sockeye.dll` (startup.py; reported, not asserted).
# Needs clang and zlib1g-dev (test.sh's setup stage installs them).
# Usage: tests/package/native.sh [path/to/sockeye.dll]. Prints one line per check; exits non-zero on failure.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DLL="${1:-$ROOT/src/Sockeye.Cli/bin/Release/net10.0/sockeye.dll}"
PY="${PY:-/usr/bin/python3}"
RID=linux-x64
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT
failures=0 passes=0
ok() { printf 'ok   %s\n' "$1"; passes=$((passes + 1)); }
fail() { printf 'FAIL %s\n' "$1"; failures=$((failures + 1)); }
# shellcheck source=smoke.sh
source "$ROOT/tests/package/smoke.sh"

echo "\$ dotnet publish src/Sockeye.Cli -c Release -r $RID -p:PublishAot=true -o OUT"
start=$SECONDS
if ! dotnet publish "$ROOT/src/Sockeye.Cli" -c Release -r "$RID" -p:PublishAot=true -o "$WORK/native" >"$WORK/publish.log" 2>&1; then
  tail -40 "$WORK/publish.log"
  echo "FAIL dotnet publish -p:PublishAot=true"
  exit 1
fi
sed 's/^ *//' "$WORK/publish.log" | grep -E 'warning|error|Generating native code|->'
ok "native AOT publish in $((SECONDS - start)) s"
warnings=$(grep -c ': warning ' "$WORK/publish.log")
((warnings == 0)) && ok "no trimming or AOT warnings" || fail "$warnings warnings in the AOT publish"

exe="$WORK/native/sockeye"
if [[ -x "$exe" ]] && file -b "$exe" | grep -q '^ELF'; then
  ok "one native executable: sockeye ($(($(stat -c %s "$exe") / 1024 / 1024)) MiB); folder: $(ls "$WORK/native" | tr '\n' ' ')"
else
  fail "no native executable at $exe: $(ls "$WORK/native")"
  exit 1
fi
# Needs only the C library (zlib is loaded when permessage-deflate is first used), not .NET.
libs=$(ldd "$exe" | awk '{print $1}' | tr '\n' ' ')
if [[ "$libs" != *libcoreclr* && "$libs" != *libhostfxr* ]]; then ok "no .NET runtime needed: $libs"; else fail "links .NET: $libs"; fi

version=$(sed -n 's|.*<VersionPrefix>\(.*\)</VersionPrefix>.*|\1|p' "$ROOT/src/Directory.Build.props")
PATH="$WORK/native:$PATH" smoke_sockeye native "$version" sockeye

if [[ -f "$DLL" ]]; then
  "$PY" "$ROOT/tests/package/startup.py" 10 "native=$exe" "dotnet=dotnet $DLL" || fail "start-up measurement"
else
  echo "($DLL not built: start-up comparison skipped)"
fi

echo "native: $passes passed, $failures failed"
((failures == 0))
