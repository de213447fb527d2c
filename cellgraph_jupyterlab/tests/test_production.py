"""The production target behind the Jupyter server: its settings (the token write-only, checked
on save, kept 0600) and the proxy that adds the token, with a real `cellgraph server` (token
required) and a real Jupyter server.

Run: ``PATH=<node 24>/bin:$PATH .venv/bin/python -m unittest cellgraph_jupyterlab.tests.test_production``
(the integration case needs the repository's ``node_modules/.bin/cellgraph`` and Node 24; it is
skipped, saying so, without them).
"""
import http.client
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

from cellgraph_jupyterlab import production

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "node_modules" / ".bin" / "cellgraph"
TOKEN = "prod-token-0123456789abcdef"
LAB_TOKEN = "lab-token-0123456789"


# A one-task workflow that stays running for a while without using the CPU.
SLEEPER = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "tslab", "display_name": "TypeScript", "language": "typescript"}},
    "cells": [
        {
            "cell_type": "code",
            "id": "wait",
            "metadata": {"cellgraph": {"task": "wait"}},
            "execution_count": None,
            "outputs": [],
            "source": "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);\nconst waited = 1;",
        }
    ],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.3)


class Settings(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="cg-prod-settings-"))
        self.env = mock.patch.dict(os.environ, {"CELLGRAPH_PRODUCTION_FILE": str(self.tmp / "cg" / "production.json")})
        self.env.start()
        os.environ.pop("CELLGRAPH_PRODUCTION_URL", None)
        os.environ.pop("CELLGRAPH_PRODUCTION_TOKEN", None)

    def tearDown(self):
        self.env.stop()
        shutil.rmtree(self.tmp)

    def test_saved_readable_by_the_owner_only(self):
        production.save("http://127.0.0.1:9/", TOKEN)
        path = self.tmp / "cg" / "production.json"
        self.assertEqual(stat.S_IMODE(path.stat().st_mode), 0o600)
        self.assertEqual(production.load(), ("http://127.0.0.1:9/", TOKEN, "file"))

    def test_the_environment_wins_over_the_file(self):
        production.save("http://127.0.0.1:9/", TOKEN)
        with mock.patch.dict(os.environ, {"CELLGRAPH_PRODUCTION_URL": "https://cg.example.org/", "CELLGRAPH_PRODUCTION_TOKEN": "t"}):
            self.assertEqual(production.load(), ("https://cg.example.org/", "t", "environment"))

    def test_nothing_configured(self):
        self.assertEqual(production.load(), (None, None, "none"))

    def test_inside_jupyterhub_the_admins_url_gets_the_users_hub_token(self):
        hub = {"JUPYTERHUB_API_TOKEN": "hub-token-of-alice", "JUPYTERHUB_USER": "alice"}
        with mock.patch.dict(os.environ, {**hub, "CELLGRAPH_PRODUCTION_URL": "https://cg.example.org/"}):
            self.assertEqual(production.credentials(), ("https://cg.example.org/", "hub-token-of-alice", "environment", "jupyterhub"))
            described = production.describe()
            self.assertEqual((described["identity"], described["hubUser"], described["hasToken"]), ("jupyterhub", "alice", True))
            self.assertNotIn("hub-token-of-alice", json.dumps(described))
        # An explicit token wins: the admin chose it.
        with mock.patch.dict(os.environ, {**hub, "CELLGRAPH_PRODUCTION_URL": "https://cg.example.org/", "CELLGRAPH_PRODUCTION_TOKEN": "t"}):
            self.assertEqual(production.credentials()[1:], ("t", "environment", "token"))

    def test_a_url_typed_in_the_dialog_never_gets_the_hub_token(self):
        production.save("http://127.0.0.1:9/", None)
        with mock.patch.dict(os.environ, {"JUPYTERHUB_API_TOKEN": "hub-token-of-alice"}):
            self.assertEqual(production.credentials(), ("http://127.0.0.1:9/", None, "file", "none"))

    def test_a_bad_url_is_refused_naming_the_field(self):
        for bad in ["", "ftp://x/", "127.0.0.1:9", "http://x/?a=1", None, 3]:
            with self.assertRaisesRegex(ValueError, "^url: "):
                production.check_url(bad)
        self.assertEqual(production.check_url(" http://127.0.0.1:9 "), "http://127.0.0.1:9/")


def node_ok() -> bool:
    """Node >= 22.12 first on PATH (the server's native modules are built for it)."""
    try:
        version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip().lstrip("v")
    except (OSError, subprocess.CalledProcessError):
        return False
    major, minor = (int(x) for x in version.split(".")[:2])
    return major > 22 or (major == 22 and minor >= 12)


@unittest.skipUnless(CLI.exists() and node_ok(), f"needs {CLI} and Node >= 22.12 first on PATH (source scripts/node.sh)")
class ThroughJupyter(unittest.TestCase):
    """A real production server (token required) behind a real Jupyter server with the extension."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="cg-prod-"))
        workdir = cls.tmp / "prod"
        workdir.mkdir()
        shutil.copy(REPO / "examples" / "hello" / "hello.ipynb", workdir / "hello.ipynb")
        (workdir / "sleeper.ipynb").write_text(json.dumps(SLEEPER))
        (workdir / "node_modules").symlink_to(REPO / "node_modules")
        cls.prod_port, cls.lab_port = free_port(), free_port()
        cls.prod_url = f"http://127.0.0.1:{cls.prod_port}"
        cls.procs = [
            subprocess.Popen(
                [str(CLI), "server", "--host", "127.0.0.1", "--port", str(cls.prod_port), "--workdir", str(workdir)],
                env={**os.environ, "CELLGRAPH_TOKEN": TOKEN},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            subprocess.Popen(
                [
                    sys.executable, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={cls.lab_port}",
                    f"--IdentityProvider.token={LAB_TOKEN}", "--ServerApp.jpserver_extensions={'cellgraph_jupyterlab': True}",
                    "--ServerApp.open_browser=False", "--allow-root", f"--ServerApp.root_dir={cls.tmp}",
                ],
                env={**os.environ, "CELLGRAPH_PRODUCTION_FILE": str(cls.tmp / "production.json"), "PYTHONPATH": str(REPO)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        ]
        cls.lab = f"http://127.0.0.1:{cls.lab_port}"
        wait_for(f"{cls.prod_url}/api/v1/health")
        wait_for(f"{cls.lab}/api/status")

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            p.terminate()
        for p in cls.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def call(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.lab}/{path}", data=data, method=method, headers={"Authorization": f"token {LAB_TOKEN}", "Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=180) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read().decode()

    def test_0_nothing_configured_is_said_not_forwarded(self):
        status, _, text = self.call("GET", "cellgraph-targets/production/api/v1/runs")
        self.assertEqual((status, json.loads(text)["error"]["code"]), (404, "not-found"))
        self.assertIn("no production server configured", text)

    def test_1_settings_refuse_a_wrong_token_and_never_give_the_token_back(self):
        status, _, text = self.call("PUT", "cellgraph-targets/production", {"url": self.prod_url, "token": "wrong-0123456789"})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(text)["error"]["field"], "token")
        status, _, text = self.call("PUT", "cellgraph-targets/production", {"url": f"http://127.0.0.1:{free_port()}", "token": TOKEN})
        self.assertEqual((status, json.loads(text)["error"]["field"]), (400, "url"))
        self.assertFalse((self.tmp / "production.json").exists())
        status, _, text = self.call("PUT", "cellgraph-targets/production", {"url": self.prod_url, "token": TOKEN})
        self.assertEqual(status, 200, text)
        status, _, text = self.call("GET", "cellgraph-targets/production")
        self.assertEqual(json.loads(text), {"configured": True, "url": f"{self.prod_url}/", "hasToken": True, "source": "file"})
        self.assertNotIn(TOKEN, text)
        self.assertEqual(stat.S_IMODE((self.tmp / "production.json").stat().st_mode), 0o600)

    def test_2_calls_are_forwarded_with_the_token_and_run_events_stream_through(self):
        self.call("PUT", "cellgraph-targets/production", {"url": self.prod_url, "token": TOKEN})
        status, _, text = self.call("POST", "cellgraph-targets/production/api/v1/workflows/promote", {"notebookPath": "hello.ipynb", "run": True, "params": {}})
        self.assertEqual(status, 201, text)  # the server's own status comes through
        run_id = json.loads(text)["run"]["runId"]
        # The run's Server-Sent Events, through the proxy, until the server ends them with the run.
        status, ctype, stream = self.call("GET", f"cellgraph-targets/production/api/v1/runs/{run_id}/events", headers={"Accept": "text/event-stream"})
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/event-stream"), ctype)
        self.assertIn("data:", stream)
        status, _, text = self.call("GET", f"cellgraph-targets/production/api/v1/runs/{run_id}")
        self.assertEqual(json.loads(text)["status"], "succeeded", text)
        # The server's own errors come through as they are (JSON, status).
        status, _, text = self.call("GET", "cellgraph-targets/production/api/v1/runs/r-nope")
        self.assertEqual((status, json.loads(text)["error"]["code"]), (404, "not-found"))

    def test_4_streams_of_followed_runs_do_not_stall_other_calls(self):
        self.call("PUT", "cellgraph-targets/production", {"url": self.prod_url, "token": TOKEN})
        status, _, text = self.call("POST", "cellgraph-targets/production/api/v1/workflows/promote", {"notebookPath": "sleeper.ipynb", "run": True, "params": {}})
        self.assertEqual(status, 201, text)
        run_id = json.loads(text)["run"]["runId"]
        # More open event streams than tornado's default client allows at once (10).
        streams = []
        for _ in range(12):
            c = http.client.HTTPConnection("127.0.0.1", self.lab_port, timeout=30)
            c.request("GET", f"/cellgraph-targets/production/api/v1/runs/{run_id}/events", headers={"Authorization": f"token {LAB_TOKEN}", "Accept": "text/event-stream"})
            self.assertEqual(c.getresponse().status, 200)
            streams.append(c)
        started = time.time()
        status, _, text = self.call("GET", f"cellgraph-targets/production/api/v1/runs/{run_id}")
        self.assertEqual((status, json.loads(text)["status"]), (200, "running"))
        self.assertLess(time.time() - started, 5)
        # The browser going away (a run no longer followed) leaves the proxy working.
        for c in streams:
            c.close()
        status, _, _ = self.call("POST", f"cellgraph-targets/production/api/v1/runs/{run_id}/cancel")
        self.assertEqual(status, 200)

    def test_3_only_api_paths_are_forwarded(self):
        status, _, _ = self.call("GET", "cellgraph-targets/production/openapi.json")
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
