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
import signal
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


# How long the development server lets runs in flight finish once JupyterLab stops (it dies
# with JupyterLab: its runs and schedules stop too).
_GRACE_SECONDS = 5


def _keep_jupyter_shutdown() -> None:
    """Makes SIGTERM shut JupyterLab down as Jupyter does, kernels included.

    jupyter-server-proxy's process supervisor (simpervisor) takes SIGTERM and SIGINT over the
    first time it starts a process: its handler forwards the signal to the proxied processes,
    then calls ``sys.exit(0)``, so the Jupyter server never runs its own shutdown and the
    kernels (each in a session of its own) outlive it. Called before the supervisor starts our
    server, this marks its handlers as installed and puts one in place for SIGTERM that forwards
    the signal to the proxied processes (theirs, and so ours) and then calls Jupyter's handler.
    SIGINT stays Jupyter's (it asks before stopping); the server also watches Jupyter's PID
    (CELLGRAPH_EXIT_WITH_PID), so it stops with Jupyter however Jupyter ends.
    """
    try:
        from simpervisor import atexitasync
    except ImportError:
        return
    if atexitasync.signal_handler_set:
        return
    jupyter_term = signal.getsignal(signal.SIGTERM)

    def forward_then_jupyter(signum, frame):
        for handler in list(atexitasync._handlers):
            handler(signum)
        if callable(jupyter_term):
            jupyter_term(signum, frame)
        else:
            # Jupyter installed none (not a full server app): the default action, ending the process.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    try:
        signal.signal(signal.SIGTERM, forward_then_jupyter)
    except ValueError:
        return  # not the main thread: leave the supervisor's behaviour
    atexitasync.signal_handler_set = True


def _command(port: int) -> list:
    """Called by jupyter-server-proxy when the server is first needed: the lookup sees the
    environment and the project as they are then, not as they were at JupyterLab's start."""
    _keep_jupyter_shutdown()
    root = _root_dir()
    found = find_cli(root)
    if found is None:
        _log.warning("[cellgraph] %s (looked in CELLGRAPH_CLI, %s/node_modules/.bin and above, PATH)", INSTALL_HINT, root)
        return [sys.executable, "-m", "cellgraph_jupyterlab.missing_cli", str(port), INSTALL_HINT]
    _log.info("[cellgraph] starting %s (from %s)", " ".join(found.command), found.source)
    # Notebook paths the extension sends are relative to the Jupyter root: the server's workdir.
    return [*found.command, "server", "--host", "127.0.0.1", "--port", str(port), "--workdir", str(root), "--grace-seconds", str(_GRACE_SECONDS)]


def setup_cellgraph():
    """jupyter-server-proxy entry point: how to start the cellgraph server on a free port."""
    # The server keeps its bearer-token auth; the proxy, which only lets Jupyter-authenticated
    # requests through, adds the token, so the browser never sees it.
    token = secrets.token_urlsafe(32)
    return {
        "command": _command,
        # The server stops when this Jupyter server's process ends (see _keep_jupyter_shutdown).
        "environment": {"CELLGRAPH_TOKEN": token, "CELLGRAPH_EXIT_WITH_PID": str(os.getpid())},
        "request_headers_override": {"Authorization": f"Bearer {token}"},
        "timeout": 30,
        "absolute_url": False,
        "launcher_entry": {"enabled": False},
    }
