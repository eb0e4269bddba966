"""``python -m demo_site``: serve the demo on 127.0.0.1:$DEMO_PORT with uvicorn."""

from __future__ import annotations

import uvicorn

from demo_site.app import create_app
from demo_site.settings import DemoSettings


def main() -> None:
    settings = DemoSettings.from_env()
    uvicorn.run(create_app(settings), host="127.0.0.1", port=settings.port)


if __name__ == "__main__":
    main()
