"""Nothing of ours outlives JupyterLab: a real JupyterLab with a tslab kernel and the proxied
cellgraph server (started by a request through jupyter-server-proxy) gets SIGTERM; every
process it started, found by walking the process tree by PID before the signal, must be gone
soon after. Before the fix, jupyter-server-proxy's supervisor took SIGTERM over and exited
without Jupyter's shutdown, leaving the kernel running.
(run: ``.venv/bin/python -m unittest cellgraph_jupyterlab.tests.test_shutdown``)"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
JUPYTER = Path(sys.executable).parent / "jupyter"
TOKEN = "shutdown-test-token-0123456789"


def children_of(pid: int) -> list:
    """Every descendant of `pid`, read from /proc (kernels run in sessions of their own, but their parent is still Jupyter)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the ppid is the 2nd field after it.
        parents[int(entry)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found.extend(kids)
        frontier.extend(kids)
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1].split()[0] != "Z"  # a zombie has ended
    except OSError:
        return False


def command_of(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


@unittest.skipUnless(JUPYTER.exists() and (REPO / "node_modules" / "tslab").exists(), "needs the set-up's .venv with JupyterLab and tslab")
class SigtermStopsEverything(unittest.TestCase):
    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="cg-shutdown-"))
        (self.root / "node_modules").symlink_to(REPO / "node_modules")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(self.root / ".jupyter-config"), "CELLGRAPH_PRODUCTION_FILE": str(self.root / "production.json")}
        self.log = open(self.root / "jupyter.log", "wb")
        self.lab = subprocess.Popen(
            [str(JUPYTER), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={self.port}", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={self.root}"],
            cwd=self.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.started = []

    def tearDown(self):
        # Whatever the test got to: JupyterLab and everything under it now, and what it recorded.
        for pid in [*children_of(self.lab.pid), self.lab.pid, *self.started]:
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.lab.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def call(self, path, method="GET", body=None, timeout=10):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read()

    def wait_for(self, what, check, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                result = check()
                if result:
                    return result
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.3)
        self.fail(f"timed out waiting for {what}; jupyter log:\n{(self.root / 'jupyter.log').read_text()[-3000:]}")

    def test_sigterm_leaves_no_kernel_and_no_cellgraph_server(self):
        self.wait_for("JupyterLab", lambda: self.call("/api/status")[0] == 200, 60)
        status, body = self.call("/api/kernels", "POST", {"name": "tslab"})
        self.assertEqual(status, 201)
        kernel = json.loads(body)["id"]
        self.assertTrue(kernel)
        self.wait_for("the tslab kernel process", lambda: any("tslab" in command_of(p) for p in children_of(self.lab.pid)), 60)
        # The first request through the proxy starts the cellgraph server.
        self.wait_for("the proxied cellgraph server", lambda: self.call("/cellgraph/api/v1/health", timeout=40)[0] == 200, 60)

        self.started = children_of(self.lab.pid)
        commands = {pid: command_of(pid) for pid in self.started}
        self.assertTrue(any("tslab" in c and "kernel" in c for c in commands.values()), commands)
        self.assertTrue(any(" server " in f" {c} " and "--workdir" in c for c in commands.values()), commands)

        self.lab.send_signal(signal.SIGTERM)
        self.lab.wait(timeout=60)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(alive(p) for p in self.started):
            time.sleep(0.2)
        left = {pid: commands[pid] for pid in self.started if alive(pid)}
        self.assertEqual(left, {}, f"processes JupyterLab started outlived it; jupyter log:\n{(self.root / 'jupyter.log').read_text()[-3000:]}")


if __name__ == "__main__":
    unittest.main()
