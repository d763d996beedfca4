#!/usr/bin/env python3
"""A shared process for --exec-shared --tag-connections: every input line "ID<TAB>text" is announced to everyone
("all: text") and answered to its sender only ("ID<TAB>you: text")."""
import sys

for line in sys.stdin:
    conn, _, text = line.rstrip("\n").partition("\t")
    print(f"all: {text}", flush=True)
    print(f"{conn}\tyou: {text}", flush=True)
