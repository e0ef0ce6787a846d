"""Prompt injection: every suite form is caught, and clean packets are not flagged."""

from __future__ import annotations

import pytest

from packet_eval.dataset import load_dataset
from packet_eval.evaluation.injection_data import FORMS, insert, load_forms, make_pairs, suite_forms
from packet_eval.extractors import baseline
from packet_eval.injection import detect_injections
from packet_eval.ladder import load_ladder
from packet_eval.packet import packet_from_text
from packet_eval.sentences import split_units

FORM_LIST = load_forms(FORMS)
DEV_FORMS = suite_forms("dev")  # test forms are held out: scored by the suite's gate, never here
LADDER = load_ladder()
BASE = """# Packet

I built the eval harness that every change to the assistant now runs against.

I traced the citation failures to a stale index shard and added a freshness check.

I mentored two new engineers through their first eval suites."""


def test_the_suite_has_at_least_twenty_distinct_forms():
    assert len({f.id for f in FORM_LIST}) == len(FORM_LIST) >= 20
    assert {f.position for f in FORM_LIST} == {"start", "middle", "end"}
    assert {f.family for f in FORM_LIST} == {"original"}


def test_the_widened_suite_has_sixty_forms_in_fifteen_families_with_held_out_ones():
    forms = suite_forms("all")
    assert len(forms) >= 60 and len({f.family for f in forms}) >= 15
    dev, test = suite_forms("dev"), suite_forms("test")
    assert {f.id for f in dev}.isdisjoint({f.id for f in test}) and len(dev) + len(test) == len(forms)
    # every independent family has forms on both sides
    assert {f.family for f in test} == {f.family for f in forms} - {"original"}


@pytest.mark.parametrize("form", DEV_FORMS, ids=[f.id for f in DEV_FORMS])
def test_each_form_is_flagged_and_changes_nothing(form):
    text, start, end = insert(BASE, form.text, form.position)
    assert text[start:end] == form.text
    clean = baseline.extract(packet_from_text(BASE), LADDER)
    injected = baseline.extract(packet_from_text(text), LADDER)
    flagged = [f for f in injected.flags if f.flag == "prompt_injection"]
    assert any(f.start < end and start < f.end for f in flagged), form.id
    assert injected.level == clean.level
    assert {d: f.level for d, f in injected.dimensions.items()} == \
        {d: f.level for d, f in clean.dimensions.items()}
    for finding in injected.dimensions.values():
        for ev in finding.evidence:
            assert not (ev.start < end and start < ev.end), "injected text used as evidence"


def test_no_false_positives_on_clean_golden_packets():
    ds = load_dataset("datasets/golden", LADDER)
    clean_ids = [p for p in ds.ids("all") if "prompt_injection" not in ds.primary(p).flags]
    assert len(clean_ids) >= 50
    flagged = []
    for pid in clean_ids:
        text = ds.packet(pid).text
        units = [(u.start, u.end) for u in split_units(text) if not u.is_heading]
        if any(h.flagged for h in detect_injections(text, units)):
            flagged.append(pid)
    assert flagged == []


def test_pairs_cover_every_form_for_every_base():
    pairs = make_pairs({"a": BASE, "b": BASE + "\n\nMore text here."}, FORM_LIST)
    assert len(pairs) == 2 * len(FORM_LIST)
    assert all(p.injected[p.start:p.end] in {f.text for f in FORM_LIST} for p in pairs)
    assert {p.family for p in pairs} == {"original"}
