"""Start-to-listening time of `sockeye serve --port 0`: from spawning the process to the moment it writes its
"listening on" log line (written once the socket is bound), read event by event from its stderr pipe: no polling.
Usage: startup.py RUNS LABEL=CMD [LABEL=CMD ...]   (CMD is split on spaces; prints the median and range per label)"""
import statistics
import subprocess
import sys
import time


def once(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd + ["serve", "--port", "0"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:  # ends at EOF if the server exits without listening
            if "listening on" in line:
                return time.perf_counter() - start
        raise SystemExit(f"{' '.join(cmd)} exited ({proc.wait()}) without listening")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    runs = int(sys.argv[1])
    for spec in sys.argv[2:]:
        label, cmd = spec.split("=", 1)
        once(cmd.split())  # warm-up: file cache, not counted
        times = sorted(once(cmd.split()) * 1000 for _ in range(runs))
        print(f"start-to-listening {label}: median {statistics.median(times):.0f} ms "
              f"(min {times[0]:.0f}, max {times[-1]:.0f}, {runs} runs)")


if __name__ == "__main__":
    main()
