#!/usr/bin/env bash
# End-to-end tests of `sockeye serve --exec/--dir/--proxy/--exec-shared` with real processes.
# Usage: tests/exec/run.sh [path/to/sockeye.dll] [TEST_NAME...]   (builds nothing; prints one line per test)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dll="${1:-$here/../../src/Sockeye.Cli/bin/Release/net10.0/sockeye.dll}"
shift || true

if [[ ! -f "$dll" ]]; then
  echo "exec tests: $dll not found (build it: dotnet build src/Sockeye.Cli -c Release)" >&2
  exit 2
fi
if ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
  echo "exec tests: /usr/bin/python3 with the websockets package is required (apt-get install python3-websockets)" >&2
  exit 2
fi

exec /usr/bin/python3 "$here/exec_tests.py" "$dll" "$@"
