"""The OpenAPI 3.1 document of the upload and catalog API, served at ``/v1/openapi.json``.

Written by hand next to the routes (``ingest.api``); a test checks that every route is in it.
"""

from __future__ import annotations

from typing import Any


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _json(description: str, ref: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _header(description: str, schema_type: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": schema_type}}


_AUTH = {
    "401": _problem("No API key, or not a valid one (WWW-Authenticate: Bearer)."),
}
_TUS = {"name": "Tus-Resumable", "in": "header", "required": True, "schema": {"const": "1.0.0"}}
_TITLE = {"name": "title", "in": "path", "required": True, "schema": {"$ref": "#/components/schemas/TitleId"}}
_UPLOAD = {
    "name": "upload",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
}
_TUS_OFFSET = {"Upload-Offset": _header("Bytes received so far.", "integer")}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "vodpipe upload and catalog API",
        "version": "1",
        "description": (
            "Content teams create titles, upload masters with tus 1.0.0 (core, creation, checksum, "
            "termination; https://tus.io/protocols/resumable-upload) and follow each title's job. "
            "Errors are application/problem+json (RFC 9457)."
        ),
    },
    "security": [{"apiKey": []}],
    "paths": {
        "/healthz": {
            "get": {
                "summary": "Liveness: the API answers and its object store does.",
                "security": [],
                "responses": {
                    "200": {"description": "Healthy."},
                    "503": _problem("The store is unavailable."),
                },
            }
        },
        "/v1/openapi.json": {
            "get": {
                "summary": "This document.",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1."}},
            }
        },
        "/v1/titles": {
            "post": {
                "summary": "Create a title and open a tus upload for its master.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewTitle"}}},
                },
                "responses": {
                    "201": _json(
                        "The title, with its open upload (upload.url takes tus PATCHes).",
                        "#/components/schemas/Title",
                    ),
                    "400": _problem(
                        "Malformed body or title, or an option this deployment refuses; "
                        "field names the one to fix."
                    ),
                    "409": _problem("The title is encoding or packaging."),
                    "413": _problem("Larger than Tus-Max-Size."),
                    **_AUTH,
                },
            },
            "get": {
                "summary": "List titles, by id, a page at a time.",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "maximum": 1000, "default": 100},
                    },
                    {"name": "after", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": _json(
                        "A page of titles; next is the following page.", "#/components/schemas/TitleList"
                    ),
                    **_AUTH,
                },
            },
        },
        "/v1/titles/{title}": {
            "parameters": [_TITLE],
            "get": {
                "summary": "A title: status, stage progress, probe, ladder, renditions, playback, error.",
                "responses": {
                    "200": _json("The title.", "#/components/schemas/Title"),
                    "404": _problem("No such title."),
                    **_AUTH,
                },
            },
            "delete": {
                "summary": "Delete the record, the master, work files and published media.",
                "responses": {
                    "204": {"description": "Deleted."},
                    "404": _problem("No such title."),
                    "409": _problem(
                        "The title is encoding or packaging: delete it once published or failed."
                    ),
                    **_AUTH,
                },
            },
        },
        "/v1/uploads": {
            "options": {
                "summary": "tus capabilities.",
                "security": [],
                "responses": {
                    "204": {
                        "description": "What this server speaks.",
                        "headers": {
                            "Tus-Version": _header("1.0.0"),
                            "Tus-Extension": _header("creation,checksum,termination"),
                            "Tus-Max-Size": _header("Largest Upload-Length accepted.", "integer"),
                            "Tus-Checksum-Algorithm": _header("sha1,sha256"),
                        },
                    }
                },
            },
            "post": {
                "summary": "tus creation: open an upload.",
                "parameters": [
                    _TUS,
                    {
                        "name": "Upload-Length",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    {
                        "name": "Upload-Metadata",
                        "in": "header",
                        "required": True,
                        "description": (
                            "Base64 pairs: filename, title (default: the file name's slug), and the "
                            "title's options as text: encryption (cbcs|cenc), signed_urls "
                            "(true|false), ladder (fixed|per-title), codecs (h264,av1)."
                        ),
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "201": {
                        "description": "Created; Location is the upload's URL.",
                        "headers": {
                            "Location": _header("The upload URL."),
                            "Vodpipe-Title": _header("The title id."),
                        },
                    },
                    "400": _problem("Bad Upload-Length or Upload-Metadata (field names the key)."),
                    "409": _problem("The title is encoding or packaging."),
                    "412": _problem("Tus-Resumable is not 1.0.0."),
                    "413": _problem("Larger than Tus-Max-Size."),
                    **_AUTH,
                },
            },
        },
        "/v1/uploads/{upload}": {
            "parameters": [_UPLOAD],
            "options": {
                "summary": "tus capabilities.",
                "security": [],
                "responses": {"204": {"description": "As /v1/uploads."}},
            },
            "head": {
                "summary": "tus core: the offset to resume from.",
                "parameters": [_TUS],
                "responses": {
                    "200": {"description": "Upload-Offset and Upload-Length.", "headers": _TUS_OFFSET},
                    "403": _problem("Another team's upload."),
                    "404": _problem("No such upload (finished, terminated or never created)."),
                    **_AUTH,
                },
            },
            "patch": {
                "summary": "tus core: append bytes; the last PATCH ingests the master and queues its job.",
                "parameters": [
                    _TUS,
                    {
                        "name": "Upload-Offset",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    {
                        "name": "Upload-Checksum",
                        "in": "header",
                        "description": "sha1 or sha256 of this body, Base64.",
                        "schema": {"type": "string"},
                    },
                ],
                "requestBody": {"required": True, "content": {"application/offset+octet-stream": {}}},
                "responses": {
                    "204": {
                        "description": "Stored; Upload-Offset is the new offset.",
                        "headers": _TUS_OFFSET,
                    },
                    "400": _problem("Bad headers or an unsupported checksum algorithm."),
                    "403": _problem("Another team's upload."),
                    "404": _problem("No such upload."),
                    "409": _problem("Upload-Offset is not the upload's offset: HEAD and resume."),
                    "413": _problem("The body passes Upload-Length."),
                    "415": _problem("Content-Type is not application/offset+octet-stream."),
                    "422": _problem(
                        "The completed master is not usable (the reason); the upload is removed."
                    ),
                    "460": _problem("Checksum Mismatch: the chunk was discarded."),
                    **_AUTH,
                },
            },
            "delete": {
                "summary": "tus termination: remove the upload and its bytes.",
                "parameters": [_TUS],
                "responses": {
                    "204": {"description": "Terminated."},
                    "403": _problem("Another team's upload."),
                    "404": _problem("No such upload."),
                    **_AUTH,
                },
            },
        },
    },
    "components": {
        "securitySchemes": {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "A content team's API key."}
        },
        "schemas": {
            "TitleId": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
            "NewTitle": {
                "type": "object",
                "required": ["length"],
                "properties": {
                    "title": {"$ref": "#/components/schemas/TitleId"},
                    "filename": {"type": "string"},
                    "length": {"type": "integer", "minimum": 0},
                    "encryption": {"$ref": "#/components/schemas/Encryption"},
                    "signed_urls": {
                        "type": ["boolean", "null"],
                        "description": "Serve the media only to signed URLs; null: unchanged.",
                    },
                    "ladder": {"$ref": "#/components/schemas/LadderMode"},
                    "codecs": {"$ref": "#/components/schemas/Codecs"},
                },
            },
            "Encryption": {
                "enum": ["cbcs", "cenc", None],
                "description": "Common Encryption scheme of the published media; null: clear.",
            },
            "LadderMode": {
                "enum": ["fixed", "per-title", None],
                "description": "Fixed ladder, or rungs chosen on the title's measured hull; "
                "null: VODPIPE_LADDER_MODE.",
            },
            "Codecs": {
                "type": ["array", "null"],
                "items": {"enum": ["h264", "hevc", "av1"]},
                "minItems": 1,
                "uniqueItems": True,
                "description": "Video codecs of the ladder; null: VODPIPE_VIDEO_CODECS. "
                "AV1 cannot be encrypted (yet).",
            },
            "TitleOptions": {
                "type": "object",
                "description": "What the title was created with; null: the deployment's default.",
                "required": ["encryption", "signed_urls", "ladder", "codecs"],
                "properties": {
                    "encryption": {"$ref": "#/components/schemas/Encryption"},
                    "signed_urls": {
                        "type": ["boolean", "null"],
                        "description": "Whether the media need a signed URL (or an open upload's choice).",
                    },
                    "ladder": {"$ref": "#/components/schemas/LadderMode"},
                    "codecs": {"$ref": "#/components/schemas/Codecs"},
                },
            },
            "Upload": {
                "type": ["object", "null"],
                "properties": {
                    "id": {"type": "string"},
                    "url": {"type": "string"},
                    "offset": {"type": "integer"},
                    "length": {"type": "integer"},
                    "percent": {"type": "number"},
                    "filename": {"type": "string"},
                    "options": {"$ref": "#/components/schemas/TitleOptions"},
                },
            },
            "Title": {
                "type": "object",
                "required": ["id", "status", "options"],
                "properties": {
                    "id": {"$ref": "#/components/schemas/TitleId"},
                    "options": {"$ref": "#/components/schemas/TitleOptions"},
                    "status": {
                        "enum": ["uploading", "ingested", "encoding", "packaging", "published", "failed"]
                    },
                    "progress": {"type": "object", "additionalProperties": {"type": "number"}},
                    "error": {"type": ["string", "null"]},
                    "probe": {"type": "object"},
                    "ladder": {"type": "array", "items": {"type": "object"}},
                    "renditions": {"type": "array", "items": {"type": "object"}},
                    "ladder_mode": {"enum": ["fixed", "per-title", None]},
                    "per_title": {
                        "type": ["object", "null"],
                        "description": "The per-title plan's chosen points, analysis time, report keys.",
                    },
                    "quality": {
                        "type": ["object", "null"],
                        "description": "Per rung: VMAF/PSNR(/SSIM) mean, p5, minimum; per title and segment.",
                    },
                    "playback": {
                        "type": ["object", "null"],
                        "properties": {"hls": {"type": "string"}, "dash": {"type": "string"}},
                    },
                    "upload": {"$ref": "#/components/schemas/Upload"},
                },
            },
            "TitleList": {
                "type": "object",
                "properties": {
                    "titles": {"type": "array", "items": {"$ref": "#/components/schemas/TitleSummary"}},
                    "next": {"type": ["string", "null"]},
                },
            },
            "TitleSummary": {
                "type": "object",
                "required": ["id", "status", "options"],
                "properties": {
                    "id": {"$ref": "#/components/schemas/TitleId"},
                    "status": {"type": "string"},
                    "published_version": {"type": ["string", "null"]},
                    "options": {"$ref": "#/components/schemas/TitleOptions"},
                },
            },
            "Problem": {
                "type": "object",
                "description": "RFC 9457 problem details.",
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "instance": {"type": "string"},
                    "field": {"type": "string", "description": "The request field (or metadata key) to fix."},
                },
            },
        },
    },
}
