"""cellgraph for JupyterLab: the prebuilt labextension and the companion server behind
Jupyter's own auth (jupyter-server-proxy starts `cellgraph server` on demand under
``<base_url>cellgraph/``).

The server is the npm package @cellgraph/server, found at start time by
:func:`cellgraph_jupyterlab.cli.find_cli` (``CELLGRAPH_CLI``, the project's
``node_modules/.bin`` from the Jupyter root up, then ``PATH``). When there is none, a stand-in
answers every request with what to install, which the extension's banner shows.
"""
import logging
import os
import secrets
import sys
from pathlib import Path

from .cli import INSTALL_HINT, find_cli

__version__ = "0.1.0"

_log = logging.getLogger("cellgraph_jupyterlab")


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "@cellgraph/jupyterlab"}]


def _jupyter_server_extension_points():
    return [{"module": "cellgraph_jupyterlab"}]


def _load_jupyter_server_extension(server_app):
    """Serves the production target's settings and its token-adding proxy (see production.py)."""
    from .production import handlers

    web_app = server_app.web_app
    web_app.add_handlers(".*$", handlers(web_app.settings["base_url"]))


def _root_dir() -> Path:
    """The running Jupyter server's root directory (where notebook paths are relative to)."""
    try:
        from jupyter_server.serverapp import ServerApp

        if ServerApp.initialized():
            return Path(ServerApp.instance().root_dir)
    except ImportError:
        pass
    return Path(os.getcwd())


def _command(port: int) -> list:
    """Called by jupyter-server-proxy when the server is first needed: the lookup sees the
    environment and the project as they are then, not as they were at JupyterLab's start."""
    root = _root_dir()
    found = find_cli(root)
    if found is None:
        _log.warning("[cellgraph] %s (looked in CELLGRAPH_CLI, %s/node_modules/.bin and above, PATH)", INSTALL_HINT, root)
        return [sys.executable, "-m", "cellgraph_jupyterlab.missing_cli", str(port), INSTALL_HINT]
    _log.info("[cellgraph] starting %s (from %s)", " ".join(found.command), found.source)
    # Notebook paths the extension sends are relative to the Jupyter root: the server's workdir.
    return [*found.command, "server", "--host", "127.0.0.1", "--port", str(port), "--workdir", str(root)]


def setup_cellgraph():
    """jupyter-server-proxy entry point: how to start the cellgraph server on a free port."""
    # The server keeps its bearer-token auth; the proxy, which only lets Jupyter-authenticated
    # requests through, adds the token, so the browser never sees it.
    token = secrets.token_urlsafe(32)
    return {
        "command": _command,
        "environment": {"CELLGRAPH_TOKEN": token},
        "request_headers_override": {"Authorization": f"Bearer {token}"},
        "timeout": 30,
        "absolute_url": False,
        "launcher_entry": {"enabled": False},
    }
