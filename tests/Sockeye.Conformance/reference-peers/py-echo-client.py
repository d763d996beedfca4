# Reference echo client with permessage-deflate (Python websockets 10.4): py-echo-client.py URL 'OFFER PARAMS'
# For --peer-deflate "/usr/bin/python3 py-echo-client.py {url} {offer}".
import asyncio
import sys

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory


def factory(offer):
    params = {"client_max_window_bits": None}
    for param in [p.strip() for p in offer.split(";") if p.strip()]:
        name, _, value = param.partition("=")
        params[name] = int(value) if value else True
    return ClientPerMessageDeflateFactory(**params)


async def main(url, offer):
    async with websockets.connect(url, extensions=[factory(offer)], compression=None, max_size=64 * 2**20) as ws:
        print("extensions:", ws.extensions, file=sys.stderr, flush=True)
        async for message in ws:
            await ws.send(message)


try:
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "client_max_window_bits"))
except websockets.ConnectionClosed:
    pass
except Exception as e:
    print("error:", e, file=sys.stderr)
    sys.exit(1)
