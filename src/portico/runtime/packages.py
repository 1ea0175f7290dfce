"""The Python runtime's own package folder: the shim plus boto3 and what it needs.

A function sees its code, its layers, this folder and the standard library — as on AWS,
where the managed runtime provides boto3 — and nothing else of the server's environment.
The folder holds symlinks into the server's installation, rebuilt at every start.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

SHIM_IMPORT_NAME = "_portico_runtime"
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(roots: Iterable[str]) -> list[metadata.Distribution]:
    """The distributions of `roots` and of everything they require (extras left out)."""
    found: dict[str, metadata.Distribution] = {}
    pending = list(roots)
    while pending:
        name = _normalize(pending.pop())
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[name] = dist
        for requirement in dist.requires or ():
            name_part, _, marker = requirement.partition(";")
            if "extra" in marker:
                continue
            match = _REQUIREMENT_NAME.match(name_part)
            if match:
                pending.append(match.group(1))
    return list(found.values())


def _top_level(dist: metadata.Distribution) -> set[Path]:
    """The importable top-level packages and modules a distribution installed."""
    tops: set[Path] = set()
    for file in dist.files or ():
        parts = file.parts
        if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")):
            continue
        if parts[0] in ("..", "__pycache__", "bin"):
            continue
        if len(parts) == 1 and not parts[0].endswith((".py", ".so", ".pth")):
            continue
        if parts[0].endswith(".pth"):
            continue
        tops.add(Path(str(dist.locate_file(parts[0]))))
    return tops


def build_runtime_site(target: Path, roots: Iterable[str]) -> Path:
    shim = Path(__file__).parent / "shim"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / SHIM_IMPORT_NAME).symlink_to(shim, target_is_directory=True)
    for dist in _closure(roots):
        for source in _top_level(dist):
            link = target / source.name
            if source.exists() and not link.exists():
                link.symlink_to(source)
    return target
