"""A real JupyterHub with simulated students (`make test-hub`; not part of `make test`).

Starts hub/jupyterhub_config.py on loopback (dummy authenticator, one local process per student, the idle culler,
configurable-http-proxy), then HUB_STUDENTS (default 4) students *at the same time* each: get a server, open the
nbgitpuller link to a local clone of this repository (the link page, then the pull its page runs), open
HUB_NOTEBOOK (default 02_shift_sensitivity) and run every code cell top to bottom through the server's kernel
websocket, save the executed notebook with a note of their own, and write an answers file. Measured per student:
peak RSS (VmHWM) of the kernel and of the server, their CPU-seconds, the wall time of the whole run; errors are
cells that failed other than the exercise stubs (tagged raises-exception). Then the clone gets a new commit that
changes the same notebook and adds a file, every student pulls again, and nothing a student wrote may be lost
(nbgitpuller merges with -Xours). Results: build/hub/results.json and a table on stdout.

Then notebook 09's class experiment: every student, in a kernel of their own server, answers the triplet set through
the judging panel (a simulated observer, own seed), which saves to the exchange folder the hub points
PERCEPKIT_ANSWERS_DIR at; the instructor pools that folder with pk.pool_answers, and nothing may be lost or mixed
(build/hub/class_experiment.json).
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

pytest.importorskip("jupyterhub", reason="`make test-hub` installs JupyterHub (the [class] extra)")
pytest.importorskip("nbgitpuller")
requests = pytest.importorskip("requests")
websocket = pytest.importorskip("websocket")
psutil = pytest.importorskip("psutil")

ROOT = Path(__file__).resolve().parents[1]
N = int(os.environ.get("HUB_STUDENTS", "4"))
NOTEBOOK = os.environ.get("HUB_NOTEBOOK", "02_shift_sensitivity")
OUT = ROOT / "build" / "hub"

if not shutil.which("configurable-http-proxy"):
    pytest.skip("configurable-http-proxy is not on PATH (`make test-hub` installs it with npm)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git(*args, cwd):
    return subprocess.run(["git", "-c", "user.name=instructor", "-c", "user.email=i@example.edu", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout.strip()


class Hub:
    def __init__(self, tmp: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(16)
        self.state = tmp / "state"
        env = {**os.environ, "PERCEPKIT_HUB_TEST": "1", "PERCEPKIT_HUB_STATE": str(self.state),
               "PERCEPKIT_HUB_PORT": str(self.port), "PERCEPKIT_HUB_INTERNAL_PORT": str(free_port()),
               "PERCEPKIT_HUB_PROXY_API_PORT": str(free_port()), "PERCEPKIT_HUB_PASSWORD": secrets.token_hex(8),
               "PERCEPKIT_HUB_API_TOKEN": self.token,
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        self.state.mkdir(parents=True)
        self.log = open(tmp / "jupyterhub.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(ROOT / "hub/jupyterhub_config.py")],
                                     cwd=self.state, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 90
        while time.time() < deadline:
            assert self.proc.poll() is None, (tmp / "jupyterhub.log").read_text()[-3000:]
            try:
                if requests.get(f"{self.url}/hub/api/", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        raise AssertionError("the hub did not answer within 90 s")

    def api(self, method, path, token=None, **kw):
        r = requests.request(method, f"{self.url}/hub/api{path}", headers={"Authorization": f"token {token or self.token}"},
                             timeout=120, **kw)
        assert r.status_code < 400, f"{method} {path}: {r.status_code} {r.text[:500]}"
        return r.json() if r.content else None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        pid = self.state / "jupyterhub-proxy.pid"
        if pid.exists():
            try:
                os.kill(int(pid.read_text()), 15)
            except (ProcessLookupError, ValueError):
                pass
        self.log.close()


def proc_of(pred):
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            if pred(" ".join(p.info["cmdline"] or []), p):
                return p
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return None


def vm_hwm_mb(p) -> float:
    for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(p) -> float:
    t = p.cpu_times()
    return t.user + t.system


class Student:
    def __init__(self, hub: Hub, name: str, upstream: Path, branch: str):
        self.hub, self.name, self.upstream, self.branch = hub, name, upstream, branch
        self.base = f"{hub.url}/user/{name}"
        self.result = {"student": name, "errors": [], "expected_errors": 0}

    def get(self, path, **kw):
        return requests.get(f"{self.base}{path}", headers=self.h, timeout=300, **kw)

    def pull(self) -> list[dict]:
        q = urllib.parse.urlencode({"repo": f"file://{self.upstream}", "branch": self.branch, "targetpath": "percepkit"})
        events = []
        with self.get(f"/git-pull/api?{q}", stream=True) as r:
            assert r.ok, r.text[:500]
            for line in r.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    events.append(json.loads(line[5:]))
                    if events[-1].get("phase") in ("finished", "error"):
                        break
        assert events and events[-1]["phase"] == "finished", events[-3:]
        return events

    def start(self):
        """Sign up (if new), start the server (if not running) and get a token."""
        hub = self.hub
        if requests.get(f"{hub.url}/hub/api/users/{self.name}", headers={"Authorization": f"token {hub.token}"},
                        timeout=60).status_code == 404:
            hub.api("POST", f"/users/{self.name}")
        if not hub.api("GET", f"/users/{self.name}")["servers"].get("", {}).get("ready"):
            hub.api("POST", f"/users/{self.name}/server")
            while not (hub.api("GET", f"/users/{self.name}")["servers"].get("", {}).get("ready")):
                time.sleep(0.5)
        if not hasattr(self, "h"):
            token = hub.api("POST", f"/users/{self.name}/tokens", json={"note": "simulated student"})["token"]
            self.h = {"Authorization": f"token {token}"}

    def run(self):
        t0 = time.perf_counter()
        hub = self.hub
        self.start()
        self.result["server_start_s"] = time.perf_counter() - t0
        # the nbgitpuller link as a student clicks it: the hub redirects to their server's git-pull page…
        link = (f"{hub.url}/hub/user-redirect/git-pull?repo={urllib.parse.quote(f'file://{self.upstream}', safe='')}"
                f"&branch={self.branch}&targetpath=percepkit&urlpath=lab/tree/percepkit/notebooks/{NOTEBOOK}.ipynb")
        page = requests.get(link, headers=self.h, timeout=60)
        assert page.ok and "git-pull" in page.url and "<html" in page.text.lower(), (page.status_code, page.url)
        # …whose script runs the pull through the event-stream API
        self.pull()
        self.result["pulled_s"] = time.perf_counter() - t0
        path = f"percepkit/notebooks/{NOTEBOOK}.ipynb"
        nb = self.get(f"/api/contents/{path}").json()["content"]
        session = requests.post(f"{self.base}/api/sessions", headers=self.h, timeout=60,
                                json={"path": path, "type": "notebook", "kernel": {"name": "python3"}}).json()
        kid = session["kernel"]["id"]
        self.execute(nb, kid)
        kernel = proc_of(lambda cmd, p: "ipykernel" in cmd and kid in cmd)
        server = proc_of(lambda cmd, p: "jupyterhub-singleuser" in cmd and p.environ().get("JUPYTERHUB_USER") == self.name)
        self.result.update(kernel_peak_rss_mb=vm_hwm_mb(kernel), kernel_cpu_s=cpu_s(kernel),
                           server_peak_rss_mb=vm_hwm_mb(server), server_cpu_s=cpu_s(server),
                           run_s=time.perf_counter() - t0)
        # the student's own work: their executed notebook with a note, and an answers file
        nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": f"My notes ({self.name}): a shift is not a blur."})
        r = requests.put(f"{self.base}/api/contents/{path}", headers=self.h, timeout=60,
                         json={"type": "notebook", "format": "json", "content": nb})
        assert r.ok, r.text[:300]
        r = requests.put(f"{self.base}/api/contents/percepkit/my_answers.json", headers=self.h, timeout=60,
                         json={"type": "file", "format": "text", "content": json.dumps({"student": self.name})})
        assert r.ok, r.text[:300]
        requests.delete(f"{self.base}/api/sessions/{session['id']}", headers=self.h, timeout=60)

    def run_code(self, code: str, path: str) -> str:
        """Run one cell in a new kernel of the student's server; returns its printed output (errors fail)."""
        session = requests.post(f"{self.base}/api/sessions", headers=self.h, timeout=60,
                                json={"path": path, "type": "notebook", "kernel": {"name": "python3"}}).json()
        cell = {"cell_type": "code", "source": code, "metadata": {}}
        before = len(self.result["errors"])
        try:
            self.execute({"cells": [cell]}, session["kernel"]["id"])
        finally:
            requests.delete(f"{self.base}/api/sessions/{session['id']}", headers=self.h, timeout=60)
        assert len(self.result["errors"]) == before, self.result["errors"][before:]
        return "".join(o["text"] for o in cell["outputs"] if o.get("name") == "stdout")

    def execute(self, nb, kid):
        ws = websocket.create_connection(f"{self.base.replace('http', 'ws', 1)}/api/kernels/{kid}/channels",
                                         header=[f"Authorization: {self.h['Authorization']}"], timeout=600)
        session = uuid.uuid4().hex
        try:
            for i, cell in enumerate(nb["cells"]):
                if cell["cell_type"] != "code":
                    continue
                code = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                msg_id = uuid.uuid4().hex
                ws.send(json.dumps({"header": {"msg_id": msg_id, "username": self.name, "session": session,
                                               "msg_type": "execute_request", "version": "5.3"},
                                    "parent_header": {}, "metadata": {}, "channel": "shell",
                                    "content": {"code": code, "silent": False, "store_history": True,
                                                "user_expressions": {}, "allow_stdin": False, "stop_on_error": False}}))
                outputs, replied, idle = [], False, False
                while not (replied and idle):  # the reply (shell) and the last output (iopub) come in either order
                    raw = ws.recv()
                    if isinstance(raw, bytes):  # a message with binary buffers (a widget's image): not ours
                        continue
                    m = json.loads(raw)
                    if m.get("parent_header", {}).get("msg_id") != msg_id:
                        continue
                    kind = m["header"]["msg_type"]
                    if kind in ("stream", "display_data", "execute_result", "error"):
                        outputs.append({"output_type": kind, **{k: v for k, v in m["content"].items()
                                                               if k in ("name", "text", "data", "ename", "evalue")}})
                    if kind == "status" and m["content"].get("execution_state") == "idle":
                        idle = True
                    if m["channel"] == "shell" and kind == "execute_reply":
                        replied = True
                        if m["content"]["status"] != "ok":
                            if "raises-exception" in cell.get("metadata", {}).get("tags", []):
                                self.result["expected_errors"] += 1
                            else:
                                self.result["errors"].append(f"cell {i}: {m['content'].get('ename')}: "
                                                             f"{m['content'].get('evalue', '')[:200]}")
                cell["outputs"] = [o for o in outputs if o["output_type"] == "stream"]
                for o in cell["outputs"]:
                    o.pop("output_type")
                    o.update(output_type="stream")
        finally:
            ws.close()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hub")
    hub = Hub(tmp)
    yield hub, tmp
    hub.stop()


@pytest.fixture(scope="module")
def course(hub):
    """The course's repository: a local clone of this one; (path, branch)."""
    _, tmp = hub
    upstream = tmp / "percepkit"
    git("clone", "-q", "--no-hardlinks", str(ROOT), str(upstream), cwd=tmp)
    return upstream, git("rev-parse", "--abbrev-ref", "HEAD", cwd=upstream)


def test_students_at_once_then_pull_again_loses_nothing(hub, course):
    hub, tmp = hub
    upstream, branch = course
    students = [Student(hub, f"student{i}", upstream, branch) for i in range(N)]
    failures = []

    def go(s):
        try:
            s.run()
        except Exception as e:  # noqa: BLE001 - reported below, with every student's result
            failures.append(f"{s.name}: {type(e).__name__}: {e}")

    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    threads = [threading.Thread(target=go, args=(s,)) for s in students]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    hub_proc = psutil.Process(hub.proc.pid)
    proxy = proc_of(lambda cmd, p: "configurable-http-proxy" in cmd and str(hub.port) in cmd)
    results = {"students": N, "notebook": NOTEBOOK, "wall_s": wall, "load_before": load0, "load_after": os.getloadavg()[0],
               "cpus": os.cpu_count(), "hub_peak_rss_mb": vm_hwm_mb(hub_proc), "hub_cpu_s": cpu_s(hub_proc),
               "proxy_peak_rss_mb": vm_hwm_mb(proxy) if proxy else None, "per_student": [s.result for s in students],
               "failures": failures}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    print(f"\n{N} students at once, notebook {NOTEBOOK}: {wall:.0f} s wall on {os.cpu_count()} cores "
          f"(load {load0:.1f} before); hub {results['hub_peak_rss_mb']:.0f} MB, proxy {results['proxy_peak_rss_mb'] or 0:.0f} MB")
    print("student     start s  run s  kernel MB  kernel CPU-s  server MB  server CPU-s  errors")
    for r in results["per_student"]:
        print(f"{r['student']:10s} {r.get('server_start_s', 0):7.1f} {r.get('run_s', 0):6.0f}"
              f" {r.get('kernel_peak_rss_mb', 0):10.0f} {r.get('kernel_cpu_s', 0):13.1f}"
              f" {r.get('server_peak_rss_mb', 0):10.0f} {r.get('server_cpu_s', 0):13.1f}"
              f"  {len(r['errors'])}")
    assert not failures, failures
    for r in results["per_student"]:
        assert not r["errors"], r
        assert r["expected_errors"] >= 1, "the exercise stub raises until the student answers"

    # the instructor pushes a fix to the same notebook and a new file; every student pulls again
    nb_path = upstream / "notebooks" / f"{NOTEBOOK}.ipynb"
    nb = json.loads(nb_path.read_text())
    nb["cells"][0]["source"] = "".join(nb["cells"][0]["source"]) + "\n\n*Updated by the instructor.*"
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    (upstream / "notebooks" / "NEW_HANDOUT.md").write_text("# Week 2\n")
    git("add", "-A", cwd=upstream)
    git("commit", "-qm", "week 2", cwd=upstream)
    for s in students:
        s.pull()
        home = hub.state / "home" / s.name / "percepkit"
        mine = json.loads((home / "notebooks" / f"{NOTEBOOK}.ipynb").read_text())
        texts = ["".join(c["source"]) for c in mine["cells"]]
        assert any(f"My notes ({s.name})" in t for t in texts), "the student's note was lost"
        assert any(c.get("outputs") for c in mine["cells"] if c["cell_type"] == "code"), "the student's outputs were lost"
        assert json.loads((home / "my_answers.json").read_text()) == {"student": s.name}
        assert (home / "notebooks" / "NEW_HANDOUT.md").exists(), "the new file did not arrive"


# --- notebook 09's class experiment: every student's answers reach the instructor --------------------------------
# What each student's kernel runs: notebook 09's judging panel on the class's triplet set (64 px here: fast), answered
# by a simulated observer (a stand-in that follows L1, with the student's own lapse rate and seed). The panel saves
# with pk.save_answers to pk.judge.default_answers_dir(), which the hub points at the exchange folder.
STUDENT_CELL = """
import json
import percepkit as pk
tset = pk.make_triplets({size}, seed={set_seed})
d = [[float((t.reference - t.a).abs().mean()), float((t.reference - t.b).abs().mean())] for t in tset.triplets]
choices = pk.simulate_observer(tset, d, lapse={lapse}, seed={seed})
panel = pk.judge_panel(tset, scale=3, observer={name!r})
for c in choices:
    panel.choose(c)
if {practice}:  # a practice round on another set lands in the same folder; the instructor must not pool it
    other = pk.make_triplets({size}, seed={set_seed} + 1)
    pk.save_answers(pk.judge.default_answers_dir() / f"answers-{{other.fingerprint}}-practice.json", other,
                    pk.simulate_observer(other, seed={seed}), observer={name!r})
print(json.dumps({{"dir": str(pk.judge.default_answers_dir()), "path": str(panel.path), "set": tset.fingerprint,
                  "choices": choices}}))
"""
SET_SIZE, SET_SEED = 64, 0


def test_class_experiment_answer_files_reach_the_instructor(hub, course):
    import numpy as np

    import percepkit as pk

    hub, tmp = hub
    students = [Student(hub, f"student{i}", *course) for i in range(N)]
    said, failures = {}, []

    def go(k, s):
        try:
            s.start()
            s.pull()  # the link to lesson 09 (a no-op when already pulled)
            code = STUDENT_CELL.format(size=SET_SIZE, set_seed=SET_SEED, lapse=0.2 + 0.15 * k, seed=100 + k,
                                       name=s.name, practice=k == 0)
            # in a kernel of notebook 09's folder, as in class (a kernel started in the home folder would import
            # the pulled folder ~/percepkit as a namespace package instead of the installed percepkit)
            out = s.run_code(code, path="percepkit/notebooks/09_your_own_eyes.ipynb")
            said[s.name] = json.loads(out.strip().splitlines()[-1])
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(f"{s.name}: {type(e).__name__}: {e}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=go, args=(k, s)) for k, s in enumerate(students)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    students_s = time.perf_counter() - t0
    assert not failures, failures

    # the instructor: the same set (same size and seed), this set's files from every student's folder, pooled
    exchange = hub.state / "answers"
    tset = pk.make_triplets(SET_SIZE, seed=SET_SEED)
    files = sorted(exchange.glob(f"*/answers-{tset.fingerprint}-*.json"))
    dist = pk.triplet_distances(tset, "efficientnet-lite0", progress=False, lpips=False)
    pooled = pk.pool_answers(files, tset, dist, n_boot=500)

    assert len(files) == N and pooled.n_observers == N, [str(f) for f in files]
    for s in students:
        got = said[s.name]
        assert got["dir"] == str(exchange / s.name) and got["set"] == tset.fingerprint
        mine = [f for f in files if f.parent.name == s.name]
        assert [str(f) for f in mine] == [got["path"]], "each student's file in their own folder, one each"
        assert pk.load_answers(mine[0], tset) == got["choices"], "the file holds exactly what the student answered"
        assert json.loads(mine[0].read_text())["observer"] == s.name
    assert len({tuple(said[s.name]["choices"]) for s in students}) == N, "different students, different answers"
    expected = sum(pk.tally(tset, said[s.name]["choices"]) for s in students)
    assert np.array_equal(pooled.counts, expected), "pooled counts = the sum of every student's answers"
    assert pooled.counts.sum() == N * len(tset)
    # the practice file of another set sits in student0's folder: the set's name in the glob left it out, and
    # pooling every file regardless would be refused, not silently mixed in
    practice = sorted(exchange.glob("*/*-practice.json"))
    assert len(practice) == 1 and practice[0] not in files
    with pytest.raises(ValueError, match="answers to triplet set"):
        pk.pool_answers(sorted(exchange.glob("*/*.json")), tset, dist, n_boot=10)

    result = {"students": N, "set": tset.fingerprint, "files": [str(f.relative_to(exchange)) for f in files],
              "students_s": students_s, "counts_total": int(pooled.counts.sum()),
              "agreement": pooled.agreement, "ci": pooled.ci, "ceiling": pooled.ceiling}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "class_experiment.json").write_text(json.dumps(result, indent=1))
    print(f"\nclass experiment: {N} students judged {len(tset)} items each in {students_s:.0f} s (at once); "
          f"{len(files)} files pooled, {int(pooled.counts.sum())} answers")
    print(pooled.table())
