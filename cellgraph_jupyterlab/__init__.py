"""cellgraph for JupyterLab: the prebuilt labextension and the companion server behind
Jupyter's own auth (jupyter-server-proxy starts `cellgraph server` on demand under
``<base_url>cellgraph/``).

The package lives in the cellgraph repository and is installed from it (``pip install -e .``
by ``scripts/setup.sh``), so the server it starts is this repository's build.
"""
import os
import secrets
import shutil
from pathlib import Path

__version__ = "0.1.0"

_REPO = Path(__file__).resolve().parent.parent


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "@cellgraph/jupyterlab"}]


def setup_cellgraph():
    """jupyter-server-proxy entry point: how to start the cellgraph server on a free port."""
    cli = os.environ.get("CELLGRAPH_CLI", str(_REPO / "server" / "dist" / "cli" / "main.js"))
    node = shutil.which("node") or "node"
    # The server keeps its bearer-token auth; the proxy, which only lets Jupyter-authenticated
    # requests through, adds the token, so the browser never sees it.
    token = secrets.token_urlsafe(32)
    return {
        "command": [node, cli, "server", "--host", "127.0.0.1", "--port", "{port}"],
        "environment": {"CELLGRAPH_TOKEN": token},
        "request_headers_override": {"Authorization": f"Bearer {token}"},
        "timeout": 30,
        "absolute_url": False,
        "launcher_entry": {"enabled": False},
    }
