#!/usr/bin/env python3
"""A shared process that shows what it reads: each stdin line (split on \\n only, bytes as read) is printed to
everyone as a JSON string, so a test sees exactly which lines the program got and how each was tagged."""
import json
import sys

for raw in sys.stdin.buffer:
    print(json.dumps(raw.rstrip(b"\n").decode("utf-8", "backslashreplace")), flush=True)
