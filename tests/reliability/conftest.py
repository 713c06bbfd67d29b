"""Reliability fixtures: the one seed that drives a test's data and its faults.

`RELIABILITY_SEED=… make test` or `pytest tests/reliability --reliability-seed=…`
replays a run; without either, every run draws a fresh seed and prints it.
"""

from __future__ import annotations

import os
import random

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reliability-seed",
        type=int,
        default=None,
        help="the seed of the reliability tests' data and fault schedule (replays a run)",
    )


@pytest.fixture(scope="session")
def reliability_seed(request: pytest.FixtureRequest) -> int:
    """The seed given (option, then RELIABILITY_SEED), else a fresh one; printed."""
    given = request.config.getoption("--reliability-seed") or os.environ.get("RELIABILITY_SEED")
    seed = int(given) if given else random.SystemRandom().randrange(1, 1_000_000)
    print(f"\nreliability seed: {seed} (replay: RELIABILITY_SEED={seed} make test)")
    return seed
