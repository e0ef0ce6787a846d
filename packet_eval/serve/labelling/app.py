"""The Starlette app behind ``packet-eval label``: one page per packet, and a save endpoint.

It follows ``packet-eval serve``'s rules: the same response headers (no cache,
same-origin referrer, a nonce CSP), loopback Host names only unless told
otherwise, and writes refused unless they come from the page itself. Saves are
JSON posts: a cross-site form cannot send ``application/json`` without a
preflight this app never answers, and the Origin check refuses the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from packet_eval.ladder import NONE
from packet_eval.serve.app import html_page, same_origin
from packet_eval.serve.bind import LOOPBACK_HOSTS
from packet_eval.serve.labelling.session import LabelRejected, LabelSession

MAX_SAVE_BYTES = 1_000_000
JSON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def page_context(s: LabelSession, packet_id: str) -> dict[str, Any]:
    """What the page needs for one packet: its text, the ladder, the saved label, others'."""
    ladder, packet = s.ladder, s.packet(packet_id)
    mine = s.mine()
    done, total = s.progress()
    data = {
        "packet_id": packet_id, "text": packet.text,
        "hidden": [[h.start, h.end] for h in packet.hidden],
        "scale": ladder.scale, "levels": ladder.levels, "none": NONE,
        "dimensions": [{"id": d.id, "name": d.name, "summary": d.summary,
                        "cells": {lv: c.behaviour for lv, c in d.cells.items()}}
                       for d in ladder.dimensions],
        "rule": {"core": ladder.level_rule.core_dimensions,
                 "requirements": {lv: r.model_dump() for lv, r in
                                  ladder.level_rule.requirements.items()}},
        "flags": [{"id": f.id, "name": f.name, "definition": f.definition} for f in ladder.flags],
        "saved": mine.get(packet_id), "others": s.others(packet_id),
        "next": s.next_unlabelled(after=packet_id),
    }
    return {"data": data, "calibrator": s.calibrator, "done": done, "total": total,
            "blind": s.blind, "ladder": ladder, "packet_id": packet_id,
            "packets": [{"id": pid, "done": pid in mine, "href": _href(pid)} for pid in s.ids]}


def _href(packet_id: str) -> str:
    return "/packet/" + quote(packet_id, safe="")


def create_label_app(session: LabelSession, *, allowed_hosts: Sequence[str] | None = None
                     ) -> Starlette:
    """Build the labelling app for one session.

    Args:
        allowed_hosts: Host header values to answer; None means loopback names only.
    """

    async def index(request: Request) -> Response:
        # Resume where this calibrator stopped: the first packet without their label.
        pid = session.next_unlabelled() or session.ids[0]
        return RedirectResponse(_href(pid), status_code=303)

    async def show(request: Request) -> Response:
        pid = request.path_params["packet_id"]
        if pid not in session.packet_files:
            return RedirectResponse("/", status_code=303)
        return html_page("label.html.j2", page_context(session, pid))

    async def save(request: Request) -> Response:
        return await _save(request, session)

    routes = [Route("/", index, methods=["GET"]),
              Route("/packet/{packet_id}", show, methods=["GET"]),
              Route("/packet/{packet_id}", save, methods=["POST"])]
    hosts = list(allowed_hosts) if allowed_hosts is not None else list(LOOPBACK_HOSTS)
    return Starlette(routes=routes,
                     middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=JSON_HEADERS)


async def _save(request: Request, s: LabelSession) -> Response:
    if not same_origin(request):
        return _refuse(403, "This page only accepts labels sent from itself.")
    if not request.headers.get("content-type", "").startswith("application/json"):
        return _refuse(415, "Labels are saved as JSON by the page.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_SAVE_BYTES:
        return _refuse(413, "This label is too large to save.")
    body = await request.body()
    if len(body) > MAX_SAVE_BYTES:
        return _refuse(413, "This label is too large to save.")
    try:
        submitted = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _refuse(400, "The page sent a label that is not JSON.")
    pid = request.path_params["packet_id"]
    try:
        record = await run_in_threadpool(s.save, pid, submitted)
    except LabelRejected as exc:
        return _refuse(400, str(exc))
    except OSError as exc:
        return _refuse(500, f"Could not write {s.out.name} ({exc.strerror}); nothing was saved.")
    done, total = s.progress()
    nxt = s.next_unlabelled(after=pid)
    return JSONResponse({"saved": record, "done": done, "total": total,
                         "next": _href(nxt) if nxt else None}, headers=JSON_HEADERS)
