#!/usr/bin/env python3
"""Soak driver for `sockeye serve`: many concurrent echo clients with random lifetimes, message sizes and
abrupt exits, while the server's RSS and open file descriptors are sampled every second.

Usage: soak.py --url ws://127.0.0.1:PORT/ --pid SERVER_PID [--seconds 60] [--connections 200] [--seed N]
Exit status 0 only if: zero unexpected errors, fd count back near its baseline after the clients are gone,
and RSS not growing linearly (last third of the run averages <= 1.5x the middle third).
"""
import argparse
import asyncio
import json
import os
import random
import sys
import time

import websockets

EXPECTED_ABORT = "expected"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


PORT = 0


def socket_count(pid):
    """TCP connections the server process holds on its port (any state but LISTEN): 0 when none leaked.
    Other fds (runtime assemblies loaded on first use, diagnostics/netlink sockets) are not per connection."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    n = 0
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                next(f)
                for line in f:
                    cols = line.split()
                    local_port = int(cols[1].rsplit(":", 1)[1], 16)
                    if local_port == PORT and cols[3] != "0A" and cols[9] in inodes:
                        n += 1
        except FileNotFoundError:
            pass
    return n


class Stats:
    def __init__(self):
        self.connections = 0
        self.messages = 0
        self.bytes = 0
        self.clean_closes = 0
        self.aborts = 0
        self.cancels = 0
        self.errors = []

    def error(self, what):
        if len(self.errors) < 50:
            self.errors.append(what)
        else:
            self.errors.append("...")  # keep the count, not the text


def message_size(rng):
    # Mostly small, some medium, a few up to 256 KiB.
    roll = rng.random()
    if roll < 0.6:
        return rng.randint(0, 512)
    if roll < 0.9:
        return rng.randint(513, 16 * 1024)
    return rng.randint(16 * 1024, 256 * 1024)


async def client(url, deadline, rng, stats):
    while time.monotonic() < deadline:
        lifetime = rng.uniform(0.05, 4.0)
        ending = rng.choices(["close", "abort", "cancel"], weights=[70, 15, 15])[0]
        try:
            async with websockets.connect(url, max_size=None, compression=None, ping_interval=None,
                                          open_timeout=20, close_timeout=10) as ws:
                stats.connections += 1
                end = min(deadline, time.monotonic() + lifetime)
                while time.monotonic() < end:
                    size = message_size(rng)
                    if rng.random() < 0.5:
                        payload = rng.randbytes(size)
                    else:
                        payload = "".join(rng.choice("abcdé€𝄞 ") for _ in range(size // 3))
                    await ws.send(payload)
                    if ending == "cancel" and rng.random() < 0.3:
                        # Leave mid-exchange: the echo may be in flight or half-sent.
                        break
                    echo = await asyncio.wait_for(ws.recv(), timeout=30)
                    if echo != payload:
                        stats.error(f"echo mismatch: sent {type(payload).__name__} {len(payload)}, got {type(echo).__name__} {len(echo)}")
                        return
                    stats.messages += 1
                    stats.bytes += len(payload)
                if ending == "close":
                    await ws.close()
                    if ws.close_code != 1000:
                        stats.error(f"close code {ws.close_code}")
                    else:
                        stats.clean_closes += 1
                else:
                    # Abrupt: drop the TCP connection without a closing handshake (RST/FIN, no close frame).
                    ws.transport.abort()
                    if ending == "abort":
                        stats.aborts += 1
                    else:
                        stats.cancels += 1
        except asyncio.CancelledError:
            raise
        except Exception as e:  # anything else is unexpected: refused, reset on a clean path, timeouts...
            stats.error(f"{type(e).__name__}: {e}")


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--json", help="write samples and summary here")
    args = ap.parse_args()

    pid = args.pid
    global PORT
    PORT = int(args.url.rsplit(":", 1)[1].split("/")[0])
    baseline_fd = fd_count(pid)
    baseline_sockets = socket_count(pid)
    baseline_rss = rss_kib(pid)
    samples = []  # (t, rss_kib, fds)
    stats = Stats()
    start = time.monotonic()
    deadline = start + args.seconds
    stop_sampling = asyncio.Event()

    async def sampler():
        while not stop_sampling.is_set():
            samples.append((round(time.monotonic() - start, 1), rss_kib(pid), fd_count(pid), socket_count(pid)))
            try:
                await asyncio.wait_for(stop_sampling.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass

    sampling = asyncio.create_task(sampler())
    master = random.Random(args.seed)
    clients = [asyncio.create_task(client(args.url, deadline, random.Random(master.random()), stats))
               for _ in range(args.connections)]
    await asyncio.gather(*clients)
    load_end = time.monotonic() - start

    # All clients are gone: the server must release every connection. Poll (do not sleep-and-hope).
    settle_deadline = time.monotonic() + 30
    final_sockets = socket_count(pid)
    while final_sockets > 0 and time.monotonic() < settle_deadline:
        await asyncio.sleep(0.2)
        final_sockets = socket_count(pid)
    final_fd = fd_count(pid)
    settle_seconds = round(time.monotonic() - start - load_end, 1)
    stop_sampling.set()
    await sampling

    load = [s for s in samples if s[0] <= load_end]
    third = max(1, len(load) // 3)
    middle = load[third:2 * third] or load
    last = load[2 * third:] or load
    avg = lambda xs: sum(x[1] for x in xs) / len(xs)
    rss_middle, rss_last = avg(middle), avg(last)
    peak_fd = max(s[2] for s in samples)
    peak_rss = max(s[1] for s in samples)

    checks = {
        "no unexpected errors": len(stats.errors) == 0,
        "no leaked connections (server holds 0 TCP connections)": final_sockets == 0,
        # Other fds may grow by a few runtime assemblies/pdbs loaded on first use (not per connection).
        "fds back near baseline (+32)": final_fd <= baseline_fd + 32,
        "rss last third <= 1.5x middle third": rss_last <= 1.5 * rss_middle,
        "some traffic": stats.messages > 0 and stats.connections > 0,
    }
    summary = {
        "seconds": args.seconds, "connections_concurrent": args.connections, "seed": args.seed,
        "connections_opened": stats.connections, "messages_echoed": stats.messages, "bytes_echoed": stats.bytes,
        "clean_closes": stats.clean_closes, "abrupt_aborts": stats.aborts, "cancelled_mid_message": stats.cancels,
        "unexpected_errors": len(stats.errors), "error_samples": stats.errors[:10],
        "baseline_fd": baseline_fd, "peak_fd": peak_fd, "final_fd": final_fd,
        "baseline_connections": baseline_sockets, "peak_connections": max(s[3] for s in samples), "final_connections": final_sockets,
        "settle_seconds": settle_seconds,
        "baseline_rss_mib": round(baseline_rss / 1024, 1), "peak_rss_mib": round(peak_rss / 1024, 1),
        "rss_middle_third_mib": round(rss_middle / 1024, 1), "rss_last_third_mib": round(rss_last / 1024, 1),
        "checks": checks,
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "samples": samples}, f)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
