"""Weighted alias routing: which version an invocation runs, for a given uniform draw."""

from __future__ import annotations

from collections import Counter

import pytest

from portico.services.lambda_.aliases import choose_version
from portico.services.lambda_.attachments import Alias

DRAWS = 10_000


def evenly_spaced_draws(count: int = DRAWS) -> list[float]:
    """Deterministic stand-ins for random.random(): the midpoints of `count` equal slices."""
    return [(index + 0.5) / count for index in range(count)]


def shares(alias: Alias) -> Counter[str]:
    return Counter(choose_version(alias, draw) for draw in evenly_spaced_draws())


def test_without_routing_every_invocation_runs_the_primary_version() -> None:
    alias = Alias("fn", "live", "3")
    assert shares(alias) == Counter({"3": DRAWS})
    assert choose_version(alias, 0.0) == "3"
    assert choose_version(alias, 0.999_999) == "3"


@pytest.mark.parametrize("weight", [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.99, 1.0])
def test_the_additional_version_gets_its_weight(weight: float) -> None:
    alias = Alias("fn", "live", "3", routing={"4": weight})
    counted = shares(alias)
    assert counted["4"] == round(weight * DRAWS)
    assert counted["3"] == DRAWS - counted["4"]


def test_the_split_falls_at_the_weight() -> None:
    alias = Alias("fn", "live", "1", routing={"2": 0.2})
    assert choose_version(alias, 0.0) == "2"
    assert choose_version(alias, 0.199_999) == "2"
    assert choose_version(alias, 0.2) == "1"
    assert choose_version(alias, 0.999_999) == "1"


def test_weight_zero_never_routes_and_weight_one_always_does() -> None:
    never = Alias("fn", "live", "1", routing={"2": 0.0})
    always = Alias("fn", "live", "1", routing={"2": 1.0})
    assert {choose_version(never, draw) for draw in evenly_spaced_draws(100)} == {"1"}
    assert {choose_version(always, draw) for draw in evenly_spaced_draws(100)} == {"2"}
