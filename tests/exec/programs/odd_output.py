#!/usr/bin/env python3
"""Output that tests the edges of line mode: a line longer than --max-message 1000, a line with an invalid UTF-8
byte and a CRLF ending, and a last line without a newline."""
import sys

out = sys.stdout.buffer
out.write(b"x" * 2500 + b"\n")
out.write(b"\xffok\r\n")
out.write(b"tail without newline")
out.flush()
