"""Staging labels: which version is AWSCURRENT, AWSPREVIOUS, or any label a caller chose.

A label is on one version at most. A new version takes its labels from whichever versions had
them; when it takes AWSCURRENT, the version that loses AWSCURRENT gets AWSPREVIOUS (which
leaves the version that had it). The first version of a secret always gets AWSCURRENT.
A version left without labels is deprecated: still readable by its id, listed only on request,
and dropped, oldest first, once a secret has more than `MAX_DEPRECATED` of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from portico.services.secretsmanager.models import AWSCURRENT, AWSPREVIOUS, Version

MAX_DEPRECATED = 100


def add_version(
    versions: Sequence[Version], new: Version, *, max_deprecated: int = MAX_DEPRECATED
) -> tuple[tuple[Version, ...], list[str]]:
    """The versions with `new` added (last) and labels moved; and the ids of versions dropped."""
    labels = set(new.stages)
    current = next((v for v in versions if AWSCURRENT in v.stages), None)
    if current is None:
        labels.add(AWSCURRENT)
    demoted = current if AWSCURRENT in labels and AWSPREVIOUS not in labels else None
    taken = labels | ({AWSPREVIOUS} if demoted is not None else set())
    updated: list[Version] = []
    for version in versions:
        kept = [stage for stage in version.stages if stage not in taken]
        if version is demoted:
            kept.append(AWSPREVIOUS)
        updated.append(replace(version, stages=tuple(sorted(kept))))
    updated.append(replace(new, stages=tuple(sorted(labels))))
    return _prune(updated, max_deprecated)


def _prune(versions: list[Version], max_deprecated: int) -> tuple[tuple[Version, ...], list[str]]:
    deprecated = [version.id for version in versions if version.deprecated]
    dropped = set(deprecated[: max(0, len(deprecated) - max_deprecated)])
    kept = tuple(version for version in versions if version.id not in dropped)
    return kept, [version_id for version_id in deprecated if version_id in dropped]
