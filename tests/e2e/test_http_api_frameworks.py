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


async def item(request):
    return JSONResponse({
        "id": request.path_params["item_id"],
        "path": request.url.path,
        "tags": request.query_params.getlist("tag"),
        "agent": request.headers.get("x-agent"),
        "cookies": dict(request.cookies),
        "client": request.client.host,
    })


async def create(request):
    document = await request.json()
    location = {"location": f"/items/{document['id']}"}
    response = JSONResponse(document, status_code=201, headers=location)
    response.set_cookie("session", "abc", httponly=True)
    response.set_cookie("theme", "dark")
    return response


async def digest(request):
    body = await request.body()
    return JSONResponse({"length": len(body), "sha256": hashlib.sha256(body).hexdigest()})


async def blob(request):
    return Response(bytes(range(256)) * 4, media_type="application/octet-stream")


async def moved(request):
    return RedirectResponse("/items/1", status_code=307)


app = Starlette(routes=[
    Route("/items/{item_id}", item),
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


@app.get("/hello/<name>")
def hello(name):
    return jsonify(
        name=name,
        path=request.path,
        xs=request.args.getlist("x"),
        agent=request.headers.get("X-Agent"),
        cookies=request.cookies,
        remote=request.remote_addr,
    )


@app.post("/digest")
def digest():
    body = request.get_data()
    return jsonify(length=len(body), sha256=hashlib.sha256(body).hexdigest())


@app.get("/cookies")
def cookies():
    response = make_response("set", 200)
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response


@app.get("/blob")
def blob():
    response = make_response(bytes(range(256)) * 4)
    response.content_type = "application/octet-stream"
    return response


@app.get("/moved")
def moved():
    return redirect("/hello/there", code=302)


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


@pytest.fixture(scope="module")
def asgi_base(shared_server: Server) -> str:
    return _deploy(shared_server, "starlette-app", ASGI_APP, ASGI_PACKAGES, "2.0")


@pytest.fixture(scope="module")
def wsgi_base(shared_server: Server) -> str:
    return _deploy(shared_server, "flask-app", WSGI_APP, WSGI_PACKAGES, "1.0")


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


def test_an_asgi_app_reads_the_request_as_sent(asgi_base: str, http: httpx.Client) -> None:
    answer = http.get(
        f"{asgi_base}/items/7?tag=a&tag=b",
        headers={"x-agent": "tests", "cookie": "k=v; other=2"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "id": "7",
        "path": "/items/7",
        "tags": ["a", "b"],
        "agent": "tests",
        "cookies": {"k": "v", "other": "2"},
        "client": "127.0.0.1",
    }


def test_an_asgi_app_sets_status_headers_and_each_cookie(
    asgi_base: str, http: httpx.Client
) -> None:
    made = http.post(f"{asgi_base}/items", json={"id": "9", "name": "nine"})
    assert made.status_code == 201
    assert made.json() == {"id": "9", "name": "nine"}
    assert made.headers["location"] == "/items/9"
    cookies = made.headers.get_list("set-cookie")
    assert len(cookies) == 2
    assert cookies[0].startswith("session=abc") and "HttpOnly" in cookies[0]
    assert cookies[1].startswith("theme=dark")
    moved = http.get(f"{asgi_base}/moved")
    assert (moved.status_code, moved.headers["location"]) == (307, "/items/1")


def test_an_asgi_app_gets_and_sends_binary_bodies(asgi_base: str, http: httpx.Client) -> None:
    sent = http.post(
        f"{asgi_base}/digest",
        content=BINARY,
        headers={"content-type": "application/octet-stream"},
    )
    assert sent.json() == {"length": len(BINARY), "sha256": hashlib.sha256(BINARY).hexdigest()}
    got = http.get(f"{asgi_base}/blob")
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.content == BINARY


def test_a_wsgi_app_on_payload_1_0_reads_the_request_as_sent(
    wsgi_base: str, http: httpx.Client
) -> None:
    answer = http.get(
        f"{wsgi_base}/hello/you?x=1&x=2",
        headers={"x-agent": "tests", "cookie": "k=v; other=2"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "name": "you",
        "path": "/hello/you",
        "xs": ["1", "2"],
        "agent": "tests",
        "cookies": {"k": "v", "other": "2"},
        "remote": "127.0.0.1",
    }


def test_a_wsgi_app_on_payload_1_0_sets_each_cookie_and_binary_bodies(
    wsgi_base: str, http: httpx.Client
) -> None:
    cookies = http.get(f"{wsgi_base}/cookies")
    assert cookies.text == "set"
    assert cookies.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
    sent = http.post(
        f"{wsgi_base}/digest",
        content=BINARY,
        headers={"content-type": "application/octet-stream"},
    )
    assert sent.json() == {"length": len(BINARY), "sha256": hashlib.sha256(BINARY).hexdigest()}
    got = http.get(f"{wsgi_base}/blob")
    assert got.content == BINARY
    moved = http.get(f"{wsgi_base}/moved")
    assert (moved.status_code, moved.headers["location"]) == (302, "/hello/there")
