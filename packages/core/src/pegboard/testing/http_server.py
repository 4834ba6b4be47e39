"""A local HTTP server to test downloads against: serves a folder, honours ``Range``.

A public test helper of the kit: a pack whose datamodule or model downloads files tests that
code against this server instead of the real site (core's own download and weights tests use
it). It logs each request and misbehaves on demand: it cuts a response short, as a dropped
connection does, serves wrong bytes, or stalls mid-body so that clients overlap::

    import pytest
    from pegboard.testing.http_server import RangeServer

    @pytest.fixture
    def server(tmp_path):
        with RangeServer(tmp_path / "served") as server:
            yield server

    def test_resume(server, tmp_path):
        url = server.put("blob.bin", b"0123456789")
        server.cuts = [4]  # the first response stops after 4 bytes
        ...
        assert server.requests == [("/blob.bin", None), ("/blob.bin", "bytes=4-")]

Only the standard library is used; the server listens on 127.0.0.1 on a free port.
"""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        wanted = self.headers.get("Range")
        with owner.lock:
            owner.requests.append((self.path, wanted))
            cut = owner.cuts.pop(0) if owner.cuts else None
        root = owner.root.resolve()
        path = (root / unquote(urlsplit(self.path).path).lstrip("/")).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        if owner.corrupt:
            data = bytes(byte ^ 0xFF for byte in data)
        start = int(wanted.removeprefix("bytes=").split("-")[0]) if wanted else 0
        if wanted and start >= len(data):
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(206 if wanted else 200)
        self.send_header("Content-Length", str(len(data) - start))
        if wanted:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        # The Content-Length above promises the whole rest: a cut body reads as a dropped link.
        body = data[start:] if cut is None else data[start : start + cut]
        middle = len(body) // 2
        self.wfile.write(body[:middle])
        if owner.stall_s:
            self.wfile.flush()
            time.sleep(owner.stall_s)
        self.wfile.write(body[middle:])


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: RangeServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner


class RangeServer:
    """Serves the files in ``root`` at ``url`` while used as a context manager.

    Each response honours ``Range: bytes=N-`` (206 with the rest, 416 past the end), as
    real file sites do. The attributes below change how the next responses behave.

    Args:
        root: The folder served (created if missing).

    Attributes:
        url: The base URL, ending with ``/``.
        requests: ``(path, Range header or None)`` of each request, in order.
        cuts: Each response takes the first number off this list and stops after that many
            body bytes, although its ``Content-Length`` promises more (a dropped connection).
        corrupt: Serve every file with each byte inverted (right length, wrong content).
        stall_s: Pause this long in the middle of each body, so concurrent clients overlap.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.requests: list[tuple[str, str | None]] = []
        self.cuts: list[int] = []
        self.corrupt = False
        self.stall_s = 0.0
        self.lock = threading.Lock()
        self._server = _Server(self)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def put(self, name: str, data: bytes) -> str:
        """Serve ``data`` as ``name`` and return its URL.

        Args:
            name: The file name (a path relative to ``root``).
            data: The file's content.
        """
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return self.url + name

    def __enter__(self) -> RangeServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


__all__ = ["RangeServer"]
