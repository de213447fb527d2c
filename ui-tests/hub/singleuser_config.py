"""Each user's single-user Jupyter server in the Hub UI tests (passed by hub/setup.js through the
spawner's arguments): the cellgraph server extension on (an editable install has no
jupyter-config of its own), and JupyterLab's app reachable from the page for the helpers."""
c.ServerApp.jpserver_extensions.update({"cellgraph_jupyterlab": True})  # noqa: F821
c.LabApp.expose_app_in_browser = True  # noqa: F821
# No news or update check popping over what the tests click.
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"  # noqa: F821
