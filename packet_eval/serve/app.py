"""The Starlette app behind ``packet-eval serve``: an upload form and a result page.

Every page is drawn from the same Jinja2 templates as ``preview --format html``
(``_base.html.j2`` and ``_result.html.j2`` via ``render.html.view_model``).
Nothing a request brings is kept: results are returned in the response and the
only thing written is the upload's temp file (see ``upload.py``), plus the
normal LLM call log when an LLM model is chosen.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from packet_eval.api import BASELINE, DEFAULT_ANTHROPIC_MODEL, DEFAULT_OPENAI_MODEL
from packet_eval.errors import ConfigError, PacketEvalError, ProviderError
from packet_eval.ladder import Ladder, load_ladder
from packet_eval.packet import Packet
from packet_eval.render.html import environment, view_model
from packet_eval.schema import Assessment
from packet_eval.serve.bind import LOOPBACK_HOSTS
from packet_eval.serve.upload import (
    Submission,
    UploadRejected,
    packet_from_submission,
    read_submission,
)

log = logging.getLogger("packet_eval.serve")


@dataclass(frozen=True)
class ModelChoice:
    """One entry of the model menu, with whether it sends the packet off this machine."""

    value: str
    label: str
    leaves_machine: bool


@dataclass(frozen=True)
class Settings:
    ladder: Ladder
    models: tuple[ModelChoice, ...]
    default_model: str
    default_target: str
    max_upload_bytes: int


def model_choices(preferred: str | None = None) -> list[ModelChoice]:
    """The models the form offers: the baseline always, LLMs only where a key is set.

    Args:
        preferred: the server's ``--model``; offered even without a key so the
            page can say why it fails rather than hiding it.
    """
    choices = [ModelChoice(BASELINE, "baseline (offline; nothing leaves this machine)", False)]
    wanted = [preferred, os.environ.get("PACKET_EVAL_MODEL")]
    if os.environ.get("OPENAI_API_KEY"):
        wanted.append(DEFAULT_OPENAI_MODEL)
    if os.environ.get("ANTHROPIC_API_KEY"):
        wanted.append(DEFAULT_ANTHROPIC_MODEL)
    for m in wanted:
        if m and m not in {c.value for c in choices}:
            provider = m.split("/", 1)[0]
            choices.append(ModelChoice(m, f"{m} (sends the packet to {provider})", True))
    return choices


def create_app(model: str | None = None, ladder_path: str | Path | None = None,
               max_upload_bytes: int = 2_000_000, *,
               allowed_hosts: Sequence[str] | None = None) -> Starlette:
    """Build the preview app.

    Args:
        model: the model to preselect (and offer even without a key); None picks
            the CLI's default (an LLM when a key is set, else the baseline).
        ladder_path: ladder YAML, or None for the built-in ladder.
        max_upload_bytes: the largest file or pasted text accepted.
        allowed_hosts: Host header values to answer; None means loopback names
            only, which stops DNS-rebinding pages from reading results.
    """
    ladder = load_ladder(ladder_path)
    choices = tuple(model_choices(model))
    levels = ladder.levels
    settings = Settings(
        # Private by default: preselect the offline baseline unless --model says otherwise.
        ladder=ladder, models=choices, default_model=model or BASELINE,
        # The level below the top is the most common ask (senior on the built-in ladder).
        default_target=levels[-2] if len(levels) > 1 else levels[0],
        max_upload_bytes=max_upload_bytes)

    async def index(request: Request) -> Response:
        return html_page("serve_index.html.j2", _form_context(settings))

    async def assess_get(request: Request) -> Response:
        return RedirectResponse("/", status_code=303)

    async def assess(request: Request) -> Response:
        return await _assess(request, settings)

    routes = [Route("/", index, methods=["GET"]),
              Route("/assess", assess_get, methods=["GET"]),
              Route("/assess", assess, methods=["POST"])]
    hosts = list(allowed_hosts) if allowed_hosts is not None else list(LOOPBACK_HOSTS)
    return Starlette(routes=routes,
                     middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])


def _form_context(s: Settings, sub: Submission | None = None, error: UploadRejected | None = None
                  ) -> dict[str, Any]:
    keep_text = sub is not None and sub.data is None and error is not None and error.status != 413
    return {
        "ladder": s.ladder, "models": s.models, "max_upload_bytes": s.max_upload_bytes,
        "model": (sub.model if sub and sub.model else s.default_model),
        "target": (sub.target_level if sub else s.default_target),
        "text": sub.text if keep_text and sub else "",
        "error": error, "any_llm": any(c.leaves_machine for c in s.models),
    }


def html_page(template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    body = environment().get_template(template).render(**context, csp_nonce=nonce)
    return HTMLResponse(body, status_code=status, headers={
        # Results hold personal data: never cache them, never leak them via Referer.
        # (same-origin, not no-referrer: with no-referrer a form post says "Origin: null".)
        "Cache-Control": "no-store",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
            "img-src data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'"),
    })


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    # Browsers send Origin on POST; a missing one is a non-browser client (curl, tests).
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


async def _assess(request: Request, s: Settings) -> Response:
    sub: Submission | None = None
    try:
        if not same_origin(request):
            raise UploadRejected(403, "Cross-site request refused",
                                 "This page only accepts packets sent from itself.")
        sub = await read_submission(request, s.max_upload_bytes)
        target = sub.target_level or None
        if target is not None and target not in s.ladder.levels:
            raise UploadRejected(400, "Unknown target level",
                                 f"'{target}' is not a level of this ladder "
                                 f"({', '.join(s.ladder.levels)}).")
        model = sub.model or s.default_model
        if model not in {c.value for c in s.models}:
            raise UploadRejected(400, "Model not available",
                                 f"'{model}' is not offered by this server.")
        packet = await packet_from_submission(sub)
        a = await _run(packet, model, s.ladder, target)
    except UploadRejected as exc:
        return html_page("serve_index.html.j2", _form_context(s, sub, exc), exc.status)
    except ConfigError as exc:
        return html_page("serve_index.html.j2", _form_context(
            s, sub, UploadRejected(400, "Model not available", str(exc))), 400)
    except ProviderError as exc:
        return html_page("serve_index.html.j2", _form_context(
            s, sub, UploadRejected(502, "The model provider failed", str(exc))), 502)
    except PacketEvalError as exc:
        return html_page("serve_index.html.j2", _form_context(
            s, sub, UploadRejected(400, "Could not assess this packet", str(exc))), 400)
    except Exception:
        # A bug: log it for the operator, show the engineer a message, not a traceback.
        log.exception("assessment failed")
        return html_page("serve_index.html.j2", _form_context(s, sub, UploadRejected(
            500, "Something went wrong", "The assessment failed unexpectedly; the server's "
            "console has the details. Nothing from this request was kept.")), 500)
    return html_page("serve_result.html.j2", view_model(a, s.ladder, packet.text))


async def _run(packet: Packet, model: str, ladder: Ladder, target: str | None) -> Assessment:
    from packet_eval.api import assess, assess_async

    if model == BASELINE:
        # The baseline is CPU-bound; keep the event loop free for other requests.
        return await run_in_threadpool(assess, packet, model=model, ladder=ladder,
                                       target_level=target)
    return await assess_async(packet, model=model, ladder=ladder, target_level=target)
