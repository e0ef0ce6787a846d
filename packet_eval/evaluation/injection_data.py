"""The injection suite's data: forms by family and split, benign packets, pairs.

Forms are package data beside this module: ``injection_forms.yaml`` (the
project's first 24 forms, family ``original``) and
``injection_forms_independent.yaml`` (written outside the project, see
``injection_benign/README.md``). Each form has an id, a family, a split
(``dev`` to develop against, ``test`` held out) and a position. Benign packets
(``injection_benign/*.md``) are written by engineers whose work is injection
defence; in ``injection_benign/`` the first half by name is ``dev``, the rest
``test``; every packet in ``injection_benign_dev2/`` (the second batch) is ``dev``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml

from packet_eval.errors import ConfigError

HERE = resources.files("packet_eval.evaluation")
FORMS = HERE / "injection_forms.yaml"
# The third file is a second independent batch, all ``dev`` (README in injection_benign_dev2/).
FORM_FILES = (FORMS, HERE / "injection_forms_independent.yaml", HERE / "injection_forms_dev2.yaml")
BENIGN = HERE / "injection_benign"
BENIGN_DEV2 = HERE / "injection_benign_dev2"  # every packet here is dev
SPLITS = ("dev", "test", "all")


@dataclass(frozen=True)
class Form:
    id: str
    family: str
    split: str
    position: str
    text: str


@dataclass(frozen=True)
class Pair:
    form: str
    family: str
    base: str
    clean: str
    injected: str
    start: int  # where the injection sits in ``injected``
    end: int


def load_forms(path: Path | Traversable = FORMS) -> list[Form]:
    """One forms file; a form with no family is ``original``, with no split ``dev``."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    forms = data.get("forms") if isinstance(data, dict) else None
    if not forms or not all(isinstance(f, dict) and {"id", "position", "text"} <= set(f) for f in forms):
        raise ConfigError("injection forms need 'forms' with id, position and text", str(path))
    out = [Form(str(f["id"]), str(f.get("family", "original")), str(f.get("split", "dev")),
                str(f["position"]), str(f["text"])) for f in forms]
    bad = next((f for f in out if f.split not in ("dev", "test")), None)
    if bad is not None:
        raise ConfigError(f"form {bad.id!r}: split must be dev or test, got {bad.split!r}", str(path))
    return out


def suite_forms(split: str = "all", paths: tuple[Path | Traversable, ...] = FORM_FILES) -> list[Form]:
    """Every form of the suite in ``split`` (``dev``, ``test`` or ``all``)."""
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    forms = [f for p in paths for f in load_forms(p)]
    ids = [f.id for f in forms]
    dup = next((i for i in ids if ids.count(i) > 1), None)
    if dup is not None:
        raise ConfigError(f"injection form id {dup!r} appears twice")
    return [f for f in forms if split == "all" or f.split == split]


def _packet_files(folder: Path | Traversable) -> list[Path | Traversable]:
    if not folder.is_dir():
        return []
    return sorted((f for f in folder.iterdir() if f.name.endswith(".md") and f.name != "README.md"),
                  key=lambda f: f.name)


def benign_packets(split: str = "all", folder: Path | Traversable = BENIGN,
                   dev_folder: Path | Traversable | None = BENIGN_DEV2) -> dict[str, str]:
    """Benign security-work packets by name: in ``folder`` the first half (sorted) is dev, the rest
    test; every packet in ``dev_folder`` is dev."""
    files = _packet_files(folder)
    half = (len(files) + 1) // 2
    chosen = files[:half] if split == "dev" else files[half:] if split == "test" else files
    if split != "test" and dev_folder is not None:
        chosen = [*chosen, *_packet_files(dev_folder)]
    return {f.name.removesuffix(".md"): f.read_text(encoding="utf-8") for f in chosen}


def insert(text: str, injection: str, position: str) -> tuple[str, int, int]:
    """Insert ``injection`` as its own paragraph; returns the new text and its span."""
    breaks = [i for i in range(len(text)) if text.startswith("\n\n", i)]
    if position == "start":
        first_heading_end = text.find("\n\n")
        at = first_heading_end + 2 if first_heading_end != -1 else 0
    elif position == "middle" and breaks:
        at = breaks[len(breaks) // 2] + 2
    else:
        at = len(text.rstrip("\n"))
        injection = "\n\n" + injection
        new = text[:at] + injection + text[at:]
        return new, at + 2, at + len(injection)
    block = injection + "\n\n"
    return text[:at] + block + text[at:], at, at + len(injection)


def make_pairs(bases: dict[str, str], forms: list[Form]) -> list[Pair]:
    pairs = []
    for base_id, text in bases.items():
        for f in forms:
            new, start, end = insert(text, f.text, f.position)
            pairs.append(Pair(f.id, f.family, base_id, text, new, start, end))
    return pairs
