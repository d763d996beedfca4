"""Shared helpers for the Python `websockets` interop tests (run with Debian's /usr/bin/python3)."""
import asyncio
import os
import shlex
import signal
import socket
import sys
import time
import traceback

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def sockeye_command():
    """The command that runs sockeye: SOCKEYE_CMD, else dotnet SOCKEYE_DLL, else the Release/Debug build."""
    if os.environ.get("SOCKEYE_CMD"):
        return shlex.split(os.environ["SOCKEYE_CMD"])
    dll = os.environ.get("SOCKEYE_DLL")
    if not dll:
        candidates = [os.path.join(REPO_ROOT, "src", "Sockeye.Cli", "bin", c, "net10.0", "sockeye.dll")
                      for c in ("Release", "Debug")]
        dll = next((c for c in candidates if os.path.exists(c)), None)
        if dll is None:
            raise RuntimeError("sockeye.dll not found; build src/Sockeye.Cli or set SOCKEYE_DLL")
    return ["dotnet", dll]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for_port(port, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.05)  # poll interval
    raise RuntimeError(f"timed out waiting for port {port}")


class Serve:
    """`sockeye serve` on a free port, as an async context manager."""

    def __init__(self, *extra):
        self.extra = list(extra)
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        self.proc = None

    async def __aenter__(self):
        cmd = sockeye_command() + ["serve", "--host", "127.0.0.1", "--port", str(self.port)] + self.extra
        self.proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        try:
            await wait_for_port(self.port, self.proc)
        except Exception:
            self.proc.kill()
            await self.proc.wait()
            raise
        return self

    async def __aexit__(self, *exc):
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def run_connect(args, stdin_data=b"", keep_stdin_open=False, end_stdin=None, timeout=20.0, wait=False):
    """Runs `sockeye connect ARGS`; returns (exit code, stdout text, stderr text).

    stdin gets stdin_data and is then closed: at once, once the asyncio.Event end_stdin is set,
    or never (keep_stdin_open). Unless wait (or --echo), the client gets --no-wait: it closes 1000 at
    stdin EOF, as these servers never close first (by default it would wait for the server to close)."""
    no_wait = [] if wait or "--echo" in args else ["--no-wait"]
    proc = await asyncio.create_subprocess_exec(
        *(sockeye_command() + ["connect"] + no_wait + list(args)),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)

    async def feed():
        try:
            if stdin_data:
                proc.stdin.write(stdin_data)
                await proc.stdin.drain()
            if end_stdin is not None:
                await end_stdin.wait()
                proc.stdin.close()
            elif not keep_stdin_open:
                proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass

    async def collect():
        out, err = await asyncio.gather(proc.stdout.read(), proc.stderr.read())
        await proc.wait()
        return out, err

    feeder = asyncio.ensure_future(feed())
    keep_stdin_open = keep_stdin_open or end_stdin is not None
    try:
        out, err = await asyncio.wait_for(collect(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"sockeye connect {' '.join(args)} did not exit within {timeout}s")
    finally:
        feeder.cancel()
        await asyncio.gather(feeder, return_exceptions=True)
        if keep_stdin_open and not proc.stdin.is_closing():
            proc.stdin.close()
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def run_tests(tests, title):
    """Runs async test functions in order, printing ok/not ok per test, and exits non-zero on failure."""
    passed = failed = 0
    print(f"# {title}", flush=True)
    for fn in tests:
        name = fn.__name__.removeprefix("test_").replace("_", " ")
        start = time.monotonic()
        try:
            asyncio.run(asyncio.wait_for(fn(), 120))
        except BaseException as e:  # noqa: BLE001 - report every failure and keep going
            if isinstance(e, KeyboardInterrupt):
                raise
            failed += 1
            print(f"not ok - {name}", flush=True)
            for line in traceback.format_exc().rstrip().splitlines():
                print(f"    {line}")
        else:
            passed += 1
            print(f"ok - {name} ({(time.monotonic() - start) * 1000:.0f} ms)", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)
