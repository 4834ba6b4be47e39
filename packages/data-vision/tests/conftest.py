"""Fixtures: a local HTTP server with range requests, standing in for dataset sites."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

PLUGIN = "pegboard_data_vision._plugin:plugin"


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from ``server.root``; honours ``Range: bytes=N-`` as real sites do."""

    def translate_path(self, path: str) -> str:
        return str(self.server.root / path.lstrip("/").split("?")[0])  # type: ignore[attr-defined]

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Range")))  # type: ignore[attr-defined]
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        wanted = self.headers.get("Range")
        start = int(wanted.removeprefix("bytes=").rstrip("-")) if wanted else 0
        if start >= len(data) and wanted:
            self.send_response(416)
            self.end_headers()
            return
        self.send_response(206 if wanted else 200)
        self.send_header("Content-Length", str(len(data) - start))
        if wanted:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        self.wfile.write(data[start:])


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str, list]]:
    """A folder served at ``http://127.0.0.1:<port>/``: (folder, base URL, request log)."""
    root = tmp_path / "served"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    server.root = root  # type: ignore[attr-defined]
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_port}/", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
