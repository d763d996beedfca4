#!/usr/bin/env python3
"""Prints a SIZE-byte line every INTERVAL ms, forever: a steady stream a reading client keeps up with."""
import sys
import time

size, interval = int(sys.argv[1]), int(sys.argv[2]) / 1000
line = "x" * size
start = time.monotonic()
i = 0
while True:
    time.sleep(max(0.0, start + i * interval - time.monotonic()))
    print(f"{i} {line}", flush=True)
    i += 1
