"""The review page's HTTP server: waitress, a production WSGI server (Flask's own is for development).

`ReviewServer(app, host, port)` binds at once (port 0 picks a free one, see `.port`); then
`serve_forever()` in the foreground (`scrollcheck review`) or `start()` / `stop()` in a background
thread (the tests). Proxy headers: waitress drops X-Forwarded-* from everyone unless the app is
told to trust its reverse proxy; then they are passed on and the app's ProxyFix reads them, so
the trust decision stays in one place (`create_app(trust_proxy=...)`).
"""

from __future__ import annotations

import threading
from typing import Any, Optional

from waitress import wasyncore
from waitress.server import create_server

# A request body larger than this is refused by the server itself (the app's own limit is 64 KiB).
MAX_BODY = 1024 * 1024


class ReviewServer:
    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        *,
        threads: int = 4,
        trust_proxy: Optional[bool] = None,
    ) -> None:
        if trust_proxy is None:  # the app's own decision (create_app puts it in its config)
            trust_proxy = bool(getattr(app, "config", {}).get("REVIEW_TRUST_PROXY", False))
        self._server: Any = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            clear_untrusted_proxy_headers=not trust_proxy,
            max_request_body_size=MAX_BODY,
            expose_tracebacks=False,
        )
        self.host = host
        self.port: int = self._server.effective_port
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve until KeyboardInterrupt (also raised by the SIGTERM handler in app.main)."""
        try:
            self._server.run()
        finally:
            self._close_now()

    def start(self) -> "ReviewServer":
        self._thread = threading.Thread(target=self._server.run, name="review-server", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close every socket from inside the server's own loop (thread-safe), then join it."""
        if self._thread is None:
            self._close_now()
            return
        self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
        self._thread.join(timeout)
        self._server.task_dispatcher.shutdown()
        self._thread = None

    def _close_now(self) -> None:
        wasyncore.close_all(self._server._map)
        self._server.task_dispatcher.shutdown()
