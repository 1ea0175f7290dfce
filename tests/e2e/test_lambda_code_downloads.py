"""GetFunction's Code.Location and GetLayerVersion's Content.Location: signed links, good for
ten minutes, that download the very zip that was uploaded."""

from __future__ import annotations

import base64
import hashlib
import re
import stat
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from portico.services.lambda_.downloads import KEY_FILENAME, DownloadLinks
from tests.e2e.conftest import Server
from tests.e2e.test_lambda_api import ECHO, create, zipped


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def s3_error(response: httpx.Response) -> tuple[int, str, str]:
    """(status, Code, Message) of an S3-style XML error."""
    code = re.search(r"<Code>(.*?)</Code>", response.text)
    message = re.search(r"<Message>(.*?)</Message>", response.text)
    assert code is not None and message is not None, response.text
    return response.status_code, code.group(1), message.group(1)


def test_get_function_links_to_the_uploaded_zip(server: Server) -> None:
    client = server.client("lambda")
    archive = zipped({"app.py": ECHO})
    created = create(client, Code={"ZipFile": archive})
    before = time.time()

    fetched = client.get_function(FunctionName="echo")

    code = fetched["Code"]
    assert code["RepositoryType"] == "S3"
    location = code["Location"]
    assert location.startswith(f"{server.url}/_portico/code/")
    expires = int(parse_qs(urlsplit(location).query)["Expires"][0])
    assert before + 600 - 5 <= expires <= time.time() + 600
    downloaded = httpx.get(location)
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"] == "application/zip"
    assert downloaded.content == archive
    assert code_sha256(downloaded.content) == created["CodeSha256"]


def test_each_version_links_to_its_own_code(server: Server) -> None:
    client = server.client("lambda")
    first = zipped({"app.py": ECHO})
    create(client, Code={"ZipFile": first}, Publish=True)
    second = zipped({"app.py": ECHO.replace('"greeting"', '"hello"')})
    client.update_function_code(FunctionName="echo", ZipFile=second)

    old = httpx.get(client.get_function(FunctionName="echo", Qualifier="1")["Code"]["Location"])
    new = httpx.get(client.get_function(FunctionName="echo")["Code"]["Location"])

    assert (old.content, new.content) == (first, second)


def test_a_changed_link_is_refused(server: Server) -> None:
    client = server.client("lambda")
    create(client)
    location = client.get_function(FunctionName="echo")["Code"]["Location"]
    url = urlsplit(location)
    query = parse_qs(url.query)
    expires, signature = query["Expires"][0], query["Signature"][0]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    base = f"{server.url}{url.path}"
    mismatch = (
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    )

    assert s3_error(httpx.get(f"{base}?Expires={int(expires) + 3600}&Signature={signature}")) == (
        mismatch
    )
    assert s3_error(httpx.get(f"{base}?Expires={expires}&Signature={flipped}")) == mismatch
    assert s3_error(httpx.get(base)) == mismatch
    other = url.path[:-1] + ("0" if url.path[-1] != "0" else "1")
    assert s3_error(httpx.get(f"{server.url}{other}?{url.query}")) == mismatch
    assert httpx.get(location).status_code == 200


def test_an_expired_link_is_refused(server: Server, tmp_path: Path) -> None:
    client = server.client("lambda")
    create(client)
    location = client.get_function(FunctionName="echo")["Code"]["Location"]
    digest = urlsplit(location).path.rpartition("/")[2]
    key = tmp_path / "data" / KEY_FILENAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # Signed with the server's own key, eleven minutes ago.
    stale = DownloadLinks(key, clock=lambda: time.time() - 660).link(server.url, digest)

    refused = httpx.get(stale)

    assert s3_error(refused) == (403, "AccessDenied", "Request has expired")
    assert httpx.get(location).status_code == 200


def test_layer_versions_link_to_their_zip(server: Server) -> None:
    client = server.client("lambda")
    archive = zipped({"python/shared.py": "WHO = 'layer'\n"})
    published = client.publish_layer_version(LayerName="shared", Content={"ZipFile": archive})

    fetched = client.get_layer_version(LayerName="shared", VersionNumber=1)
    by_arn = client.get_layer_version_by_arn(Arn=published["LayerVersionArn"])

    for content in (published["Content"], fetched["Content"], by_arn["Content"]):
        assert content["Location"].startswith(f"{server.url}/_portico/code/")
        downloaded = httpx.get(content["Location"])
        assert downloaded.status_code == 200 and downloaded.content == archive
        assert code_sha256(downloaded.content) == content["CodeSha256"]
