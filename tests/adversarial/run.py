#!/usr/bin/python3
"""The adversarial suite: every attack class from the reliability review as a regression test against the real
`sockeye serve` over loopback. Each module `test_*.py` here registers tests with `@test` (from `suite`).

Usage: run.py SOCKEYE_DLL [TEST_NAME_OR_MODULE...]
Prints one line per test ("ok ..." or "FAIL ..."); exits 1 if any failed. See docs/security.md for the table.
"""
import importlib
import traceback
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["SOCKEYE_DLL"] = os.path.abspath(sys.argv[1])

import suite  # noqa: E402  (after SOCKEYE_DLL is set)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(f[:-3] for f in os.listdir(here) if f.startswith("test_") and f.endswith(".py")):
        importlib.import_module(name)
    wanted = sys.argv[2:]
    selected = [t for t in suite.TESTS if not wanted or t.__name__ in wanted or t.__module__ in wanted]
    failed = 0
    for t in selected:
        start = time.monotonic()
        try:
            detail = suite.run(t)
            print(f"ok   {t.__module__}.{t.__name__} ({time.monotonic() - start:.1f}s): {detail}", flush=True)
        except Exception as e:  # report every failure and keep going
            failed += 1
            where = next((f"{os.path.basename(f.filename)}:{f.lineno}" for f in reversed(traceback.extract_tb(e.__traceback__))
                          if os.path.basename(f.filename).startswith("test_")), "?")
            print(f"FAIL {t.__module__}.{t.__name__} ({time.monotonic() - start:.1f}s) at {where}: {type(e).__name__}: {e}", flush=True)
    print(f"{len(selected) - failed}/{len(selected)} adversarial tests passed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
