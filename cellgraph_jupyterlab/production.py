"""The production target: a cellgraph server elsewhere (on the cluster), reached through this
Jupyter server so the browser never holds its token and no CORS is needed.

Routes (under the Jupyter ``base_url``, behind Jupyter's own login and XSRF checks):

- ``cellgraph-targets/production`` GET: ``{"configured": bool, "url": str|null, "source": ...}``
  and, inside JupyterHub, ``"identity": "jupyterhub", "hubUser": <name>`` (never the token); PUT ``{"url", "token"}``: checked against the server (an authenticated ``GET /api/v1/runs``)
  and saved; DELETE: forgets it.
- ``cellgraph-targets/production/api/...``: any method, forwarded to ``<url>/api/...`` with
  ``Authorization: Bearer <token>``; the answer is streamed back as it comes (run events are
  Server-Sent Events).

Where the URL and token live: ``CELLGRAPH_PRODUCTION_URL`` / ``CELLGRAPH_PRODUCTION_TOKEN`` in
the Jupyter server's environment (an admin's choice, e.g. a JupyterHub spawner's), else the
file ``CELLGRAPH_PRODUCTION_FILE`` (default ``<jupyter config dir>/cellgraph/production.json``,
mode 0600) that the extension's "Production server" dialog writes. The token is never logged
nor sent back to the browser.

Inside JupyterHub no token is pasted: when the admin set the URL (``CELLGRAPH_PRODUCTION_URL``,
typically in the Hub's ``Spawner.environment``) and no ``CELLGRAPH_PRODUCTION_TOKEN``, requests
carry this single-user server's own Hub token (``JUPYTERHUB_API_TOKEN``), and the production
server asks the Hub whose it is. Only to the admin's URL: a URL typed in the dialog never
receives the Hub token, so no notebook or page can send a user's Hub identity elsewhere.
"""
import json
import os
from pathlib import Path
from typing import Optional, Tuple
from urllib.parse import urlsplit

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import httputil, web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

CONFIG_PATH = "cellgraph-targets/production"
# Requests a browser may pass on; everything else (cookies, Jupyter's XSRF token, its
# Authorization) stays here.
FORWARDED_REQUEST_HEADERS = ("Content-Type", "Accept", "Last-Event-ID")
FORWARDED_RESPONSE_HEADERS = ("Content-Type", "Cache-Control", "Location")
# Long enough for a run's event stream; the server ends it when the run ends.
STREAM_TIMEOUT_S = 3600.0
CHECK_TIMEOUT_S = 10.0
# Each followed run holds one connection for its event stream; tornado's shared client allows
# 10 at once and queues the rest, which would stall every other production call behind them.
MAX_CONNECTIONS = 200
_client: Optional[AsyncHTTPClient] = None


def _proxy_client() -> AsyncHTTPClient:
    global _client
    if _client is None:
        _client = AsyncHTTPClient(force_instance=True, max_clients=MAX_CONNECTIONS)
    return _client


class _BrowserGone(Exception):
    """The browser closed its request (a run no longer followed): stop reading from production."""


def config_file() -> Path:
    """Where the dialog's URL and token are kept (per user: the Jupyter config dir is)."""
    explicit = os.environ.get("CELLGRAPH_PRODUCTION_FILE")
    if explicit:
        return Path(explicit)
    from jupyter_core.paths import jupyter_config_dir

    return Path(jupyter_config_dir()) / "cellgraph" / "production.json"


def load() -> Tuple[Optional[str], Optional[str], str]:
    """(url, token, source): the environment's when set, else the file's, else (None, None, 'none')."""
    url, token = os.environ.get("CELLGRAPH_PRODUCTION_URL", "").strip(), os.environ.get("CELLGRAPH_PRODUCTION_TOKEN", "").strip()
    if url:
        return url, token or None, "environment"
    path = config_file()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None, None, "none"
    if not isinstance(data, dict) or not isinstance(data.get("url"), str) or not data["url"]:
        return None, None, "none"
    token = data.get("token")
    return data["url"], token if isinstance(token, str) and token else None, "file"


def hub_token(source: str, token: Optional[str]) -> Optional[str]:
    """This server's Hub token when it stands for the user at production: the URL is the admin's
    (the environment's) and no explicit token was given."""
    if source != "environment" or token is not None:
        return None
    return os.environ.get("JUPYTERHUB_API_TOKEN", "").strip() or None


def credentials() -> Tuple[Optional[str], Optional[str], str, str]:
    """(url, bearer token, source, identity): identity is "jupyterhub" (the user's Hub token),
    "token" (a configured API token) or "none"."""
    url, token, source = load()
    hub = hub_token(source, token)
    if hub is not None:
        return url, hub, source, "jupyterhub"
    return url, token, source, "token" if token is not None else "none"


def describe() -> dict:
    """What the browser may know of the production settings: never a token. Inside JupyterHub
    also whose identity production calls carry (`identity`, `hubUser`)."""
    url, token, source, identity = credentials()
    model = {"configured": url is not None, "url": url, "hasToken": token is not None, "source": source}
    if identity == "jupyterhub":
        model.update(identity=identity, hubUser=os.environ.get("JUPYTERHUB_USER") or None)
    return model


def save(url: str, token: Optional[str]) -> None:
    """Writes the file readable by its owner only, created so (never world-readable for a moment)."""
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"url": url, "token": token}, f)
    os.replace(tmp, path)


def check_url(url: object) -> str:
    """The URL normalised to end with `/`, or a ValueError naming what is wrong."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("url: required (http://host:port/ of the production cellgraph server)")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"url: {url!r} is not an http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError("url: must not have a query or fragment")
    return url.strip().rstrip("/") + "/"


def _error(handler: web.RequestHandler, status: int, code: str, message: str, field: Optional[str] = None) -> None:
    """cellgraph's error shape (`{"error": {code, message, field?}}`), which the extension's client parses."""
    handler.set_status(status)
    handler.set_header("Content-Type", "application/json")
    handler.finish(json.dumps({"error": {"code": code, "message": message, **({"field": field} if field else {})}}))


class ProductionConfigHandler(APIHandler):
    """Reads, sets or forgets the production server (the token is write-only)."""

    @web.authenticated
    def get(self):
        self.finish(json.dumps(describe()))

    @web.authenticated
    async def put(self):
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            return _error(self, 400, "bad-request", "body: not JSON")
        if not isinstance(body, dict):
            return _error(self, 400, "bad-request", "body: must be an object with url and token")
        if load()[2] == "environment":
            return _error(self, 409, "conflict", "url: set by CELLGRAPH_PRODUCTION_URL in the Jupyter server's environment", "url")
        try:
            url = check_url(body.get("url"))
        except ValueError as err:
            return _error(self, 400, "bad-request", str(err), "url")
        token = body.get("token")
        if token is not None and not isinstance(token, str):
            return _error(self, 400, "bad-request", "token: must be a string", "token")
        token = token.strip() if token else None
        problem = await _check_server(url, token)
        if problem is not None:
            return _error(self, 400, "bad-request", problem[1], problem[0])
        save(url, token)
        self.log.info("[cellgraph] production server set to %s", url)
        self.finish(json.dumps(describe()))

    @web.authenticated
    def delete(self):
        if load()[2] == "environment":
            return _error(self, 409, "conflict", "url: set by CELLGRAPH_PRODUCTION_URL in the Jupyter server's environment", "url")
        try:
            config_file().unlink()
        except FileNotFoundError:
            pass
        self.set_status(204)
        self.finish()


async def _check_server(url: str, token: Optional[str]) -> Optional[Tuple[str, str]]:
    """(field, message) when the server cannot be used with this token; None when it can."""
    # Not /health: that one answers without a token.
    probe = url_path_join(url, "api/v1/runs?limit=1")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        await AsyncHTTPClient().fetch(HTTPRequest(probe, headers=headers, request_timeout=CHECK_TIMEOUT_S))
    except HTTPClientError as err:
        if err.code in (401, 403):
            return "token", f"token: refused by {url} (HTTP {err.code})"
        return "url", f"url: {probe} answered HTTP {err.code}"
    except Exception as err:  # noqa: BLE001 (connection refused, DNS, TLS: all mean the URL does not work)
        return "url", f"url: cannot reach {probe}: {err}"
    return None


class ProductionProxyHandler(APIHandler):
    """Forwards a cellgraph API request to the production server with its token, streaming the answer."""

    _gone = False

    def on_connection_close(self):
        self._gone = True

    async def _forward(self, path: str):
        url, token, _source, _identity = credentials()
        if url is None:
            return _error(self, 404, "not-found", "no production server configured (cellgraph: Configure the production server…)")
        target = url_path_join(url, path)
        if self.request.query:
            target += "?" + self.request.query
        headers = {k: self.request.headers[k] for k in FORWARDED_REQUEST_HEADERS if k in self.request.headers}
        if not self.request.body:
            # JupyterLab's connection says `application/json` on every request, bodiless POSTs
            # (cancel) included, and tornado's client calls a bodiless POST a form: the server
            # refuses both; an empty text body it takes (as the extension's DELETE says it).
            headers["Content-Type"] = "text/plain"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        started = {"done": False}

        def on_header(line: str) -> None:
            line = line.rstrip("\r\n")
            if line.startswith("HTTP/"):
                self.set_status(httputil.parse_response_start_line(line).code)
                self._clear_headers_for_proxy()
            elif line and ":" in line:
                name, value = line.split(":", 1)
                if name.strip().title() in FORWARDED_RESPONSE_HEADERS:
                    self.set_header(name.strip(), value.strip())

        def on_chunk(chunk: bytes) -> None:
            if self._gone:
                raise _BrowserGone()
            started["done"] = True
            self.write(chunk)
            self.flush()

        # No body at all when there is none: tornado's client would call an empty one a form.
        body = self.request.body or None
        request = HTTPRequest(
            target,
            method=self.request.method,
            headers=headers,
            body=body,
            allow_nonstandard_methods=True,
            follow_redirects=False,
            header_callback=on_header,
            streaming_callback=on_chunk,
            request_timeout=STREAM_TIMEOUT_S,
            connect_timeout=CHECK_TIMEOUT_S,
        )
        try:
            await _proxy_client().fetch(request, raise_error=False)
        except Exception as err:  # noqa: BLE001 (refused, DNS, TLS, timeout, the browser gone)
            if self._gone:
                return None
            if started["done"]:
                return self.finish()
            # Plain text: the extension's client reads a non-JSON error as "server down" and shows it.
            self.clear()
            self.set_status(502)
            return self.finish(f"production server {url} cannot be reached: {err}", set_content_type="text/plain")
        self.finish()

    def _clear_headers_for_proxy(self) -> None:
        # APIHandler sets JSON and no-cache defaults; the production server's own headers replace them.
        self.clear_header("Content-Type")

    @web.authenticated
    async def get(self, path):
        await self._forward(path)

    @web.authenticated
    async def post(self, path):
        await self._forward(path)

    @web.authenticated
    async def put(self, path):
        await self._forward(path)

    @web.authenticated
    async def delete(self, path):
        await self._forward(path)


def handlers(base_url: str) -> list:
    """The routes this module serves, under Jupyter's base URL."""
    return [
        (url_path_join(base_url, CONFIG_PATH), ProductionConfigHandler),
        (url_path_join(base_url, CONFIG_PATH, "(api/.*)"), ProductionProxyHandler),
    ]
