"""Stands in for the cellgraph server when no `cellgraph` CLI is installed.

jupyter-server-proxy starts this instead of the server, so the extension gets an answer it
can show (the server-down banner quotes it) rather than a proxy error page: every request is
answered ``503`` with the plain-text message naming what to install.

Usage: ``python -m cellgraph_jupyterlab.missing_cli <port> <message>``.
"""
from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(port: int, message: str) -> None:
    """Answers every request with 503 and `message` on 127.0.0.1:`port` until killed."""
    body = message.encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.send_response(503)
            self.send_header("content-type", "text/plain; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
            pass

    sys.stderr.write(f"[cellgraph] {message}\n")
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2])
