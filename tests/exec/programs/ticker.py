#!/usr/bin/env python3
"""Prints N numbered lines ("tick I"), one every INTERVAL ms, then exits 0.

With a third argument GATE (a path), it waits after the first line until the file GATE exists (at most 10 s) before
going on, and says so in a line if it never appeared: a reader creates GATE once it has the first line, so the rest
is printed only after the first line has travelled the whole way while this process is still running. That shows
the output is streamed by the order of events, not by how fast a busy machine delivers it.
"""
import os
import sys
import time

count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
interval = (int(sys.argv[2]) if len(sys.argv) > 2 else 20) / 1000
gate = sys.argv[3] if len(sys.argv) > 3 else None
start = time.monotonic()
for i in range(count):
    # sleep until the i-th tick, so lines are paced by the clock and not by our own speed
    time.sleep(max(0.0, start + i * interval - time.monotonic()))
    print(f"tick {i}", flush=True)
    if i == 0 and gate:
        deadline = time.monotonic() + 10
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.01)  # polling for a file, bounded by the deadline
        if not os.path.exists(gate):
            print("the first line never reached the reader while this process ran", flush=True)
        start = time.monotonic()  # the next tick one interval from now
