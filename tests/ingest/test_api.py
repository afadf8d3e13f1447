"""The upload and catalog API through aiohttp's test client, on the local store."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest

from ingest.api import ApiConfig, make_api
from ingest.auth import ApiKeys
from ingest.catalog import Catalog
from ingest.openapi import OPENAPI
from ingest.tus import encode_metadata
from ingest.uploads import Uploads
from ingest.validate import MasterLimits
from origin.access import read_signed_urls
from pipeline.settings import Settings
from pipeline.title_options import SettingsOptions
from storage.local import LocalStore

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from aiohttp import web
    from aiohttp.test_utils import TestClient

    from tests.conftest import MakeMaster

NEWS = "news-key-0123456789"
SPORT = "sport-key-0123456789"
AUTH = {"Authorization": f"Bearer {NEWS}"}
TUS = {"Tus-Resumable": "1.0.0", **AUTH}
PART = 64 << 10  # small parts, so a test upload spans several
KEK = bytes(range(32)).hex()  # so that encrypted titles can be created


class Api:
    def __init__(
        self, app: web.Application, client: TestClient, store: LocalStore, queued: list[str]
    ) -> None:
        self.app = app
        self.client = client
        self.store = store
        self.queued = queued

    async def create(self, length: int, **metadata: str) -> str:
        headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": encode_metadata(metadata)}
        response = await self.client.post("/v1/uploads", headers=headers)
        assert response.status == 201, await response.text()
        assert response.headers["Tus-Resumable"] == "1.0.0"
        return response.headers["Location"]

    async def patch(self, url: str, offset: int, data: bytes, **extra: str) -> Any:
        headers = {
            **TUS,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": str(offset),
            **extra,
        }
        return await self.client.patch(url, data=data, headers=headers)

    async def offset(self, url: str) -> int:
        response = await self.client.head(url, headers=TUS)
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"  # tus core, HEAD
        return int(response.headers["Upload-Offset"])


@pytest.fixture
async def api(tmp_path: Path, aiohttp_client: Callable[..., Awaitable[TestClient]]) -> Api:
    store = LocalStore(tmp_path / "data")
    queued: list[str] = []
    settings = Settings.from_env(
        {"VODPIPE_DATA_DIR": str(tmp_path / "data"), "VODPIPE_KEY_ENCRYPTION_KEY": KEK}
    )
    config = ApiConfig(
        store=store,
        keys=ApiKeys.parse(f"news:{NEWS},sport:{SPORT}"),
        queue=queued.append,
        limits=MasterLimits(),
        origin_url="https://cdn.example",
        max_size=1 << 30,
        uploads=Uploads(store, tmp_path, part_size=PART),
        options=SettingsOptions(settings, store),
    )
    app = make_api(config)
    return Api(app, await aiohttp_client(app), store, queued)


def _sha(algorithm: str, data: bytes) -> str:
    return f"{algorithm} {base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


async def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    if response.method == "HEAD":  # the headers of the problem, no body
        return {}
    body: dict[str, Any] = await response.json()
    assert body["status"] == status
    return body


async def test_options_names_the_protocol_without_a_key(api: Api) -> None:
    response = await api.client.options("/v1/uploads")
    assert response.status == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Extension"] == "creation,checksum,termination"
    assert response.headers["Tus-Max-Size"] == str(1 << 30)


async def test_no_key_is_401_with_a_bearer_challenge(api: Api) -> None:
    response = await api.client.get("/v1/titles")
    body = await _problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="vodpipe"'
    assert "Bearer" in body["detail"]
    response = await api.client.get("/v1/titles", headers={"Authorization": "Bearer not-a-key"})
    await _problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_another_teams_upload_is_403(api: Api) -> None:
    url = await api.create(10, filename="clip.mp4")
    sport = {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {SPORT}"}
    response = await api.client.head(url, headers=sport)
    assert response.status == 403
    response = await api.client.delete(url, headers=sport)
    await _problem(response, 403)
    assert await api.offset(url) == 0  # still there


async def test_a_request_without_tus_resumable_is_412_naming_the_version(api: Api) -> None:
    response = await api.client.post("/v1/uploads", headers={**AUTH, "Upload-Length": "10"})
    await _problem(response, 412)
    assert response.headers["Tus-Version"] == "1.0.0"


async def test_patches_advance_the_offset_across_parts_and_head_reports_it(api: Api) -> None:
    data = bytes(range(256)) * 1000  # 256,000 bytes: several 64 KiB parts
    url = await api.create(len(data) + 10, filename="clip.mp4", title="clip")
    response = await api.patch(url, 0, data, **{"Upload-Checksum": _sha("sha256", data)})
    assert response.status == 204
    assert response.headers["Upload-Offset"] == str(len(data))
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert await api.offset(url) == len(data)
    # The bytes sit in the store as parts (none over PART), in order.
    upload_id = url.rsplit("/", 1)[1]
    info, _ = Uploads(api.store, None).get(upload_id)
    assert [p.size for p in info.parts] == [PART, PART, PART, len(data) - 3 * PART]
    assert b"".join(api.store.get_bytes(p.key) for p in info.parts) == data
    # The title shows the upload in progress.
    view = await (await api.client.get("/v1/titles/clip", headers=AUTH)).json()
    assert view["status"] == "uploading"
    assert view["upload"]["offset"] == len(data)


async def test_an_offset_mismatch_is_409_and_changes_nothing(api: Api) -> None:
    url = await api.create(100, filename="clip.mp4")
    assert (await api.patch(url, 0, b"a" * 40)).status == 204
    body = await _problem(await api.patch(url, 10, b"b" * 10), 409)
    assert "at byte 40" in body["detail"]
    assert await api.offset(url) == 40


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
async def test_a_checksum_mismatch_is_460_and_the_chunk_is_discarded(api: Api, algorithm: str) -> None:
    url = await api.create(300_000, filename="clip.mp4")
    assert (await api.patch(url, 0, b"a" * 1000)).status == 204
    chunk = b"c" * 200_000  # spans parts: those already written must go too
    response = await api.patch(url, 1000, chunk, **{"Upload-Checksum": _sha(algorithm, b"not the chunk")})
    body = await _problem(response, 460)
    assert response.reason == "Checksum Mismatch"
    assert "discarded" in body["detail"]
    assert await api.offset(url) == 1000
    upload_id = url.rsplit("/", 1)[1]
    assert len(list(api.store.list(f"uploads/{upload_id}/parts/"))) == 1  # only the first PATCH's part
    ok = await api.patch(url, 1000, chunk, **{"Upload-Checksum": _sha(algorithm, chunk)})
    assert ok.status == 204
    assert ok.headers["Upload-Offset"] == "201000"


async def test_an_unknown_checksum_algorithm_is_400(api: Api) -> None:
    url = await api.create(10, filename="clip.mp4")
    await _problem(await api.patch(url, 0, b"x", **{"Upload-Checksum": _sha("md5", b"x")}), 400)


async def test_a_body_past_the_upload_length_is_413_and_discarded(api: Api) -> None:
    url = await api.create(10, filename="clip.mp4")
    await _problem(await api.patch(url, 0, b"x" * 11), 413)
    assert await api.offset(url) == 0


async def test_a_patch_of_another_content_type_is_415(api: Api) -> None:
    url = await api.create(10, filename="clip.mp4")
    response = await api.patch(url, 0, b"x", **{"Content-Type": "application/octet-stream"})
    await _problem(response, 415)


async def test_termination_removes_the_upload_and_its_bytes(api: Api) -> None:
    url = await api.create(100, filename="clip.mp4", title="gone")
    assert (await api.patch(url, 0, b"z" * 50)).status == 204
    response = await api.client.delete(url, headers=TUS)
    assert response.status == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    await _problem(await api.client.head(url, headers=TUS), 404)
    await _problem(await api.patch(url, 50, b"z"), 404)
    assert list(api.store.list("uploads/")) == []
    await _problem(await api.client.get("/v1/titles/gone", headers=AUTH), 404)


async def test_a_completed_upload_is_ingested_and_queued(api: Api, make_master: MakeMaster) -> None:
    master = make_master("api-1s.mp4", seconds=1, size="320x180").read_bytes()
    url = await api.create(len(master), filename="My Clip.mp4", title="my-clip")
    half = len(master) // 2
    assert (await api.patch(url, 0, master[:half])).status == 204
    response = await api.patch(url, half, master[half:])
    assert response.status == 204
    assert response.headers["Upload-Offset"] == str(len(master))
    assert response.headers["Vodpipe-Title"] == "my-clip"
    assert api.queued == ["my-clip"]
    record = Catalog(api.store).get("my-clip")
    digest = hashlib.sha256(master).hexdigest()
    assert record.status == "ingested"
    assert record.master_key == f"masters/my-clip/{digest}.mp4"  # content-addressed, as ingest does
    assert api.store.get_bytes(record.master_key) == master
    assert list(api.store.list("uploads/")) == []  # the parts are gone once the master is stored
    view = await (await api.client.get("/v1/titles/my-clip", headers=AUTH)).json()
    assert view["status"] == "ingested"
    assert view["upload"] is None
    assert view["probe"]["video"]["width"] == 320
    assert view["playback"] is None


async def test_a_bad_master_fails_the_last_patch_with_422_and_leaves_nothing(api: Api) -> None:
    junk = b"this is not a video" * 100
    url = await api.create(len(junk), filename="junk.mp4", title="junk")
    body = await _problem(await api.patch(url, 0, junk), 422)
    assert body["type"] == "https://vodpipe.dev/problems/invalid-master"
    assert api.queued == []
    assert list(api.store.list("")) == []
    await _problem(await api.client.head(url, headers=TUS), 404)


async def test_post_titles_opens_an_upload_for_a_new_title(api: Api) -> None:
    new = {"title": "film", "filename": "f.mov", "length": 5}
    response = await api.client.post("/v1/titles", json=new, headers=AUTH)
    assert response.status == 201
    assert response.headers["Location"] == "/v1/titles/film"
    view = await response.json()
    assert view["status"] == "uploading"
    assert view["upload"]["length"] == 5
    assert await api.offset(view["upload"]["url"]) == 0
    bad = await api.client.post("/v1/titles", json={"title": "Bad Title", "length": 5}, headers=AUTH)
    assert "invalid title" in (await _problem(bad, 400))["detail"]
    response = await api.client.post("/v1/titles", data=b"not json", headers=AUTH)
    await _problem(response, 400)


def _record(title: str, status: str, version: str | None = None) -> bytes:
    return json.dumps(
        {
            "title": title,
            "status": status,
            "master_key": f"masters/{title}/abc.mp4",
            "master_sha256": "abc",
            "master_name": "m.mp4",
            "probe": {},
            "published_version": version,
            "progress": {"encode": 40.0},
        }
    ).encode()


async def test_list_pages_titles_and_get_shows_playback(api: Api) -> None:
    for name in ("a", "b", "c"):
        api.store.put_bytes(f"catalog/titles/{name}.json", _record(name, "published", "v1"))
    first = await (await api.client.get("/v1/titles?limit=2", headers=AUTH)).json()
    assert [t["id"] for t in first["titles"]] == ["a", "b"]
    assert first["next"] == "/v1/titles?limit=2&after=b"
    second = await (await api.client.get(first["next"], headers=AUTH)).json()
    assert [t["id"] for t in second["titles"]] == ["c"]
    assert second["next"] is None
    view = await (await api.client.get("/v1/titles/b", headers=AUTH)).json()
    assert view["playback"] == {
        "hls": "https://cdn.example/media/b/v1/master.m3u8",
        "dash": "https://cdn.example/media/b/v1/manifest.mpd",
    }
    await _problem(await api.client.get("/v1/titles/nope", headers=AUTH), 404)
    await _problem(await api.client.get("/v1/titles/Not_Valid", headers=AUTH), 404)


async def test_delete_removes_record_master_and_media_but_not_while_encoding(api: Api) -> None:
    api.store.put_bytes("catalog/titles/busy.json", _record("busy", "encoding"))
    body = await _problem(await api.client.delete("/v1/titles/busy", headers=AUTH), 409)
    assert "encoding" in body["detail"]
    api.store.put_bytes("catalog/titles/done.json", _record("done", "published", "v1"))
    keys = (
        "masters/done/abc.mp4",
        "media/done/v1/master.m3u8",
        "work/done/v1/x.mp4",
        "reports/done/v1/plan.json",
        "access/done.json",
        "media/donet/v1/keep",
    )
    for key in keys:
        api.store.put_bytes(key, b"x")
    assert (await api.client.delete("/v1/titles/done", headers=AUTH)).status == 204
    assert sorted(api.store.list("")) == ["catalog/titles/busy.json", "media/donet/v1/keep"]
    await _problem(await api.client.delete("/v1/titles/done", headers=AUTH), 404)


async def test_every_route_is_in_the_openapi_document(api: Api) -> None:
    served = await (await api.client.get("/v1/openapi.json")).json()
    assert served == OPENAPI
    assert served["openapi"] == "3.1.0"
    routes = {(r.resource.canonical, r.method.lower()) for r in api.app.router.routes() if r.resource}
    # add_get also answers HEAD; only the tus HEAD is an operation of its own.
    routes -= {(path, "head") for path, method in set(routes) if method == "get"}
    documented = {(path, method) for path, item in served["paths"].items() for method in item}
    documented = {(path, method) for path, method in documented if method != "parameters"}
    assert routes == documented


async def test_healthz_answers_without_a_key(api: Api) -> None:
    response = await api.client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


DEFAULTS = {"encryption": None, "signed_urls": None, "ladder": None, "codecs": None}
CHOSEN = {"encryption": "cbcs", "signed_urls": True, "ladder": "per-title", "codecs": ["h264", "hevc"]}


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("encryption", "aes-128", '"cenc", "cbcs" or null'),
        ("encryption", 1, "or null (clear)"),
        ("signed_urls", "true", "true, false or null"),
        ("ladder", "auto", '"fixed", "per-title" or null'),
        ("codecs", "h264,av1", "a non-empty list of codec names"),
        ("codecs", ["vp9"], "use some of"),
    ],
    ids=[
        "encryption-unknown",
        "encryption-type",
        "signed-urls-type",
        "ladder",
        "codecs-type",
        "codecs-unknown",
    ],
)
async def test_a_bad_option_is_400_naming_the_field_and_opens_nothing(
    api: Api, field: str, value: object, says: str
) -> None:
    new = {"title": "film", "filename": "f.mov", "length": 5, field: value}
    body = await _problem(await api.client.post("/v1/titles", json=new, headers=AUTH), 400)
    assert body["field"] == field
    assert body["detail"].startswith(f"{field}: ")
    assert says in body["detail"]
    assert list(api.store.list("")) == []


async def test_av1_with_encryption_is_refused_at_creation_not_after_the_upload(api: Api) -> None:
    new = {"title": "film", "length": 5, "encryption": "cenc", "codecs": ["h264", "av1"]}
    body = await _problem(await api.client.post("/v1/titles", json=new, headers=AUTH), 400)
    assert body["field"] == "codecs"
    assert "AV1 cannot be encrypted yet" in body["detail"]
    metadata = encode_metadata({"title": "film", "encryption": "cenc", "codecs": "av1"})
    headers = {**TUS, "Upload-Length": "5", "Upload-Metadata": metadata}
    body = await _problem(await api.client.post("/v1/uploads", headers=headers), 400)
    assert body["field"] == "codecs"
    assert list(api.store.list("")) == []


async def test_bad_upload_metadata_options_are_400_naming_the_key(api: Api) -> None:
    metadata = encode_metadata({"filename": "f.mp4", "signed_urls": "yes"})
    headers = {**TUS, "Upload-Length": "5", "Upload-Metadata": metadata}
    body = await _problem(await api.client.post("/v1/uploads", headers=headers), 400)
    assert body["field"] == "signed_urls"
    assert body["detail"] == 'signed_urls: must be "true" or "false", not \'yes\''


async def test_options_round_trip_into_the_title_and_its_record(api: Api, make_master: MakeMaster) -> None:
    master = make_master("api-1s.mp4", seconds=1, size="320x180").read_bytes()
    new = {"title": "film", "filename": "film.mp4", "length": len(master), **CHOSEN}
    response = await api.client.post("/v1/titles", json=new, headers=AUTH)
    assert response.status == 201, await response.text()
    view = await response.json()
    assert view["options"] == CHOSEN
    assert view["upload"]["options"] == CHOSEN
    assert (await (await api.client.get("/v1/titles/film", headers=AUTH)).json())["options"] == CHOSEN
    assert not api.store.exists("access/film.json")  # nothing is decided before the master is in

    assert (await api.patch(view["upload"]["url"], 0, master)).status == 204
    assert api.queued == ["film"]
    record = Catalog(api.store).get("film")
    assert (record.encryption, record.ladder_mode, record.video_codecs) == (
        "cbcs",
        "per-title",
        ["h264", "hevc"],
    )
    assert read_signed_urls(api.store, "film") is True  # recorded before the job could publish
    view = await (await api.client.get("/v1/titles/film", headers=AUTH)).json()
    assert view["options"] == CHOSEN
    assert view["ladder_mode"] == "per-title"
    listed = await (await api.client.get("/v1/titles", headers=AUTH)).json()
    assert [t["options"] for t in listed["titles"]] == [CHOSEN]


async def test_options_of_a_tus_creation_and_the_defaults(api: Api) -> None:
    await api.create(5, filename="a.mp4", title="a", encryption="cenc", signed_urls="false", codecs="h264")
    view = await (await api.client.get("/v1/titles/a", headers=AUTH)).json()
    assert view["options"] == {"encryption": "cenc", "signed_urls": False, "ladder": None, "codecs": ["h264"]}
    await api.create(5, filename="b.mp4", title="b")
    view = await (await api.client.get("/v1/titles/b", headers=AUTH)).json()
    assert view["options"] == {**DEFAULTS, "signed_urls": False}  # not chosen: as the origin serves it now
    api.store.put_bytes("catalog/titles/old.json", _record("old", "published", "v1"))  # before options
    view = await (await api.client.get("/v1/titles/old", headers=AUTH)).json()
    assert view["options"] == {**DEFAULTS, "signed_urls": False}


async def test_responses_follow_the_openapi_document(api: Api) -> None:
    from openapi_schema_validator import OAS31Validator
    from openapi_spec_validator import validate

    validate(OPENAPI)

    def check(instance: object, schema: str) -> None:
        document = {**OPENAPI, "$ref": f"#/components/schemas/{schema}"}
        OAS31Validator(document).validate(instance)

    new = {"title": "film", "filename": "f.mov", "length": 5, **CHOSEN}
    check(new, "NewTitle")
    created = await (await api.client.post("/v1/titles", json=new, headers=AUTH)).json()
    check(created, "Title")
    api.store.put_bytes("catalog/titles/done.json", _record("done", "published", "v1"))
    check(await (await api.client.get("/v1/titles/done", headers=AUTH)).json(), "Title")
    check(await (await api.client.get("/v1/titles", headers=AUTH)).json(), "TitleList")
    bad = await api.client.post("/v1/titles", json={**new, "ladder": 3}, headers=AUTH)
    check(await _problem(bad, 400), "Problem")
