"""Self-contained HTML for one assessment, built from the shared Jinja2 templates."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from packet_eval.ladder import Ladder
from packet_eval.render.highlight import items_of, segments
from packet_eval.schema import Assessment

PALETTE = ["#2563eb", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d",
           "#dc2626", "#4f46e5", "#ca8a04"]


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(loader=PackageLoader("packet_eval", "templates"),
                       autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                       lstrip_blocks=True)


def view_model(a: Assessment, ladder: Ladder, text: str, *, left_machine: bool | None = None
               ) -> dict[str, Any]:
    """Everything the result templates need, for the CLI file and the web app alike."""
    colours = {d.id: PALETTE[i % len(PALETTE)] for i, d in enumerate(ladder.dimensions)}
    items = items_of(a)
    details = {i.key: {"quote": text[i.start:i.end], **i.detail} for i in items}
    return {
        "items_json": json.dumps(details).replace("</", "<\\/"),
        "a": a, "ladder": ladder, "colours": colours, "scale": ladder.scale,
        "rank": ladder.rank, "segments": segments(text, items), "items": items,
        "left_machine": a.extractor.name != "baseline" if left_machine is None else left_machine,
    }


def render_html(a: Assessment, ladder: Ladder, text: str) -> str:
    return environment().get_template("preview.html.j2").render(**view_model(a, ladder, text))
