from __future__ import annotations

import stat
from pathlib import Path

import pytest

from portico.aws.sigv4 import ExpiredCredentials
from portico.credentials import (
    AccessKey,
    CredentialChain,
    SessionIssuer,
    StaticCredentials,
    load_or_create,
)
from portico.store import ManualClock


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


def test_a_session_key_is_refused_as_expired_then_forgotten() -> None:
    clock = ManualClock(1_000.0)
    issuer = SessionIssuer(clock.now, lifetime=100, remembered=50)
    key = issuer.issue("arn:aws:lambda:eu-west-1:000000000000:function:fn")
    assert issuer.secret_for(key.access_key_id, key.session_token) == key.secret_access_key
    assert issuer.secret_for(key.access_key_id, "another-token") is None
    assert issuer.secret_for(key.access_key_id, None) is None

    clock.advance(100)
    with pytest.raises(ExpiredCredentials):
        issuer.secret_for(key.access_key_id, key.session_token)
    assert issuer.secret_for(key.access_key_id, "another-token") is None
    chain = CredentialChain(StaticCredentials(AccessKey("AKIAADMIN", "s3cret")), issuer)
    with pytest.raises(ExpiredCredentials):
        chain.secret_for(key.access_key_id, key.session_token)

    clock.advance(50)
    issuer.issue("arn:aws:lambda:eu-west-1:000000000000:function:other")  # sweeps
    assert issuer.secret_for(key.access_key_id, key.session_token) is None
    assert issuer.principal_for(key.access_key_id) is None
