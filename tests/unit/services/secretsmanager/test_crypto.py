from __future__ import annotations

import base64
import stat
import threading
from pathlib import Path

import pytest

from portico.services.secretsmanager.crypto import (
    SealedValueError,
    SecretCipher,
    SecretKeyError,
    load_or_create_key,
)


def test_the_key_is_made_on_first_use_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secrets.key"
    cipher = SecretCipher(path)
    assert not path.exists()
    sealed = cipher.seal(b"hunter2", b"context")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_bytes())) == 32
    assert b"hunter2" not in sealed
    assert SecretCipher(path).open(sealed, b"context") == b"hunter2"
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_sealing_is_randomised_and_bound_to_its_context(tmp_path: Path) -> None:
    cipher = SecretCipher(tmp_path / "secrets.key")
    first, second = cipher.seal(b"same", b"a"), cipher.seal(b"same", b"a")
    assert first != second
    with pytest.raises(SealedValueError):
        cipher.open(first, b"b")
    tampered = first[:-1] + bytes([first[-1] ^ 1])
    with pytest.raises(SealedValueError):
        cipher.open(tampered, b"a")
    with pytest.raises(SealedValueError):
        cipher.open(b"short", b"a")


def test_another_key_cannot_open_a_value(tmp_path: Path) -> None:
    sealed = SecretCipher(tmp_path / "one.key").seal(b"value", b"ctx")
    with pytest.raises(SealedValueError):
        SecretCipher(tmp_path / "two.key").open(sealed, b"ctx")


def test_concurrent_first_uses_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "secrets.key"
    keys: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: keys.append(load_or_create_key(path))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1


def test_a_malformed_key_file_is_refused_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "secrets.key"
    path.write_text("not-a-key-at-all\n")
    with pytest.raises(SecretKeyError) as raised:
        SecretCipher(path).seal(b"x", b"y")
    assert "not-a-key" not in str(raised.value)


def test_repr_hides_the_key(tmp_path: Path) -> None:
    path = tmp_path / "secrets.key"
    cipher = SecretCipher(path)
    cipher.prepare()
    assert path.read_text().strip() not in repr(cipher)
