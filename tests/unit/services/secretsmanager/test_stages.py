from __future__ import annotations

from portico.services.secretsmanager.models import AWSCURRENT, AWSPENDING, AWSPREVIOUS, Version
from portico.services.secretsmanager.stages import add_version


def _add(versions: tuple[Version, ...], version_id: str, *stages: str) -> tuple[Version, ...]:
    added, dropped = add_version(versions, Version(version_id, stages, float(len(versions))))
    assert dropped == []
    return added


def _labels(versions: tuple[Version, ...]) -> dict[str, tuple[str, ...]]:
    return {version.id: version.stages for version in versions}


def test_the_first_version_is_current_whatever_it_asks_for() -> None:
    assert _labels(_add((), "v1", "custom")) == {"v1": (AWSCURRENT, "custom")}
    assert _labels(_add((), "v1")) == {"v1": (AWSCURRENT,)}


def test_current_moves_and_the_old_current_becomes_previous() -> None:
    versions = _add((), "v1", AWSCURRENT)
    versions = _add(versions, "v2", AWSCURRENT)
    assert _labels(versions) == {"v1": (AWSPREVIOUS,), "v2": (AWSCURRENT,)}
    versions = _add(versions, "v3", AWSCURRENT)
    assert _labels(versions) == {"v1": (), "v2": (AWSPREVIOUS,), "v3": (AWSCURRENT,)}
    assert [version.deprecated for version in versions] == [True, False, False]


def test_other_labels_move_without_touching_current() -> None:
    versions = _add((), "v1", AWSCURRENT)
    versions = _add(versions, "v2", "one", "two", "three")
    versions = _add(versions, "v3", "two", "four")
    assert _labels(versions) == {
        "v1": (AWSCURRENT,),
        "v2": ("one", "three"),
        "v3": ("four", "two"),
    }
    versions = _add(versions, "v4", AWSPENDING)
    versions = _add(versions, "v5", AWSPENDING, "one")
    assert _labels(versions)["v4"] == ()
    assert _labels(versions)["v5"] == (AWSPENDING, "one")
    assert _labels(versions)["v2"] == ("three",)


def test_current_keeps_the_labels_it_had_besides() -> None:
    versions = _add((), "v1", AWSCURRENT, "blue")
    versions = _add(versions, "v2", AWSCURRENT)
    assert _labels(versions) == {"v1": (AWSPREVIOUS, "blue"), "v2": (AWSCURRENT,)}


def test_asking_for_previous_explicitly_wins_over_the_automatic_move() -> None:
    versions = _add((), "v1", AWSCURRENT)
    versions = _add(versions, "v2", AWSCURRENT, AWSPREVIOUS)
    assert _labels(versions) == {"v1": (), "v2": (AWSCURRENT, AWSPREVIOUS)}


def test_deprecated_versions_beyond_the_limit_are_dropped_oldest_first() -> None:
    versions: tuple[Version, ...] = ()
    all_dropped: list[str] = []
    for n in range(8):
        versions, dropped = add_version(
            versions, Version(f"v{n}", (AWSCURRENT,), float(n)), max_deprecated=3
        )
        all_dropped += dropped
    assert all_dropped == ["v0", "v1", "v2"]
    assert [version.id for version in versions] == ["v3", "v4", "v5", "v6", "v7"]
    assert _labels(versions)["v6"] == (AWSPREVIOUS,)
    assert sum(version.deprecated for version in versions) == 3
