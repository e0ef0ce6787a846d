"""Prompt templates: files in ``prompts/``, versioned by their content hash.

The templates ship inside the wheel as ``packet_eval/prompts``; in a source
checkout they are read from the top-level ``prompts/`` directory. The prompt
version is the first 12 hex digits of the sha256 over every template, so any
edit gives a new version, which every Assessment and call row records.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = ("extract_system.md.j2", "extract_user.md.j2")


@lru_cache(maxsize=1)
def prompts_dir() -> Path:
    package = Path(__file__).resolve().parent.parent  # packet_eval/
    packaged = package / "prompts"
    if packaged.is_dir():
        return packaged
    return package.parent / "prompts"


@lru_cache(maxsize=1)
def prompt_version() -> str:
    digest = hashlib.sha256()
    for name in TEMPLATES:
        digest.update(name.encode() + b"\0" + (prompts_dir() / name).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(prompts_dir())), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)


def render(name: str, **values: object) -> str:
    return _env().get_template(name).render(**values).strip() + "\n"
