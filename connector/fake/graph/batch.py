"""``POST /v1.0/$batch``: up to 20 requests in one, each answered on its own (JSON batching).

Every inner request is routed, authorised (with the batch's token), faulted, throttled and counted
as if sent alone; its ``Prefer`` header is its own (Graph does not apply the batch's headers to the
requests inside). Inner requests run one after the other; responses come back in request order.
"""

from __future__ import annotations

import json
from typing import Any

from connector.fake.graph.context import Ctx, make_request
from connector.fake.graph.replies import Reply, bad_request, error_body

MAX_REQUESTS = 20


def handle(ctx: Ctx) -> Reply:
    data = ctx.json_object()
    requests = data.get("requests")
    if not isinstance(requests, list) or not requests:
        raise bad_request("The batch request must contain a non-empty 'requests' array.")
    if len(requests) > MAX_REQUESTS:
        raise bad_request(f"The number of batch requests exceeds the limit of {MAX_REQUESTS}.")
    ids = [r.get("id") if isinstance(r, dict) else None for r in requests]
    if any(not isinstance(i, str) or not i for i in ids) or len(set(ids)) != len(ids):
        raise bad_request("Every batch request needs a unique string 'id'.")
    responses: list[dict[str, Any]] = []
    for r in requests:
        method, url = r.get("method"), r.get("url")
        if not isinstance(method, str) or not isinstance(url, str) or not url:
            responses.append(
                {
                    "id": r["id"],
                    "status": 400,
                    "headers": {},
                    "body": error_body("BadRequest", "A batch request needs 'method' and 'url'."),
                }
            )
            continue
        raw_headers = r.get("headers") or {}
        headers = {str(k).lower(): str(v) for k, v in raw_headers.items()} if isinstance(raw_headers, dict) else {}
        headers["authorization"] = ctx.req.headers.get("authorization", "")
        if "user-agent" in ctx.req.headers:
            headers["user-agent"] = ctx.req.headers["user-agent"]
        body = r.get("body")
        raw = json.dumps(body).encode() if body is not None else b""
        inner = make_request(method, url if url.startswith("/") else "/" + url, headers, raw)
        reply = ctx.server.handle(inner)
        if reply.drop:  # an inner request cannot drop the batch's connection
            reply = Reply(
                503, error_body("ServiceNotAvailable", "The service is temporarily unavailable."), {"Retry-After": "1"}
            )
        out_headers = dict(reply.headers)
        if reply.body is not None:
            out_headers.setdefault("Content-Type", "application/json")
        entry: dict[str, Any] = {"id": r["id"], "status": reply.status, "headers": out_headers}
        if reply.body is not None:
            entry["body"] = reply.body
        responses.append(entry)
    return Reply(200, {"responses": responses})
