from __future__ import annotations

import stat
from pathlib import Path

from portico.credentials import StaticCredentials, load_or_create


def test_generated_once_saved_private_and_reused(tmp_path: Path) -> None:
    first = load_or_create(tmp_path)
    path = tmp_path / "credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.access_key_id.startswith("AKIA") and len(first.access_key_id) == 20
    assert len(first.secret_access_key) == 40
    assert load_or_create(tmp_path) == first
    assert first.secret_access_key not in repr(first)
    assert "[portico]" in path.read_text()


def test_explicit_keys_win(tmp_path: Path) -> None:
    key = load_or_create(tmp_path, "AKIAEXPLICIT", "s3cret")
    assert (key.access_key_id, key.secret_access_key) == ("AKIAEXPLICIT", "s3cret")
    assert not (tmp_path / "credentials").exists()
    store = StaticCredentials(key)
    assert store.secret_for("AKIAEXPLICIT", None) == "s3cret"
    assert store.secret_for("AKIAOTHER", None) is None
