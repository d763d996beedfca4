#!/usr/bin/env bash
# The adversarial suite (docs/security.md): attacks against the real `sockeye serve` over loopback.
# Usage: tests/adversarial/run.sh [path/to/sockeye.dll] [TEST_OR_MODULE...]   (builds nothing)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dll="${1:-$here/../../src/Sockeye.Cli/bin/Release/net10.0/sockeye.dll}"
shift || true
if [[ ! -f "$dll" ]]; then
  echo "adversarial tests: $dll not found (build it: dotnet build src/Sockeye.Cli -c Release)" >&2
  exit 2
fi
if ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
  echo "adversarial tests: /usr/bin/python3 with the websockets package is required (apt-get install python3-websockets)" >&2
  exit 2
fi
exec /usr/bin/python3 "$here/run.py" "$dll" "$@"
