"""How cellgraph-jupyterlab finds the `cellgraph` it starts, and what it serves when there is
none (run: ``.venv/bin/python -m unittest discover -s cellgraph_jupyterlab/tests -t .``)."""
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

import cellgraph_jupyterlab
from cellgraph_jupyterlab.cli import INSTALL_HINT, find_cli

NOWHERE = Path("/nonexistent/cellgraph/main.js")


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/usr/bin/env node\n")
    path.chmod(0o755)
    return path


class FindCli(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="cg-find-cli-")).resolve()
        self.bin = self.tmp / "bin"  # stands in for PATH
        executable(self.bin / "node")
        self.env = {"PATH": str(self.bin)}
        self.node = str(self.bin / "node")

    def tearDown(self):
        subprocess.run(["rm", "-rf", str(self.tmp)], check=True)

    def find(self, root, **env):
        return find_cli(root, {**self.env, **env}, checkout_cli=NOWHERE)

    def test_the_projects_node_modules_from_the_jupyter_root_or_a_parent(self):
        cli = executable(self.tmp / "project" / "node_modules" / "@cellgraph" / "server" / "bin" / "cellgraph")
        link = self.tmp / "project" / "node_modules" / ".bin" / "cellgraph"
        link.parent.mkdir(parents=True)
        link.symlink_to(cli)
        found = self.find(self.tmp / "project")
        self.assertEqual(list(found.command), [self.node, str(cli)])
        self.assertEqual(found.source, f"{self.tmp / 'project'}/node_modules")
        (self.tmp / "project" / "notebooks").mkdir()
        self.assertEqual(list(self.find(self.tmp / "project" / "notebooks").command), [self.node, str(cli)])

    def test_cellgraph_cli_wins_then_node_modules_then_path(self):
        executable(self.tmp / "project" / "node_modules" / ".bin" / "cellgraph")
        on_path = executable(self.bin / "cellgraph")
        main_js = self.tmp / "elsewhere" / "dist" / "cli" / "main.js"
        found = self.find(self.tmp / "project", CELLGRAPH_CLI=str(main_js))
        self.assertEqual((list(found.command), found.source), ([self.node, str(main_js)], "CELLGRAPH_CLI"))
        found = self.find(self.tmp / "project", CELLGRAPH_CLI="/opt/cellgraph")
        self.assertEqual(list(found.command), ["/opt/cellgraph"])
        self.assertEqual(self.find(self.tmp / "project").source, f"{self.tmp / 'project'}/node_modules")
        (self.tmp / "other").mkdir()
        found = self.find(self.tmp / "other")
        self.assertEqual((list(found.command), found.source), ([self.node, str(on_path)], "PATH"))

    def test_none_found(self):
        (self.tmp / "empty").mkdir()
        self.assertIsNone(self.find(self.tmp / "empty"))

    def test_the_proxy_command_starts_the_server_in_the_jupyter_root_or_the_stand_in(self):
        executable(self.tmp / "project" / "node_modules" / ".bin" / "cellgraph")
        (self.tmp / "empty").mkdir()
        config = cellgraph_jupyterlab.setup_cellgraph()
        self.assertTrue(callable(config["command"]))
        self.assertTrue(config["request_headers_override"]["Authorization"].startswith("Bearer "))
        with mock.patch.dict(os.environ, self.env, clear=False), mock.patch.object(cellgraph_jupyterlab, "_root_dir", return_value=self.tmp / "project"):
            os.environ.pop("CELLGRAPH_CLI", None)
            command = config["command"](4321)
        self.assertEqual(command[-9:], ["server", "--host", "127.0.0.1", "--port", "4321", "--workdir", str(self.tmp / "project"), "--grace-seconds", "5"])
        self.assertEqual(config["environment"]["CELLGRAPH_EXIT_WITH_PID"], str(os.getpid()))
        # (Without the editable checkout this test suite may be running from.)
        no_checkout = mock.patch("cellgraph_jupyterlab.find_cli", lambda root: find_cli(root, checkout_cli=NOWHERE))
        with mock.patch.dict(os.environ, self.env, clear=False), mock.patch.object(cellgraph_jupyterlab, "_root_dir", return_value=self.tmp / "empty"), no_checkout:
            os.environ.pop("CELLGRAPH_CLI", None)
            with self.assertLogs("cellgraph_jupyterlab", "WARNING") as logs:
                command = config["command"](4321)
        self.assertEqual(command, [sys.executable, "-m", "cellgraph_jupyterlab.missing_cli", "4321", INSTALL_HINT])
        self.assertIn("npm install @cellgraph/server", logs.output[0])


class MissingCliStandIn(unittest.TestCase):
    def test_answers_every_request_with_503_and_what_to_install(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([sys.executable, "-m", "cellgraph_jupyterlab.missing_cli", str(port), INSTALL_HINT], stderr=subprocess.PIPE)
        try:
            for path, method in (("/api/v1/health", "GET"), ("/api/v1/compile", "POST")):
                deadline = time.monotonic() + 10
                while True:
                    try:
                        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=b"{}" if method == "POST" else None))
                        self.fail("expected 503")
                    except urllib.error.HTTPError as e:
                        self.assertEqual(e.code, 503)
                        self.assertTrue(e.headers["content-type"].startswith("text/plain"))
                        self.assertEqual(e.read().decode(), INSTALL_HINT)
                        break
                    except urllib.error.URLError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.1)
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=10)
        self.assertIn(INSTALL_HINT, err.decode())


if __name__ == "__main__":
    unittest.main()
