"""Renderers for an Assessment: terminal text, markdown, JSON and self-contained HTML."""

from packet_eval.render.html import render_html
from packet_eval.render.markdown import render_markdown
from packet_eval.render.text import render_text

__all__ = ["render_html", "render_markdown", "render_text"]
