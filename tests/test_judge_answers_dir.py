"""Where the judging panel saves answer files: ``~/percepkit-answers``, or ``$PERCEPKIT_ANSWERS_DIR``
(what a class hub sets, hub/jupyterhub_config.py, so the instructor finds every student's files)."""

from pathlib import Path

import pytest

import percepkit as pk


@pytest.fixture(scope="module")
def tset():
    return pk.make_triplets(64, seed=0)


def test_default_is_a_folder_in_home(monkeypatch, tmp_path):
    monkeypatch.delenv("PERCEPKIT_ANSWERS_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert pk.judge.default_answers_dir() == tmp_path / "percepkit-answers"
    monkeypatch.setenv("PERCEPKIT_ANSWERS_DIR", "  ")  # blank: as if unset
    assert pk.judge.default_answers_dir() == tmp_path / "percepkit-answers"


def test_environment_variable_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PERCEPKIT_ANSWERS_DIR", str(tmp_path / "exchange" / "ada"))
    assert pk.judge.default_answers_dir() == tmp_path / "exchange" / "ada"
    monkeypatch.setenv("PERCEPKIT_ANSWERS_DIR", "~/class-answers")
    assert pk.judge.default_answers_dir() == tmp_path / "home" / "class-answers"
    assert isinstance(pk.judge.default_answers_dir(), Path)


def test_panel_saves_where_the_variable_points(monkeypatch, tmp_path, tset):
    folder = tmp_path / "exchange" / "ada"  # not there yet: the first answer creates it
    monkeypatch.setenv("PERCEPKIT_ANSWERS_DIR", str(folder))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    panel = pk.judge_panel(tset, scale=3, observer="ada")
    choices = pk.simulate_observer(tset, None, seed=1)
    for c in choices:
        panel.choose(c)
    assert panel.path.parent == folder and panel.path.name.startswith(f"answers-{tset.fingerprint}-")
    assert pk.load_answers(panel.path, tset) == choices
    assert not (tmp_path / "home").exists(), "nothing written to the home folder"
