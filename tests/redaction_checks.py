"""One check for redaction cases: masked strings gone, kept strings kept, restore exact."""

from __future__ import annotations

from packet_eval.redact import Redactor


def assert_masks(text: str, masked: list[str], kept: list[str]) -> None:
    r = Redactor.for_text(text)
    out = r.redact(text)
    for s in masked:
        assert s not in out, (s, out)
    for s in kept:
        assert s in out, (s, out)
    assert r.restore(out) == text
