"""Web frameworks behind an HTTP API through their Lambda adapters, unchanged: an ASGI app
(Starlette, with Mangum) on payload 2.0 and a WSGI app (Flask, with apig-wsgi) on 1.0.

The adapters read every part of the event and write every part of the answer (cookies,
repeated query strings and headers, base64 bodies both ways), so a gateway that strays from
AWS's shapes shows here as the app misbehaving."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from types import ModuleType

import anyio
import apig_wsgi
import blinker
import click
import flask
import httpx
import idna
import itsdangerous
import jinja2
import mangum
import markupsafe
import pytest
import starlette
import typing_extensions
import werkzeug

from tests.e2e.conftest import Server
from tests.e2e.http_apis import bundle, quick_api, shared_server
from tests.e2e.test_lambda_api import ROLE

__all__ = ["shared_server"]

BINARY = bytes(range(256)) * 4  # not UTF-8: travels base64-encoded both ways

ASGI_APP = """
import hashlib

from mangum import Mangum
from starlette.applications import Starlette
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


async def echo(request):
    return JSONResponse({
        "name": request.path_params["name"],
        "path": request.url.path,
        "xs": request.query_params.getlist("x"),
        "agent": request.headers.get("x-agent"),
        "cookies": dict(request.cookies),
        "client": request.client.host,
    })


async def create(request):
    document = await request.json()
    location = {"location": f"/items/{document['id']}"}
    response = JSONResponse(document, status_code=201, headers=location)
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response


async def digest(request):
    body = await request.body()
    return JSONResponse({"length": len(body), "sha256": hashlib.sha256(body).hexdigest()})


async def blob(request):
    return Response(bytes(range(256)) * 4, media_type="application/octet-stream")


async def moved(request):
    return RedirectResponse("/echo/there", status_code=307)


app = Starlette(routes=[
    Route("/echo/{name}", echo),
    Route("/items", create, methods=["POST"]),
    Route("/digest", digest, methods=["POST"]),
    Route("/blob", blob),
    Route("/moved", moved),
])
handler = Mangum(app, lifespan="off")
"""

WSGI_APP = """
import hashlib

from apig_wsgi import make_lambda_handler
from flask import Flask, jsonify, make_response, redirect, request

app = Flask(__name__)


@app.get("/echo/<name>")
def echo(name):
    return jsonify(
        name=name,
        path=request.path,
        xs=request.args.getlist("x"),
        agent=request.headers.get("X-Agent"),
        cookies=request.cookies,
        client=request.remote_addr,
    )


@app.post("/items")
def create():
    document = request.get_json()
    response = make_response(jsonify(document), 201)
    response.headers["location"] = f"/items/{document['id']}"
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response


@app.post("/digest")
def digest():
    body = request.get_data()
    return jsonify(length=len(body), sha256=hashlib.sha256(body).hexdigest())


@app.get("/blob")
def blob():
    response = make_response(bytes(range(256)) * 4)
    response.content_type = "application/octet-stream"
    return response


@app.get("/moved")
def moved():
    return redirect("/echo/there", code=307)


handler = make_lambda_handler(app, binary_support=True)
"""

ASGI_PACKAGES = [mangum, starlette, anyio, idna, typing_extensions]
WSGI_PACKAGES = [
    apig_wsgi,
    flask,
    werkzeug,
    jinja2,
    markupsafe,
    itsdangerous,
    click,
    blinker,
]


# Each app in its own format: the ASGI one on 2.0, the WSGI one on 1.0.
APPS = {
    "starlette-2.0": (ASGI_APP, ASGI_PACKAGES, "2.0"),
    "flask-1.0": (WSGI_APP, WSGI_PACKAGES, "1.0"),
}


@pytest.fixture(scope="module", params=list(APPS))
def base(request: pytest.FixtureRequest, shared_server: Server) -> str:
    source, packages, version = APPS[request.param]
    return _deploy(shared_server, request.param.replace(".", "-"), source, packages, version)


def _deploy(
    server: Server, name: str, source: str, packages: list[ModuleType], version: str
) -> str:
    created = server.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": bundle({"app.py": source}, packages)},
        Timeout=30,
    )
    api = quick_api(server, created["FunctionArn"])
    if version != "2.0":
        client = server.client("apigatewayv2")
        [integration] = client.get_integrations(ApiId=api["ApiId"])["Items"]
        client.update_integration(
            ApiId=api["ApiId"],
            IntegrationId=integration["IntegrationId"],
            PayloadFormatVersion=version,
        )
    base: str = api["ApiEndpoint"]
    return base


@pytest.fixture()
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def test_the_app_reads_the_request_as_sent(base: str, http: httpx.Client) -> None:
    answer = http.get(
        f"{base}/echo/you?x=1&x=2",
        headers={"x-agent": "tests", "cookie": "k=v; other=2"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "name": "you",
        "path": "/echo/you",
        "xs": ["1", "2"],
        "agent": "tests",
        "cookies": {"k": "v", "other": "2"},
        "client": "127.0.0.1",
    }


def test_the_app_sets_status_headers_each_cookie_and_redirects(
    base: str, http: httpx.Client
) -> None:
    made = http.post(f"{base}/items", json={"id": "9", "name": "nine"})
    assert made.status_code == 201
    assert made.json() == {"id": "9", "name": "nine"}
    assert made.headers["location"] == "/items/9"
    cookies = made.headers.get_list("set-cookie")
    assert [cookie.split(";")[0] for cookie in cookies] == ["a=1", "b=2"]
    moved = http.get(f"{base}/moved")
    assert (moved.status_code, moved.headers["location"]) == (307, "/echo/there")


def test_the_app_gets_and_sends_binary_bodies(base: str, http: httpx.Client) -> None:
    sent = http.post(
        f"{base}/digest",
        content=BINARY,
        headers={"content-type": "application/octet-stream"},
    )
    assert sent.json() == {"length": len(BINARY), "sha256": hashlib.sha256(BINARY).hexdigest()}
    got = http.get(f"{base}/blob")
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.content == BINARY
