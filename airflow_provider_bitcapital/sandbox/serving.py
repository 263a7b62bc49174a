"""uvicorn on a daemon thread, listening on a socket bound up front so its port is known at once.

uvicorn runs with the h11 protocol on a plain asyncio loop (the dropped-connection fault relies
on both), no lifespan, no access log, and warnings only, through the standard ``logging`` tree.
"""

from __future__ import annotations

import socket
import threading
import time
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

    from airflow_provider_bitcapital.sandbox.middleware import SandboxMiddleware

START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 5.0
GRACEFUL_SHUTDOWN_SECONDS = 1


class ServerThread:
    """Serve one ASGI application at a time on a fixed host and port.

    :param host: the interface to listen on.
    :param port: the port; 0 picks a free one when the socket is first bound.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self._port = port
        self._socket: socket.socket | None = None
        self._app: SandboxMiddleware | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._lifecycle = threading.Lock()

    @property
    def port(self) -> int:
        """The port; with port 0, a free port is bound on first use and kept across restarts."""
        if self._port == 0:
            self._bound_socket()
        return self._port

    @property
    def assigned_port(self) -> int:
        """The port if known, else 0; unlike :attr:`port`, reading it never binds a socket."""
        return self._port

    @property
    def running(self) -> bool:
        """Tell whether the thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, app: SandboxMiddleware) -> None:
        """Serve an application; return once connections are accepted. Does nothing if already serving.

        :raises RuntimeError: when uvicorn fails to start within 10 seconds.
        """
        import uvicorn

        with self._lifecycle:
            if self.running:
                return
            config = uvicorn.Config(
                app,
                http="h11",
                loop="asyncio",
                lifespan="off",
                log_config=None,
                log_level="warning",
                access_log=False,
                proxy_headers=False,
                server_header=False,
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            )
            server = uvicorn.Server(config)
            thread = threading.Thread(
                target=server.run,
                kwargs={"sockets": [self._bound_socket()]},
                name="bitcapital-sandbox",
                daemon=True,
            )
            thread.start()
            self._app, self._uvicorn, self._thread = app, server, thread
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    self._stop_locked()
                    raise RuntimeError(f"the Bitcapital sandbox failed to start on {self.host}:{self._port}")
                time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving, dropping requests held by a delay fault, and wait for the thread to end."""
        with self._lifecycle:
            self._stop_locked()

    def _bound_socket(self) -> socket.socket:
        if self._socket is None:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            # IPPROTO_TCP must be explicit: asyncio sets TCP_NODELAY on accepted connections only when
            # the socket says it is TCP, and without it a reused connection stalls ~40 ms per answer.
            listening_socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            listening_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listening_socket.bind((self.host, self._port))
                listening_socket.listen(128)
            except OSError:
                listening_socket.close()
                raise
            self._port = listening_socket.getsockname()[1]
            self._socket = listening_socket
            # A server whose port was read but that never started must not leak its socket.
            weakref.finalize(self, listening_socket.close)
        return self._socket

    def _stop_locked(self) -> None:
        app, server, thread = self._app, self._uvicorn, self._thread
        if app is not None:
            app.stopping.set()
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(STOP_TIMEOUT_SECONDS)
            if thread.is_alive():
                server.force_exit = True
                thread.join(STOP_TIMEOUT_SECONDS)
        if self._socket is not None:
            self._socket.close()
        self._app, self._uvicorn, self._thread, self._socket = None, None, None, None
