from __future__ import annotations

import stat
from pathlib import Path

import pytest

from portico.keyfiles import KeyFileError, load_or_create_key


def test_a_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "test.key"
    key = load_or_create_key(path, 32, purpose="test key")
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path, 32, purpose="test key") == key
    assert [item.name for item in path.parent.iterdir()] == ["test.key"]  # no temporaries


def test_a_malformed_key_is_refused_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "test.key"
    path.write_bytes(b"c2VjcmV0LWJ1dC1zaG9ydA==\n")
    path.chmod(0o600)
    with pytest.raises(KeyFileError) as raised:
        load_or_create_key(path, 32, purpose="test key")
    assert str(raised.value) == f"the test key {path} is not base64 of 32 bytes"
