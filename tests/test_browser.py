"""Every notebook in a real browser, on the server that `make lab` starts.

The server is the Makefile's own ``lab`` target (``make lab LAB_PORT=… LAB_TOKEN=… LAB_OPEN_BROWSER=no``),
started with the environment pytest was started with (``conftest.CALLER_ENV``): no test setting
reaches it or its kernels. Only Jupyter's own config, settings, workspace and runtime folders point
at a temp folder, so the test neither reads a developer's Jupyter settings nor autosaves executed
notebooks into the repository (autosave off; the notebooks' bytes are compared before and after);
that config also exposes ``window.jupyterapp`` to the test's JavaScript and turns off the news prompt.

For each ``notebooks/NN_*.ipynb``, in headless Debian chromium driven by Python playwright: open it,
*Run → Run All Cells* from the menu, wait until every code cell ran and the kernel is idle, then check

- one rendered ``<img>`` (decoded, non-zero size) for every figure a cell produced, and at least one
  figure in every cell whose code draws one (``plt.show()``, ``pk.show_images(...)``, …) — this is what
  failed when ``make lab`` exported ``MPLBACKEND=Agg`` (cells printed numbers, no figures);
- every widget output rendered as a control (a ``.jupyter-widgets`` view), not as its text repr;
- no error output outside cells tagged ``raises-exception``, no stderr output;
- no JavaScript page error, and no console error except failed loads of the badges (they need the
  internet);

and save a screenshot per notebook (``$PERCEPKIT_BROWSER_SHOTS``, default ``build/browser/``).
In notebook 05 it also moves a λ slider and checks that the image and numbers change through the
real comm round trip; in notebook 08 it types α = 1 into the blend panel and checks that the
picture, its point on the plane and the numbers change. In notebook 09 it clicks through three triplets of the judging panel and
undoes one, checks the counter and the pictures, and reads the answers file the panel saved (outside
the repository; the test deletes it afterwards).

Browser: ``/usr/bin/chromium`` (Debian's package, never ``playwright install``). Missing, it skips with
the install command — except where ``PERCEPKIT_REQUIRE_BROWSER=1`` (``.ci/run`` sets it), where that
is a failure. ``PERCEPKIT_SKIP_BROWSER=1`` skips on purpose.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import CALLER_ENV

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = "/usr/bin/chromium"
INSTALL = "sudo apt-get install -y chromium  (Debian/Ubuntu; `make chromium` does it when run as root)"
RUN_TIMEOUT_S = 600  # one notebook on a busy 2-core machine
BADGE_HOSTS = {"mybinder.org", "colab.research.google.com"}  # badge images: they need the internet
# A cell that draws: its figure must show up (matplotlib's inline backend displays every open figure).
DRAWS = re.compile(r"\bplt\.(show|subplots|figure)\(|\bpk\.(show_images|show_feature_maps|plot_history)\(")
WIDGET_REPR = re.compile(r"\b(?:[A-Z][A-Za-z]*(?:Box|Slider|Button|Label|HTML|Image|Output)|interactive)"
                         r"\((?:children|value|layout|description)=")  # a widget's text repr, e.g. VBox(children=…
SHOTS = Path(os.environ.get("PERCEPKIT_BROWSER_SHOTS") or ROOT / "build" / "browser")

if os.environ.get("PERCEPKIT_SKIP_BROWSER") == "1":
    pytestmark = pytest.mark.skip(reason="PERCEPKIT_SKIP_BROWSER=1")
elif not Path(CHROMIUM).exists() and os.environ.get("PERCEPKIT_REQUIRE_BROWSER") != "1":
    pytestmark = pytest.mark.skip(reason=f"{CHROMIUM} is missing; install it with: {INSTALL}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


def _log_tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "(no server log)"


def _digest(paths) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``make lab`` on a free port with a fresh token; yields (url, token, log). Always torn down."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"PERCEPKIT_REQUIRE_BROWSER=1 but {CHROMIUM} is missing; install it with: {INSTALL}")
    base = tmp_path_factory.mktemp("lab")
    settings = base / "settings" / "@jupyterlab" / "docmanager-extension"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    news = base / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    (base / "config").mkdir()  # window.jupyterapp, which the JS below reads; the learner's page is otherwise the same
    (base / "config" / "jupyter_server_config.json").write_text(json.dumps({"LabApp": {"expose_app_in_browser": True}}))
    env = dict(CALLER_ENV)
    env.update(JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(base / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"))
    for k in [k for k in env if k.startswith("MAKE")]:  # a fresh `make`, not a sub-make of `make test`
        del env[k]
    port, token = _free_port(), secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}"
    log = base / "server.log"
    before = _digest(NOTEBOOKS)
    cmd = ["make", "--no-print-directory", "lab", f"LAB_PORT={port}", f"LAB_TOKEN={token}", "LAB_OPEN_BROWSER=no"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"`make lab` exited with code {proc.returncode}:\n{_log_tail(log)}")
            try:
                _get(f"{url}/api/status?token={token}")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"`make lab` did not answer on {url} within 120 s:\n{_log_tail(log)}")
                time.sleep(0.5)
        yield url, token, log
    finally:
        try:  # shut kernels down through the API first (they run in their own sessions)
            for k in _get(f"{url}/api/kernels?token={token}") or []:
                req = urllib.request.Request(f"{url}/api/kernels/{k['id']}?token={token}", method="DELETE")
                urllib.request.urlopen(req, timeout=10).close()
        except Exception:
            pass
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
    assert _digest(NOTEBOOKS) == before, "the browser run changed notebooks/ (autosave?): restore them with git"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


# JS evaluated in the page (JupyterLab exposes window.jupyterapp)
_KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && w.content && w.content.widgets.length > 0;
}"""
_PROGRESS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  const done = cells.filter(c => c.model.executionCount !== null).length;
  const failed = cells.filter(c => !(c.model.getMetadata('tags') || []).includes('raises-exception')
      && c.model.outputs.toJSON().some(o => o.output_type === 'error')).length;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return {done, failed, total: cells.length, status: k ? k.status : 'none'};
}"""
_CELLS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const out = [];
  w.content.widgets.forEach((c, i) => {
    if (c.model.type !== 'code') return;
    const outs = c.model.outputs.toJSON();
    const has = (o, mime) => !!(o.data && o.data[mime]);
    const shown = im => im.complete && im.naturalWidth > 0 && im.naturalHeight > 0;
    const all = [...c.node.querySelectorAll('.jp-OutputArea-output img')];
    const imgs = all.filter(im => !im.closest('.jupyter-widgets') && im.closest('.jp-RenderedImage'));
    const inWidgets = all.filter(im => im.closest('.jupyter-widgets'));
    // output i of the model is the i-th output child in the page; a closed widget (a finished
    // tqdm bar) leaves a hidden, empty output; a live one must render as a .jupyter-widgets view
    const children = [...c.node.querySelectorAll('.jp-OutputArea-child > .jp-OutputArea-output')];
    let views = 0, closed = 0, broken = [];
    outs.forEach((o, j) => {
      if (!has(o, 'application/vnd.jupyter.widget-view+json')) return;
      const el = children[j];
      if (el && el.classList.contains('lm-mod-hidden') && !el.textContent.trim()) closed += 1;
      else if (el && (el.classList.contains('jupyter-widgets') || el.querySelector('.jupyter-widgets'))) views += 1;
      else broken.push(el ? el.outerHTML.slice(0, 300) : `(no element for output ${j})`);
    });
    out.push({
      index: i,
      ran: c.model.executionCount !== null,
      tags: c.model.getMetadata('tags') || [],
      source: c.model.sharedModel.getSource(),
      figures: outs.filter(o => has(o, 'image/png')).length,
      rendered: imgs.filter(shown).length,
      widget_images: inWidgets.filter(shown).length,
      widget_images_blank: inWidgets.filter(im => !shown(im)).length,
      widgets: outs.filter(o => has(o, 'application/vnd.jupyter.widget-view+json')).length,
      views, closed, broken,
      errors: outs.filter(o => o.output_type === 'error').map(o => `${o.ename}: ${o.evalue}`),
      stderr: outs.filter(o => o.output_type === 'stream' && o.name === 'stderr')
                  .map(o => Array.isArray(o.text) ? o.text.join('') : o.text),
      text: [...c.node.querySelectorAll('.jp-OutputArea-output')].map(e => e.textContent).join('\\n'),
    });
  });
  return out;
}"""
_CLOSE = """async () => {
  const w = window.jupyterapp.shell.currentWidget;
  w.context.model.dirty = false;          // never save what the browser ran
  await w.sessionContext.shutdown();
  w.dispose();
}"""


def _wait_for_run(page, timeout_s: float) -> dict:
    """Until every code cell ran (or one failed) and the kernel stayed idle for three polls."""
    deadline = time.monotonic() + timeout_s
    stable, prog = 0, {}
    while time.monotonic() < deadline:
        prog = page.evaluate(_PROGRESS)
        if prog["status"] == "idle" and (prog["done"] == prog["total"] or prog["failed"]):
            stable += 1
            if stable >= 3:
                return prog
        else:
            stable = 0
        page.wait_for_timeout(1000)
    raise AssertionError(f"notebook did not finish within {timeout_s:.0f} s: {prog}")


def _run_all_from_menu(page):
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


def _problems(cells, js_errors) -> list[str]:
    problems = []
    for c in cells:
        where = f"cell {c['index']}"
        if c["errors"] and "raises-exception" not in c["tags"]:
            problems.append(f"{where} raised {c['errors']}")
        if c["stderr"]:
            problems.append(f"{where} wrote to stderr: {''.join(c['stderr'])[:300]!r}")
        if c["ran"] and DRAWS.search(c["source"]) and not c["errors"] and c["figures"] == 0:
            problems.append(f"{where} draws a figure but produced none (is MPLBACKEND set for the kernel?)")
        if c["rendered"] != c["figures"]:
            problems.append(f"{where}: {c['figures']} figure(s) produced, {c['rendered']} rendered in the page")
        if c["broken"]:
            problems.append(f"{where}: {len(c['broken'])} of {c['widgets']} widget(s) not rendered as controls: {c['broken']}")
        if c["widget_images_blank"]:
            problems.append(f"{where}: {c['widget_images_blank']} image(s) inside widgets not drawn")
        hit = WIDGET_REPR.search(c["text"])
        if hit or "Error displaying widget" in c["text"]:
            problems.append(f"{where} shows a widget as text: {(hit.group(0) if hit else 'Error displaying widget')!r}")
    problems += [f"JavaScript: {e}" for e in js_errors]
    return problems


def _slider_round_trip(page) -> float:
    """Notebook 05: type a new λ_perc into the first panel; the image and the numbers must change."""
    sliders = page.locator(".jp-OutputArea-output .widget-slider")
    assert sliders.count() >= 8, f"expected the two λ panels' 8 sliders, found {sliders.count()}"
    image = page.locator("img.pk-lambda-result").first
    numbers = page.locator(".pk-lambda-numbers").first
    image.wait_for(state="visible")
    src_before, numbers_before = image.get_attribute("src"), numbers.text_content()
    assert src_before and "PSNR" in numbers_before, numbers_before
    readout = sliders.filter(has_text="λ_perc").first.locator(".widget-readout")
    readout.scroll_into_view_if_needed()
    before_value = readout.text_content()
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("0")
    t_move = time.monotonic()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "([sel, old]) => { const e = document.querySelector(sel); return e && e.getAttribute('src') !== old; }",
        arg=["img.pk-lambda-result", src_before], timeout=30_000)
    roundtrip_s = time.monotonic() - t_move  # Enter → kernel callback → new image in the page
    page.wait_for_function(
        "([sel, old]) => { const e = document.querySelector(sel); return e && e.textContent !== old; }",
        arg=[".pk-lambda-numbers", numbers_before], timeout=30_000)
    assert readout.text_content().startswith("0.00") and before_value != readout.text_content()
    assert "PSNR" in numbers.text_content()
    return roundtrip_s


def _alpha_round_trip(page) -> str:
    """Notebook 08: type α = 1 into the blend panel; the picture, its point on the plane and the numbers must change."""
    slider = page.locator(".jp-OutputArea-output .widget-slider").filter(has_text="α").first
    image, plot = page.locator("img.pk-blend-result").first, page.locator("img.pk-blend-plot").first
    numbers = page.locator("div.pk-blend-numbers").first
    image.wait_for(state="visible")
    before = {"img.pk-blend-result": image.get_attribute("src"), "img.pk-blend-plot": plot.get_attribute("src")}
    numbers_before = numbers.text_content()
    assert numbers_before.startswith("α = 0.50"), numbers_before
    readout = slider.locator(".widget-readout")
    readout.scroll_into_view_if_needed()
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    t_move = time.monotonic()
    page.keyboard.press("Enter")
    for sel, old in before.items():
        page.wait_for_function(
            "([sel, old]) => { const e = document.querySelector(sel); return e && e.getAttribute('src') !== old; }",
            arg=[sel, old], timeout=30_000)
    roundtrip_s = time.monotonic() - t_move
    page.wait_for_function("([sel, old]) => { const e = document.querySelector(sel); return e && e.textContent !== old; }",
                           arg=["div.pk-blend-numbers", numbers_before], timeout=30_000)
    assert numbers.text_content().startswith("α = 1.00"), numbers.text_content()
    return f"; α slider → new picture and point in the page {roundtrip_s * 1000:.0f} ms"


def _judge_round_trip(page) -> str:
    """Notebook 09: answer A, B, A in the panel, undo once; the counter, the pictures and the saved file follow."""
    progress, status = page.locator(".pk-judge-progress").first, page.locator(".pk-judge-status").first
    image_a = page.locator("img.pk-judge-a").first
    progress.scroll_into_view_if_needed()
    assert progress.text_content().startswith("judged 0 of 40"), progress.text_content()
    src_before = image_a.get_attribute("src")

    def click(cls, want):
        page.locator(f".{cls}").first.click()
        page.wait_for_function("([sel, want]) => { const e = document.querySelector(sel); "
                               "return e && e.textContent.startsWith(want); }",
                               arg=[".pk-judge-progress", want], timeout=30_000)

    click("pk-judge-a-button", "judged 1 of 40")
    click("pk-judge-b-button", "judged 2 of 40")
    click("pk-judge-a-button", "judged 3 of 40")
    page.wait_for_function("([sel, old]) => { const e = document.querySelector(sel); "
                           "return e && e.getAttribute('src') !== old; }",
                           arg=["img.pk-judge-a", src_before], timeout=30_000)
    click("pk-judge-undo", "judged 2 of 40")
    page.wait_for_function("() => { const e = document.querySelector('.pk-judge-status'); "
                           "return e && e.textContent.includes('saved to'); }", timeout=30_000)
    saved = Path(status.text_content().split("saved to", 1)[1].strip())
    try:
        assert saved.is_file(), f"the panel says it saved to {saved}, which does not exist"
        assert ROOT not in saved.resolve().parents, f"the panel wrote into the repository: {saved}"
        deadline = time.monotonic() + 10
        while True:  # the undo's save may land a moment after its counter
            doc = json.loads(saved.read_text())
            got = [it["choice"] for it in doc["items"][:4]]
            if got == ["A", "B", None, None] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert doc["format"] == "percepkit-2afc" and len(doc["items"]) == 40, doc.get("format")
        assert got == ["A", "B", None, None], f"saved answers {got}, expected A, B and the undone third gone"
    finally:
        saved.unlink(missing_ok=True)
        try:
            saved.parent.rmdir()  # only if the panel's folder is now empty
        except OSError:
            pass
    return f"; panel: 3 answers, 1 undo, counter and file followed ({saved.name})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_in_chromium(lab, browser, path):
    url, token, log = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    js_errors: list[str] = []

    def on_console(msg):
        if msg.type == "error":
            host = urlparse((msg.location or {}).get("url") or "").hostname
            if host not in BADGE_HOSTS:
                js_errors.append(f"{msg.text} ({(msg.location or {}).get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda e: js_errors.append(f"page error: {e}"))
    t0 = time.monotonic()
    try:
        page.set_default_timeout(60_000)
        page.goto(f"{url}/lab/tree/{path.name}?reset&token={token}")
        try:
            page.wait_for_function(_KERNEL_IDLE, timeout=180_000)
        except Exception as e:
            raise AssertionError(f"the kernel never became idle ({e});\nserver log:\n{_log_tail(log)}") from e
        _run_all_from_menu(page)
        prog = _wait_for_run(page, RUN_TIMEOUT_S)
        ran_s = time.monotonic() - t0
        page.wait_for_timeout(500)  # let the last outputs render
        cells = page.evaluate(_CELLS)
        problems = _problems(cells, js_errors)
        if prog["done"] != prog["total"] and not problems:
            problems.append(f"only {prog['done']} of {prog['total']} code cells ran")
        extra = ""
        if not problems and path.name.startswith("05_"):
            extra = f"; slider → new image in the page {_slider_round_trip(page) * 1000:.0f} ms"
        if not problems and path.name.startswith("08_"):
            extra = _alpha_round_trip(page)
        if not problems and path.name.startswith("09_"):
            extra = _judge_round_trip(page)
        first = page.locator(".jp-OutputArea-output .widget-slider, .pk-judge-progress").first  # a panel, else a figure
        if not first.count():
            first = page.locator(".jp-OutputArea-output.jp-RenderedImage img").first
        if first.count():
            first.scroll_into_view_if_needed()
            page.wait_for_timeout(800)  # the windowed notebook renders the cells it scrolled to; without this: blank
        shot = SHOTS / f"{path.stem}.png"
        page.screenshot(path=str(shot))
        figures = sum(c["figures"] for c in cells)
        rendered = sum(c["rendered"] for c in cells)
        widgets, closed = sum(c["views"] for c in cells), sum(c["closed"] for c in cells)
        in_widgets = sum(c["widget_images"] for c in cells)
        print(f"\n{path.name}: {prog['total']} code cells ran in {ran_s:.0f} s; {figures} figures, {rendered} rendered; "
              f"{widgets} widgets rendered as controls ({in_widgets} images inside them), {closed} closed "
              f"(finished progress bars){extra}; screenshot {shot.name}")
        assert not problems, f"{path.name} in the browser:\n- " + "\n- ".join(problems)
        assert figures > 0 or not any(DRAWS.search(c["source"]) for c in cells)
    except BaseException:
        try:
            shot = SHOTS / f"{path.stem}-failure.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot of the failure: {shot}\nserver log tail:\n{_log_tail(log, 2000)}")
        except Exception:
            pass
        raise
    finally:
        try:
            page.evaluate(_CLOSE)
        except Exception:
            pass
        page.close()
