"""An emulator app served in-process for the conformance battery: uvicorn on a free loopback port,
in a daemon thread, with the remote's state swapped per test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any


class Served:
    """One emulator app on a free loopback port, in a daemon thread. The app reads the remote's
    state from `app.state.<attribute>`; `use` swaps it per test and `reset` puts back `blank`."""

    def __init__(
        self, app_factory: Callable[[Any], Any], blank: Any, name: str, attribute: str = "site"
    ) -> None:
        import uvicorn

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        self.app = app_factory(blank)
        self.blank = blank
        self.attribute = attribute
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True, name=name)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the {name} did not start")
            time.sleep(0.02)

    def use(self, state: Any) -> Any:
        setattr(self.app.state, self.attribute, state)
        return state

    def reset(self) -> None:
        self.use(self.blank)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
