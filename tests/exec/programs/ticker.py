#!/usr/bin/env python3
"""Prints N numbered lines, one every INTERVAL ms, each with the time it was printed, then exits 0."""
import sys
import time

count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
interval = (int(sys.argv[2]) if len(sys.argv) > 2 else 20) / 1000
start = time.monotonic()
for i in range(count):
    # sleep until the i-th tick, so lines are paced by the clock and not by our own speed
    time.sleep(max(0.0, start + i * interval - time.monotonic()))
    print(f"tick {i}", flush=True)
