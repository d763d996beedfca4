#!/usr/bin/env bash
# The NuGet packages and the `sockeye` .NET tool, checked as a user gets them (docs/packaging.md):
#  1. `dotnet pack Sockeye.sln` makes exactly one package per project under src/, each with its .snupkg, a README,
#     the MIT license expression, the repository URL, Source Link in its PDBs, and the package id = assembly name;
#  2. `dotnet tool install -g sockeye --add-source DIR` (into a scratch DOTNET_CLI_HOME, with a NuGet config that
#     lists only DIR, so nothing else can satisfy it) and then `sockeye --version`, `sockeye serve` ... (smoke.sh).
# Usage: tests/package/tool.sh [--no-build]. Prints one line per check; exits non-zero on failure.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONFIG="${CONFIG:-Release}"
PY="${PY:-/usr/bin/python3}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT
failures=0 passes=0
ok() { printf 'ok   %s\n' "$1"; passes=$((passes + 1)); }
fail() { printf 'FAIL %s\n' "$1"; failures=$((failures + 1)); }
# shellcheck source=smoke.sh
source "$ROOT/tests/package/smoke.sh"

pack_args=()
[[ "${1:-}" == --no-build ]] && pack_args+=(--no-build)
if ! dotnet pack "$ROOT/Sockeye.sln" -c "$CONFIG" "${pack_args[@]}" -o "$WORK/packages" >"$WORK/pack.log" 2>&1; then
  tail -30 "$WORK/pack.log"
  echo "dotnet pack failed"
  exit 1
fi
grep -E 'warning|Successfully created' "$WORK/pack.log" | sed 's/^ *//'
if grep -q ': warning ' "$WORK/pack.log"; then fail "dotnet pack printed warnings"; else ok "dotnet pack: no warnings"; fi

# Every package's contents against the rules above (zip and XML read with Python: no unzip on a bare machine).
"$PY" - "$WORK/packages" "$ROOT" "$WORK/tool" >"$WORK/checks.txt" 2>&1 <<'PYEOF' 
import glob, os, re, sys, zipfile
folder, root, tool_file = sys.argv[1], sys.argv[2], sys.argv[3]
projects = sorted(glob.glob(os.path.join(root, "src", "*", "*.csproj")))
packages = sorted(glob.glob(os.path.join(folder, "*.nupkg")))
bad = 0
def check(cond, msg):
    global bad
    print(("ok   " if cond else "FAIL ") + msg)
    bad += 0 if cond else 1
check(len(packages) == len(projects),
      f"{len(packages)} packages for {len(projects)} projects under src/: " + ", ".join(os.path.basename(p) for p in packages))
for nupkg in packages:
    with zipfile.ZipFile(nupkg) as z:
        names = z.namelist()
        nuspec = z.read(next(n for n in names if n.endswith(".nuspec"))).decode()
        pid = re.search(r"<id>([^<]+)</id>", nuspec).group(1)
        version = re.search(r"<version>([^<]+)</version>", nuspec).group(1)
        is_tool = 'packageType name="DotnetTool"' in nuspec
        dll = (f"tools/net10.0/any/{pid}.dll" if is_tool else f"lib/net10.0/{pid}.dll")
        check(dll in names, f"{pid}: package id = assembly name ({dll})")
        check("<license type=\"expression\">MIT</license>" in nuspec, f"{pid}: license expression MIT")
        check("<readme>README.md</readme>" in nuspec and "README.md" in names, f"{pid}: package README")
        repo = re.search(r'<repository type="git" url="(https://[^"]+)"[^>]*commit="([0-9a-f]{40})"', nuspec)
        check(repo is not None, f"{pid}: repository URL and commit" + (f" ({repo.group(1)} @ {repo.group(2)[:12]})" if repo else ""))
    snupkg = nupkg[:-len(".nupkg")] + ".snupkg"
    check(os.path.exists(snupkg), f"{pid}: symbol package {os.path.basename(snupkg)}")
    if os.path.exists(snupkg) and repo:
        with zipfile.ZipFile(snupkg) as z:
            pdb = next((n for n in z.namelist() if n.endswith(f"/{pid}.pdb")), None)
            data = z.read(pdb) if pdb else b""
            # The Source Link document (portable PDB custom debug information) maps the sources to the commit.
            owner_repo = repo.group(1).removeprefix("https://github.com/")
            link = f"https://raw.githubusercontent.com/{owner_repo}/{repo.group(2)}/".encode()
            check(b'"documents"' in data and link in data, f"{pid}: Source Link in {pdb} -> {link.decode()}*")
    if is_tool:
        with open(tool_file, "w") as f:
            f.write(f"{pid} {version}\n")
PYEOF
cat "$WORK/checks.txt"
passes=$((passes + $(grep -c '^ok ' "$WORK/checks.txt")))
failures=$((failures + $(grep -c -v '^ok ' "$WORK/checks.txt")))

read -r tool_id tool_version <"$WORK/tool" 2>/dev/null || { echo "FAIL no .NET tool package"; exit 1; }

# Only the folder: a package of the same id elsewhere must not be what gets installed.
cat >"$WORK/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /></packageSources></configuration>
XML
export DOTNET_CLI_HOME="$WORK/home"
echo "\$ dotnet tool install -g $tool_id --add-source $WORK/packages --configfile nuget.config"
if out=$(cd "$WORK" && dotnet tool install -g "$tool_id" --add-source "$WORK/packages" --configfile "$WORK/nuget.config" 2>&1); then
  echo "$out"
  ok "dotnet tool install -g $tool_id $tool_version"
  # As the installer says: the tools folder goes on PATH, then it is just `sockeye`.
  PATH="$DOTNET_CLI_HOME/.dotnet/tools:$PATH" smoke_sockeye tool "$tool_version" sockeye
else
  echo "$out"
  fail "dotnet tool install -g $tool_id"
fi

echo "package: $passes passed, $failures failed"
((failures == 0))
