"""Layer one virtual environment over another: `python tools/layer_venv.py BASE_PYTHON` run by the upper one.

`make class-setup` uses it for .venv-class: a .pth file in the upper environment's site-packages adds the base
environment's site-packages (torch, percepkit, Jupyter — installed once), and its Jupyter data folder (nbconvert's
templates, kernel specs) to JUPYTER_PATH, so the class tools (JupyterHub, nbgrader, nbgitpuller) live apart from
the base and their server extensions never load in `make lab`. Packages of the upper environment win.
"""

import subprocess
import sys
import sysconfig
from pathlib import Path

base_python = sys.argv[1]
base_purelib, base_prefix = subprocess.run(
    [base_python, "-c", "import sys, sysconfig; print(sysconfig.get_paths()['purelib']); print(sys.prefix)"],
    capture_output=True, text=True, check=True).stdout.split()
share = str(Path(base_prefix) / "share" / "jupyter")
pth = Path(sysconfig.get_paths()["purelib"]) / "_percepkit_base_venv.pth"
pth.write_text(
    f"{base_purelib}\n"
    "import os; p = os.environ.get('JUPYTER_PATH', ''); "
    f"os.environ['JUPYTER_PATH'] = p if {share!r} in p.split(os.pathsep) else os.pathsep.join(filter(None, [p, {share!r}]))\n"
)
print(f"{pth}: adds {base_purelib} and {share}")
