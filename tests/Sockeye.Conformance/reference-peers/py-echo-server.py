# Reference echo server with permessage-deflate (Debian's Python websockets 10.4): /usr/bin/python3 py-echo-server.py PORT
import asyncio
import sys

import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory


async def echo(ws, path=None):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def main(port):
    async with websockets.serve(echo, "127.0.0.1", port, extensions=[ServerPerMessageDeflateFactory()], compression=None, max_size=64 * 2**20):
        print("listening on", port, flush=True)
        await asyncio.Future()


asyncio.run(main(int(sys.argv[1])))
