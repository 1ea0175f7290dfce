from __future__ import annotations

from pathlib import Path

from portico.runtime.packages import SHIM_IMPORT_NAME, build_runtime_site


def test_runtime_site_holds_boto3_and_its_dependencies_only(tmp_path: Path) -> None:
    site = build_runtime_site(tmp_path / "site", ["boto3"])
    names = {path.name for path in site.iterdir()}
    assert {SHIM_IMPORT_NAME, "boto3", "botocore", "s3transfer", "jmespath", "dateutil"} <= names
    assert "urllib3" in names
    assert not names & {"portico", "h11", "pytest", "uvloop", "awslambdaric"}
    assert all(path.is_symlink() for path in site.iterdir())
