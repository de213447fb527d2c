"""JupyterLab for the UI tests: Galata's test configuration (no token, the test helpers
extension), on 127.0.0.1 and the port the Playwright config chose, rooted in a temporary
directory seeded with the examples (see playwright.config.js)."""
import os

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 (c is Jupyter's config object)
c.ServerApp.ip = "127.0.0.1"  # noqa: F821
c.ServerApp.port = int(os.environ["CELLGRAPH_UI_PORT"])  # noqa: F821
# CI runs as root in a throwaway machine; JupyterLab refuses that unless told.
c.ServerApp.allow_root = True  # noqa: F821
# cellgraph-jupyterlab's server extension (the production target, cellgraph_jupyterlab/production.py):
# enabled by the wheel's jupyter-config; said here too for an editable install, which has none.
c.ServerApp.jpserver_extensions.update({"cellgraph_jupyterlab": True})  # noqa: F821
# Production settings of this run only: never the user's ~/.jupyter.
if not os.environ.get("CELLGRAPH_PRODUCTION_FILE"):
    import tempfile

    os.environ["CELLGRAPH_PRODUCTION_FILE"] = os.path.join(tempfile.mkdtemp(prefix="cg-ui-production-"), "production.json")
