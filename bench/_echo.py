"""A bare Litestar echo WebSocket served like ``bpract serve`` (same uvicorn ``ws`` and limits).

python bench/_echo.py --port 8123
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from litestar import Litestar, WebSocket, get, websocket

from _support import ws_implementation

MAX_FRAME = 16 * 1024  # bpract's default BPRACT_MAX_FRAME, given to uvicorn as ws_max_size


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@websocket("/echo")
async def echo(socket: WebSocket[Any, Any, Any]) -> None:
    """Every text frame straight back; the receive loop is shaped like the visitor socket's."""
    await socket.accept()
    while True:
        event = await socket.receive()
        if event["type"] != "websocket.receive":
            return
        await socket.send_text(event.get("text") or "")


app = Litestar(route_handlers=[health, echo], openapi_config=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        ws=ws_implementation(),
        ws_max_size=MAX_FRAME,
        workers=1,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
