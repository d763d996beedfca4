#!/usr/bin/env python3
"""A calculator REPL with a live clock, and no WebSocket code at all.

It reads expressions from stdin, one per line, and prints answers to stdout; a second thread prints a status line
every second. Run it in a terminal as it is, or give it a browser front end with one command:

    sockeye serve --exec "python3 samples/python-frontend/app.py" --static samples/python-frontend

Output lines start with a word the page uses to tell them apart: "result", "error" or "status".
"""
import ast
import math
import operator
import sys
import threading
import time

OPERATORS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.USub: operator.neg, ast.UAdd: operator.pos,
}
NAMES = {name: getattr(math, name) for name in ("pi", "e", "tau", "sqrt", "sin", "cos", "tan", "log", "exp", "floor", "ceil")}
NAMES["abs"] = abs

print_lock = threading.Lock()


def say(kind, text):
    # One writer at a time, and flush: each line must reach the browser as soon as it is printed.
    with print_lock:
        print(f"{kind} {text}", flush=True)


def evaluate(node):
    """Arithmetic only: numbers, + - * / // % **, parentheses, and the functions and constants in NAMES."""
    if isinstance(node, ast.Expression):
        return evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        left, right = evaluate(node.left), evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 1000:
            raise ValueError("exponent too large")
        result = OPERATORS[type(node.op)](left, right)
        if isinstance(result, int) and result.bit_length() > 4096:
            raise ValueError("number too large")
        return result
    if isinstance(node, ast.UnaryOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](evaluate(node.operand))
    if isinstance(node, ast.Name) and node.id in NAMES:
        return NAMES[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and callable(NAMES.get(node.func.id)):
        return NAMES[node.func.id](*[evaluate(a) for a in node.args])
    raise ValueError("only arithmetic is allowed")


answered = 0


def clock(started):
    while True:
        say("status", f"{time.strftime('%H:%M:%S')} | up {int(time.monotonic() - started)} s | {answered} answered")
        time.sleep(1)


def main():
    global answered
    threading.Thread(target=clock, args=(time.monotonic(),), daemon=True).start()
    say("result", "ready: type an expression, e.g. 2 * (3 + 4) or sqrt(2)")
    # readline, not iteration, so each line is handled as soon as it arrives.
    while line := sys.stdin.readline():
        expression = line.strip()
        if not expression:
            continue
        try:
            say("result", f"{expression} = {evaluate(ast.parse(expression, mode='eval'))}")
            answered += 1
        except (SyntaxError, ValueError, TypeError, ZeroDivisionError, OverflowError) as e:
            say("error", f"{expression}: {e}")
    # stdin closed: the browser went away (or Ctrl-D in a terminal). Exit 0 so the connection closes with 1000.


if __name__ == "__main__":
    main()
