"""Test registry for the adversarial suite: `@test` marks a test (plain or async function returning a detail line)."""
import asyncio
import inspect

TESTS = []
LIMIT = 180  # seconds for one test, whatever it does


def test(fn):
    TESTS.append(fn)
    return fn


def run(fn):
    if inspect.iscoroutinefunction(fn):
        return asyncio.run(asyncio.wait_for(fn(), LIMIT))
    return fn()
