"""Finding the `cellgraph` command line the companion server is started from.

The Python package ships no JavaScript besides the labextension: the server is the npm
package @cellgraph/server, installed into the user's project (or globally). The lookup order,
first match wins:

1. ``CELLGRAPH_CLI``: a path to the ``cellgraph`` executable or to its ``dist/cli/main.js``;
2. ``node_modules/.bin/cellgraph`` in the Jupyter root directory, then in each parent
   (where ``npm install @cellgraph/server`` in the project puts it);
3. ``cellgraph`` on ``PATH`` (``npm install -g @cellgraph/server``);
4. the checkout this package was installed from in editable mode (development only).
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

#: What to install when no CLI is found; the extension's banner and the log show it.
INSTALL_HINT = (
    "cellgraph-jupyterlab starts the cellgraph server from the npm package @cellgraph/server, "
    "and found none. Install it into the folder JupyterLab starts in "
    "(`npm install @cellgraph/server tslab`, Node >= 22.12), or globally "
    "(`npm install -g @cellgraph/server`), or point CELLGRAPH_CLI at a `cellgraph` executable; "
    "then restart JupyterLab."
)

_CHECKOUT_CLI = Path(__file__).resolve().parent.parent / "server" / "dist" / "cli" / "main.js"


@dataclass(frozen=True)
class FoundCli:
    """The command that runs `cellgraph` (without its arguments) and where it came from."""

    command: Sequence[str]
    source: str


def _command_for(path: Path, node: Optional[str]) -> list[str]:
    # A .js entry needs node in front; the bin script has a `#!/usr/bin/env node` line, but an
    # explicit node keeps the one JupyterLab found on PATH and works where shebangs do not.
    return [node or "node", str(path)]


def find_cli(root_dir: Path, env: Mapping[str, str] = os.environ, checkout_cli: Path = _CHECKOUT_CLI) -> Optional[FoundCli]:
    """The first `cellgraph` of the lookup order above, or None when there is none."""
    path_var = env.get("PATH", os.defpath)
    node = shutil.which("node", path=path_var)
    explicit = env.get("CELLGRAPH_CLI", "").strip()
    if explicit:
        p = Path(explicit).expanduser()
        if p.suffix == ".js":
            return FoundCli(_command_for(p, node), "CELLGRAPH_CLI")
        return FoundCli([str(p)], "CELLGRAPH_CLI")
    root = Path(root_dir).expanduser().resolve()
    for directory in (root, *root.parents):
        candidate = directory / "node_modules" / ".bin" / "cellgraph"
        if candidate.exists():
            return FoundCli(_command_for(candidate.resolve(), node), f"{directory}/node_modules")
    on_path = shutil.which("cellgraph", path=path_var)
    if on_path:
        return FoundCli(_command_for(Path(on_path).resolve(), node), "PATH")
    if checkout_cli.exists():
        return FoundCli(_command_for(checkout_cli, node), "the cellgraph checkout")
    return None
