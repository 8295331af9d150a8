import os

import pytest
import torch

# The environment this pytest was started with, before the line below changes it: the browser test
# starts `make lab` with it, so the server gets what the caller (a learner's shell, CI) has, nothing more.
CALLER_ENV = dict(os.environ)
# Tests never download anything.
os.environ["PERCEPKIT_OFFLINE"] = "1"

import percepkit as pk  # noqa: E402


@pytest.fixture(scope="session")
def rand19():
    """Random VGG-19: same architecture and layer names as vgg19, no weights needed."""
    return pk.load_backbone("vgg19-random", device="cpu", verbose=False)


# notebook 09's triplet set at 128 px and its distances on efficientnet-lite0: shared by tests/test_judge.py
# and tests/test_answers.py (computed once a session; a module may define its own `tset`)
@pytest.fixture(scope="session")
def tset():
    return pk.make_triplets(128, seed=0)


@pytest.fixture(scope="session")
def dist(tset, lite):
    return pk.triplet_distances(tset, lite, progress=False)


@pytest.fixture(scope="session")
def hed():
    return pk.load_backbone("vgg16-hed", device="cpu", verbose=False)


@pytest.fixture(scope="session")
def lite():
    return pk.load_backbone("efficientnet-lite0", device="cpu", verbose=False)


# notebook 05's problem, tiny: shared by tests/test_superres.py and tests/test_widgets.py
SR_SIZE, SR_STEPS = 32, 6
SR_GRID = ((1, 0, 0, 0), (1, 1, 0, 0), (0, 1, 0, 0), (1, 0, 0, 4))


@pytest.fixture(scope="session")
def sr_problem():
    return pk.superres_problem("astronaut", SR_SIZE, factor=4, n_candidates=3)


@pytest.fixture(scope="session")
def sr_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("lambda-cache")


@pytest.fixture(scope="session")
def sr_results(sr_problem, lite, sr_cache):
    return pk.precompute_grid(sr_problem, SR_GRID, lite, steps=SR_STEPS, cache_dir=sr_cache, progress=False)


@pytest.fixture
def img64():
    return pk.sample_image("astronaut", 64)


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty TORCH_HOME; returns its hub/checkpoints folder."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("PERCEPKIT_BACKBONE", raising=False)
    ckpt = tmp_path / "hub" / "checkpoints"
    ckpt.mkdir(parents=True)
    return ckpt


def seeded(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g)
