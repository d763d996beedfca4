#!/usr/bin/env python3
"""A line-echo backend for --proxy: answers every line with 'backend: LINE'. Listens on a free TCP port
(argv[1] == "tcp") or on a unix socket PATH (argv[1]), and prints 'ready PORT-OR-PATH' once listening."""
import asyncio
import sys


async def handle(reader, writer):
    while line := await reader.readline():
        writer.write(b"backend: " + line)
        await writer.drain()
    writer.close()


async def main(where):
    if where == "tcp":
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        where = server.sockets[0].getsockname()[1]
    else:
        server = await asyncio.start_unix_server(handle, where)
    print(f"ready {where}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main(sys.argv[1]))
