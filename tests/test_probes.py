"""Metamorphic probes: each transformation changes only what it should and keeps gold evidence
grounded; the probes task catches a deliberately length-biased extractor and the gate fails it."""

from __future__ import annotations

import difflib
import json
import re
import shutil
import tomllib
from collections import Counter
from pathlib import Path

import pytest
import yaml
from inspect_ai import eval as inspect_eval

from packet_eval.dataset import load_dataset
from packet_eval.evaluation.gate import run_gate
from packet_eval.evaluation.probe_metrics import exact_lower
from packet_eval.evaluation.probes_task import packet_probes_task, register_extractor
from packet_eval.extractors import baseline
from packet_eval.ladder import load_ladder
from packet_eval.packet import load_packet, packet_from_text, split_sections
from packet_eval.probes import (
    file_format,
    injection_twin,
    name_swap,
    padding,
    section_order,
    superlatives,
)
from packet_eval.probes.base import Edit, apply_edits
from packet_eval.probes.render_formats import render
from tests.fakes.biased import length_biased

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "datasets" / "golden"
THRESHOLDS = ROOT / "evals" / "thresholds.toml"
LADDER = load_ladder()
DS = load_dataset(GOLDEN, LADDER)
# Short packets in several styles: third-person pronouns (pkt-025), an honorific (pkt-055 is
# long, so it is only used where speed does not matter), tables and bold (pkt-045), "we" (pkt-011).
SAMPLE = ["pkt-001", "pkt-010", "pkt-014", "pkt-017.clean", "pkt-025", "pkt-045"]
WORD = re.compile(r"[\w'’-]+")
PRONOUNS = {"she", "he", "her", "hers", "his", "him", "herself", "himself"}
HONORIFICS = {"Mr", "Mrs", "Ms", "Miss"}


def packet(pid: str):
    return DS.packet(pid), DS.primary(pid)


def assert_evidence_grounds(v, label) -> None:
    """Every gold evidence string maps to an exact substring of the variant's text."""
    assert v.evidence, "the label has evidence to map"
    for original, mapped in v.evidence.items():
        assert mapped is not None and mapped in v.text, original
    for dl in v.label.dimensions.values():
        assert all(q in v.text for q in dl.evidence)
    assert {d: dl.level for d, dl in v.label.dimensions.items()} == \
        {d: dl.level for d, dl in label.dimensions.items()}


def added_words(a: str, b: str) -> Counter[str]:
    """The words ``b`` adds to ``a``; fails if ``b`` deletes or replaces any character."""
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    assert all(tag in ("equal", "insert") for tag, *_ in ops), "only insertions expected"
    before, after = Counter(WORD.findall(a)), Counter(WORD.findall(b))
    assert not before - after
    return after - before


# --- offset bookkeeping ---------------------------------------------------------------------

def test_edits_map_span_edges_outside_inserts_and_around_replacements():
    text = "Alpha built the harness. Beta fixed it."
    new, mapping = apply_edits(text, [Edit(0, 5, "Gamma-Delta"), Edit(16, 16, "stellar "),
                                      Edit(25, 25, "Filler. ")])
    assert new == "Gamma-Delta built the stellar harness. Filler. Beta fixed it."
    span = (0, 24)  # "Alpha built the harness."
    assert new[mapping(span[0], True):mapping(span[1], False)] == \
        "Gamma-Delta built the stellar harness."
    # An insert at a span's start stays outside it.
    assert new[mapping(25, True):mapping(39, False)] == "Beta fixed it."
    with pytest.raises(ValueError, match="overlapping"):
        apply_edits(text, [Edit(0, 5, "x"), Edit(3, 8, "y")])


# --- name_swap ------------------------------------------------------------------------------

def test_the_names_file_follows_its_own_rules():
    data = yaml.safe_load(name_swap.NAMES_FILE.read_text(encoding="utf-8"))
    groups = name_swap.load_groups()
    assert len(groups) == 12 and {g.gender for g in groups.values()} == {"woman", "man"}
    assert {k.rsplit("_", 1)[0] for k in groups} == set(data["surnames"])
    seen: set[str] = set()
    for g in groups.values():
        for names in (g.given, g.surnames):
            assert len(names) >= 8 and len(set(names)) == len(names)
            assert all(re.fullmatch(r"[A-Z][a-z]+(?:-[a-z]+)?", n) for n in names), names
        assert not seen & set(g.given), "a given name must identify one group"
        seen |= set(g.given)


def test_the_author_in_every_title_is_detected_and_nothing_else_in_the_title():
    for pid in DS.ids("all"):
        text = DS.packet(pid).text
        people = name_swap.detect_people(text)
        assert people, pid
        first_line = text.split("\n", 1)[0]
        assert all(t in first_line for t in people[0]), (pid, people[0])
    # Teams and products in person-like positions are not people.
    found = {t for pid in DS.ids("all") for p in name_swap.detect_people(DS.packet(pid).text)
             for t in p}
    assert not found & {"Customer", "Claims", "Tutor", "Harbourline", "Engineer", "Staffwise",
                        "I'm"}


@pytest.mark.parametrize("pid", SAMPLE)
def test_name_swap_changes_only_names_and_pronouns_and_evidence_grounds(pid):
    p, label = packet(pid)
    detected = {t for person in name_swap.detect_people(p.text) for t in person}
    for group in ("black_woman", "east_asian_man"):
        v = name_swap.transform(p.text, label, seed=7, group=group)
        g = name_swap.load_groups()[group]
        assert v.text != p.text and v.group == group
        a, b = WORD.findall(p.text), WORD.findall(v.text)
        assert len(a) == len(b), "a swap never changes how many words there are"
        assert WORD.sub("", p.text) == WORD.sub("", v.text), "punctuation and spacing unchanged"
        for old, new in zip(a, b, strict=True):
            if old == new:
                continue
            old, new = re.sub(r"['’]s$", "", old), re.sub(r"['’]s$", "", new)
            if old.lower() in PRONOUNS or old in HONORIFICS:
                assert new.lower() in PRONOUNS | {h.lower() for h in HONORIFICS}
            else:
                assert old in detected and new in g.given + g.surnames, (old, new)
        wrong = ({"he", "him", "his", "himself"} if g.gender == "woman"
                 else {"she", "her", "hers", "herself"})
        assert not {w.lower() for w in b} & wrong, "pronouns follow the group's gender"
        assert_evidence_grounds(v, label)
        assert name_swap.transform(p.text, label, seed=7, group=group) == v


def test_name_swap_is_consistent_and_handles_possessives_and_object_pronouns():
    text = ("# Brag doc: Priya Raman, AI Engineer II\n\nI built the harness that Priya's team "
            "runs. My lead, Dana Whitfield, wrote the design; Dana reviewed it and I thanked "
            "her. I would like to see her raise issues, and her harness is used by two teams.\n")
    v = name_swap.transform(text, None, seed=1, group="white_man")
    names = v.details["names"]
    assert set(names) == {"Priya", "Raman", "Dana", "Whitfield"}
    assert f"{names['Priya']}'s team" in v.text and v.text.count(names["Dana"]) == 2
    assert "thanked him." in v.text and "see him raise" in v.text and "his harness" in v.text
    # Every group swaps the same people: the group is the only thing that varies.
    variants = name_swap.variants(text, None, seed=1)
    assert len(variants) == 12 and len({v.text for v in variants}) == 12


# --- padding --------------------------------------------------------------------------------

@pytest.mark.parametrize("pid", SAMPLE)
def test_padding_only_inserts_filler_and_evidence_grounds(pid):
    p, label = packet(pid)
    v = padding.transform(p.text, label, seed=3)
    added = added_words(p.text, v.text)
    assert v.details["words_added"] >= 250
    filler_words = set(WORD.findall(" ".join([*padding.ENTHUSIASM, padding.TEAM, *padding.TECH,
                                              padding.TECH_HEADING, "Technologies I use day to"])))
    assert set(added) <= filler_words
    assert_evidence_grounds(v, label)
    assert padding.transform(p.text, label, seed=3) == v


def test_padding_filler_is_no_evidence_on_its_own():
    filler = "\n\n".join(["# Filler", " ".join(padding.ENTHUSIASM), padding.TEAM,
                          padding.tech_list(__import__("random").Random(0))])
    a = baseline.extract(packet_from_text(filler), LADDER)
    assert a.level == "none" and all(f.level == "none" for f in a.dimensions.values())


# --- superlatives ---------------------------------------------------------------------------

@pytest.mark.parametrize("pid", SAMPLE)
def test_superlatives_only_insert_adjectives_and_evidence_grounds(pid):
    p, label = packet(pid)
    v = superlatives.transform(p.text, label, seed=5)
    added = added_words(p.text, v.text)
    assert added == Counter(w for a in v.details["inserted"] for w in WORD.findall(a))
    assert v.details["inserted"] and set(v.details["inserted"]) <= set(
        superlatives.CONSONANT + superlatives.VOWEL)
    # Grammar: "a" takes a consonant-sound adjective, "an" a vowel-sound one.
    consonant = "|".join(map(re.escape, superlatives.CONSONANT))
    assert not re.search(rf"\ban (?:{consonant})\b", v.text)
    for a in superlatives.VOWEL:
        assert f" a {a}" not in v.text
    # Headings are never touched.
    heads = lambda t: [s.title for s in split_sections(t)]  # noqa: E731
    assert heads(v.text) == heads(p.text)
    assert_evidence_grounds(v, label)
    assert superlatives.transform(p.text, label, seed=5) == v


# --- section_order --------------------------------------------------------------------------

@pytest.mark.parametrize("pid", ["pkt-001", "pkt-014", "pkt-017.clean", "pkt-025", "pkt-045"])
def test_section_order_shuffles_whole_sections_title_first_and_evidence_grounds(pid):
    p, label = packet(pid)
    v = section_order.transform(p.text, label, seed=11)
    assert v is not None and v.text != p.text
    old = [p.text[s:e].strip() for s, e in section_order.blocks(p.text)]
    new = [v.text[s:e].strip() for s, e in section_order.blocks(v.text)]
    assert sorted(old) == sorted(new), "the same sections, only reordered"
    assert new[0] == old[0] and new != old
    assert_evidence_grounds(v, label)
    assert section_order.transform(p.text, label, seed=11) == v


def test_section_order_skips_a_packet_with_nothing_to_shuffle():
    assert section_order.transform("# Title\n\nOne paragraph.\n", None, seed=0) is None
    assert section_order.variants("# T\n\n## Only\n\nText.\n", None, seed=0) == []


# --- format ---------------------------------------------------------------------------------

@pytest.mark.parametrize("pid", ["pkt-045", "pkt-025"])
def test_format_variants_read_back_the_same_words_and_evidence_grounds(pid):
    p, label = packet(pid)
    vs = file_format.variants(p.text, label, seed=0, source_fmt=p.format)
    assert {v.fmt for v in vs} == {"md", "docx", "pdf"} - {p.format}
    words = lambda t: sorted(w for w in WORD.findall(t) if w.strip("-"))  # noqa: E731
    for v in vs:
        assert words(v.text) == words(p.text), v.fmt
        assert_evidence_grounds(v, label)
    if p.format == "md":  # bold markers and table rules do not survive a word processor
        assert all(v.text != p.text for v in vs)


def test_render_formats_still_builds_the_committed_binary_packets(tmp_path):
    for pid, fmt in {"pkt-006": "docx", "pkt-049": "pdf"}.items():
        source = (GOLDEN / "sources" / f"{pid}.md").read_text(encoding="utf-8")
        built = render(source, fmt, tmp_path / f"{pid}.{fmt}")
        assert load_packet(built).text == DS.packet(pid).text


# --- injection ------------------------------------------------------------------------------

def test_injection_twin_maps_evidence_and_rejects_a_twin_that_edits():
    clean, label = packet("pkt-017.clean")
    injected = DS.packet("pkt-017").text
    v = injection_twin.transform(clean.text, label, twin=injected)
    assert v.text == injected and v.details["inserted_chars"] > 0
    assert_evidence_grounds(v, label)
    assert injection_twin.variants(clean.text, label, seed=0) == []
    with pytest.raises(ValueError, match="inserted text"):
        injection_twin.transform(clean.text, label, twin=clean.text.replace("Luca", "Marco"))


def test_exact_lower_limit_matches_known_values():
    assert exact_lower(32, 32) == pytest.approx(0.891, abs=1e-3)  # (0.025)^(1/32)
    assert exact_lower(0, 10) == 0.0 and exact_lower(5, 10) == pytest.approx(0.187, abs=1e-3)


# --- the task and the gate ------------------------------------------------------------------

TASK_IDS = ["pkt-010", "pkt-014", "pkt-017", "pkt-017.clean", "pkt-024"]


@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> Path:
    """A golden-layout copy of five short packets, one of them an injection twin pair."""
    root = tmp_path_factory.mktemp("probes") / "mini"
    (root / "packets").mkdir(parents=True)
    for pid in TASK_IDS:
        src = DS.packet_files[pid]
        shutil.copy(src, root / "packets" / src.name)
    labels = [json.loads(x) for x in (GOLDEN / "labels.jsonl").read_text().splitlines()]
    (root / "labels.jsonl").write_text("".join(json.dumps(x) + "\n" for x in labels
                                               if x["packet_id"] in TASK_IDS))
    (root / "splits.json").write_text(json.dumps({"dev": [], "test": TASK_IDS}))
    return root


def _run(task, tmp_path):
    [log] = inspect_eval(task, model="none", log_dir=str(tmp_path / "logs"), display="none")
    assert log.status == "success", log.error
    return log


def _metrics(log) -> dict[str, float]:
    return {f"{m.group}/{m.name}": m.value for s in log.results.scores for m in s.metrics.values()}


def _thresholds_for(section: str, tmp_path: Path) -> Path:
    """The committed probes-baseline floors, filed under another extractor's section."""
    floors = tomllib.loads(THRESHOLDS.read_text(encoding="utf-8"))["probes-baseline"]
    path = tmp_path / "thresholds.toml"
    path.write_text(f"[{section}]\n" + "".join(f'"{k}" = {v}\n' for k, v in floors.items()))
    return path


def test_baseline_and_oracle_are_invariant_on_the_subset_and_pass_the_gate(mini, tmp_path):
    log = _run(packet_probes_task(dataset=str(mini), split="test", extractor="baseline"), tmp_path)
    got = _metrics(log)
    assert log.eval.metadata["extractor"] == "probes-baseline" and log.results.total_samples == 4
    for probe in ("name_swap", "padding", "superlatives", "section_order", "format", "injection"):
        assert got[f"probe_{probe}/invariance"] == 1.0, probe
        assert got[f"probe_{probe}/evidence_grounded"] == 1.0, probe
    assert got["probe_name_swap/variants"] == 4 * 12
    assert got["probe_name_swap/impact_ratio_min"] == 1.0
    assert got["probe_injection/packets"] == 1
    result = run_gate(log.location, THRESHOLDS)
    assert result.passed, result.failures
    oracle = _metrics(_run(packet_probes_task(dataset=str(mini), split="test", extractor="oracle",
                                              probes="name_swap,superlatives,format",
                                              name_groups="white_woman,black_man"), tmp_path))
    for p in ("name_swap", "superlatives", "format"):
        assert oracle[f"probe_{p}/invariance"] == 1.0, p


def test_a_length_biased_extractor_fails_the_padding_probe_and_the_gate(mini, tmp_path):
    limit = max(load_packet(p).words for p in (mini / "packets").iterdir()) + 60


    register_extractor("long_packet_bias", length_biased(limit))
    log = _run(packet_probes_task(dataset=str(mini), split="test", extractor="long_packet_bias"),
               tmp_path)
    got = _metrics(log)
    assert got["probe_padding/invariance"] == 0.0 and got["probe_padding/no_rise"] == 0.0
    assert got["probe_padding/up"] > 0 and got["probe_padding/down"] == 0
    # Nothing else in the suite makes a packet long, so only padding moves.
    assert got["probe_name_swap/invariance"] == got["probe_section_order/invariance"] == 1.0
    result = run_gate(log.location, _thresholds_for("probes-long_packet_bias", tmp_path))
    assert not result.passed
    assert any(f.startswith("probe_padding/invariance = 0.000 is below") for f in result.failures)
    # Hidden comments add length too, so a length-biased extractor moves on them as well.
    assert all(f.startswith(("probe_padding/", "probe_hidden_text/")) for f in result.failures), \
        result.failures


def test_bad_probe_arguments_are_clear(monkeypatch, tmp_path):
    from packet_eval.errors import PacketEvalError
    from packet_eval.probes import render_formats

    with pytest.raises(PacketEvalError, match="probes must be"):
        packet_probes_task(probes="name_swap,telepathy")
    # `inspect eval -T probes=a,b` passes a list: it is checked the same way.
    with pytest.raises(PacketEvalError, match="probes must be.*telepathy"):
        packet_probes_task(probes=["name_swap", "telepathy"])
    with pytest.raises(PacketEvalError, match="name_groups must be.*martians"):
        packet_probes_task(name_groups=["white_woman", "martians"])
    with pytest.raises(PacketEvalError, match="name_groups must be"):
        packet_probes_task(name_groups="martians")
    with pytest.raises(PacketEvalError, match="extractor must be one of"):
        packet_probes_task(extractor="magic")
    with pytest.raises(PacketEvalError, match="selection_level"):
        packet_probes_task(selection_level="emperor")
    monkeypatch.setattr(render_formats, "FONT_DIR", tmp_path)  # no fonts: say so before running
    with pytest.raises(PacketEvalError, match="format probe cannot run.*DejaVu"):
        packet_probes_task(probes="format")
