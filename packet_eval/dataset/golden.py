"""A golden dataset directory: packets, labels, splits, and the checks that keep it honest.

Layout (any directory laid out this way works)::

    packets/<packet_id>.<ext>     .md .txt .docx .pdf .html; injection twins as <id>.clean.md
    labels.jsonl                  one line per (packet, calibrator), see dataset/labels.py
    splits.json                   {"dev": [...], "test": [...]}
    meta.jsonl                    optional: style, tags, evidence_position per packet

``check_dataset`` returns every problem with its file and line; ``packet-eval
dataset check`` prints them and exits non-zero if there are any.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from packet_eval.dataset.labels import Label, Problem, parse_labels
from packet_eval.errors import DatasetError, PacketEvalError
from packet_eval.ladder import Ladder
from packet_eval.packet import SUPPORTED_SUFFIXES, Packet, load_packet, packet_id_for

TWIN_SUFFIX = ".clean"
INJECTION_FLAG = "prompt_injection"


@dataclass
class GoldenDataset:
    root: Path
    ladder: Ladder
    packet_files: dict[str, Path]
    labels: list[Label]
    splits: dict[str, list[str]]
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)

    @cached_property
    def _packets(self) -> dict[str, Packet]:
        return {}

    def packet(self, packet_id: str) -> Packet:
        if packet_id not in self._packets:
            self._packets[packet_id] = load_packet(self.packet_files[packet_id])
        return self._packets[packet_id]

    def ids(self, split: str = "all") -> list[str]:
        if split == "all":
            return sorted(self.packet_files)
        if split not in self.splits:
            raise DatasetError(f"unknown split {split!r} (have: all, {', '.join(self.splits)})",
                               self.root / "splits.json")
        return sorted(self.splits[split])

    def labels_for(self, packet_id: str) -> list[Label]:
        return [lb for lb in self.labels if lb.packet_id == packet_id]

    def primary(self, packet_id: str) -> Label:
        """The first calibrator's label for a packet (the reference the harness scores against)."""
        found = self.labels_for(packet_id)
        if not found:
            raise DatasetError(f"packet {packet_id!r} has no labels", self.root / "labels.jsonl")
        return found[0]

    @property
    def calibrators(self) -> list[str]:
        return list(dict.fromkeys(lb.calibrator for lb in self.labels))

    def twins(self) -> list[tuple[str, str]]:
        """(injected_id, clean_id) pairs."""
        return sorted((pid.removesuffix(TWIN_SUFFIX), pid) for pid in self.packet_files
                      if pid.endswith(TWIN_SUFFIX) and pid.removesuffix(TWIN_SUFFIX) in self.packet_files)


def _packet_files(root: Path) -> tuple[dict[str, Path], list[Problem]]:
    folder = root / "packets"
    problems: list[Problem] = []
    files: dict[str, Path] = {}
    if not folder.is_dir():
        return files, [Problem(str(folder), None, "packets/ directory not found")]
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            problems.append(Problem(str(path), None, f"unsupported packet file type {path.suffix!r}"))
            continue
        pid = packet_id_for(path)
        if pid in files:
            problems.append(Problem(str(path), None, f"two files for packet id {pid!r}"))
            continue
        files[pid] = path
    return files, problems


def _splits(root: Path) -> tuple[dict[str, list[str]], list[Problem]]:
    path = root / "splits.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, [Problem(str(path), None, "splits.json not found")]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return {}, [Problem(str(path), None, f"invalid JSON ({exc})")]
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("dev", "test")):
        return {}, [Problem(str(path), None, "must be an object with 'dev' and 'test' lists of packet ids")]
    return {k: [str(x) for x in data[k]] for k in ("dev", "test")}, []


def _meta(root: Path) -> dict[str, dict[str, Any]]:
    path = root / "meta.jsonl"
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            out[obj["packet_id"]] = obj
    return out


def load_dataset(root: str | Path, ladder: Ladder) -> GoldenDataset:
    """Load a dataset directory; raises DatasetError on the first structural problem."""
    ds, problems = _load(Path(root), ladder)
    if problems:
        more = f" (+{len(problems) - 1} more; run 'packet-eval dataset check')" if len(problems) > 1 else ""
        raise DatasetError(str(problems[0]) + more)
    return ds


def _load(root: Path, ladder: Ladder) -> tuple[GoldenDataset, list[Problem]]:
    if not root.is_dir():
        raise DatasetError("dataset directory not found", root)
    files, problems = _packet_files(root)
    parsed = parse_labels(root / "labels.jsonl", ladder)
    splits, split_problems = _splits(root)
    try:
        meta = _meta(root)
    except (json.JSONDecodeError, KeyError) as exc:
        meta, problems = {}, [*problems, Problem(str(root / "meta.jsonl"), None, f"invalid ({exc})")]
    return (GoldenDataset(root, ladder, files, parsed.labels, splits, meta),
            problems + parsed.problems + split_problems)


def check_dataset(root: str | Path, ladder: Ladder) -> list[Problem]:
    """Every problem in a dataset directory, each naming its file and line."""
    root = Path(root)
    ds, problems = _load(root, ladder)
    labels_file = str(root / "labels.jsonl")
    labelled = {lb.packet_id for lb in ds.labels}
    for lb in ds.labels:
        if lb.packet_id not in ds.packet_files:
            problems.append(Problem(labels_file, lb.line,
                                    f"orphan label: no packet file for {lb.packet_id!r}"))
    for pid in ds.packet_files:
        if pid not in labelled:
            problems.append(Problem(str(ds.packet_files[pid]), None, "packet has no labels"))
    texts: dict[str, str] = {}
    for pid, path in ds.packet_files.items():
        try:
            texts[pid] = ds.packet(pid).text
        except PacketEvalError as exc:
            problems.append(Problem(str(path), None, str(exc).removeprefix(f"{path}: ")))
    for lb in ds.labels:
        text = texts.get(lb.packet_id)
        if text is None:
            continue
        for d, dl in lb.dimensions.items():
            for q in dl.evidence:
                if q not in text:
                    problems.append(Problem(labels_file, lb.line, f"dimensions.{d}.evidence: not a "
                                            f"substring of {lb.packet_id}'s canonical text: {q[:80]!r}"))
        # An overall level off the ladder's rule is a calibrator's holistic call, not a defect:
        # the aggregation ceiling reports it.
    problems += _check_twins(ds, texts, labels_file)
    problems += _check_splits(ds, root)
    return problems


def _check_twins(ds: GoldenDataset, texts: dict[str, str], labels_file: str) -> list[Problem]:
    problems = []
    for pid, path in ds.packet_files.items():
        if not pid.endswith(TWIN_SUFFIX):
            continue
        base = pid.removesuffix(TWIN_SUFFIX)
        if base not in ds.packet_files:
            problems.append(Problem(str(path), None, f"clean twin has no injected packet {base!r}"))
            continue
        if pid in texts and base in texts:
            ops = difflib.SequenceMatcher(None, texts[pid], texts[base], autojunk=False).get_opcodes()
            changed = [op for op in ops if op[0] != "equal"]
            if not changed or any(op[0] != "insert" for op in changed):
                problems.append(Problem(str(path), None, f"must equal {base} with only the injection "
                                        "removed (the injected packet may only add text)"))
        for lb in ds.labels_for(base):
            if INJECTION_FLAG not in lb.flags:
                problems.append(Problem(labels_file, lb.line, f"{base} has a clean twin but its label "
                                        f"lacks the {INJECTION_FLAG} flag"))
        for lb in ds.labels_for(pid):
            if INJECTION_FLAG in lb.flags:
                problems.append(Problem(labels_file, lb.line,
                                        f"clean twin {pid} must not carry {INJECTION_FLAG}"))
    return problems


def _check_splits(ds: GoldenDataset, root: Path) -> list[Problem]:
    if not ds.splits:
        return []
    path = str(root / "splits.json")
    problems = []
    dev, test = set(ds.splits["dev"]), set(ds.splits["test"])
    for pid in sorted(dev & test):
        problems.append(Problem(path, None, f"{pid!r} is in both dev and test"))
    for pid in sorted((dev | test) - set(ds.packet_files)):
        problems.append(Problem(path, None, f"{pid!r} is not a packet in packets/"))
    for pid in sorted(set(ds.packet_files) - dev - test):
        problems.append(Problem(path, None, f"{pid!r} is in neither split"))
    for injected, clean in ds.twins():
        if (injected in dev) != (clean in dev):
            problems.append(Problem(path, None, f"{injected} and its twin {clean} are in different splits"))
    return problems


def dataset_stats(ds: GoldenDataset) -> dict[str, Any]:
    """Counts a maintainer checks against the dataset's quotas."""
    primary = {pid: ds.primary(pid) for pid in ds.packet_files if ds.labels_for(pid)}
    words = {pid: len(ds.packet(pid).text.split()) for pid in ds.packet_files}
    buckets = Counter("<300" if w < 300 else "300-1500" if w <= 1500 else "1501-2999" if w < 3000
                      else "3000+" for w in words.values())
    per_packet = Counter(lb.packet_id for lb in ds.labels)
    return {
        "packets": len(ds.packet_files),
        "labels": len(ds.labels),
        "calibrators": dict(Counter(lb.calibrator for lb in ds.labels)),
        "doubly_labelled": sum(1 for n in per_packet.values() if n >= 2),
        "levels": {lv: sum(1 for lb in primary.values() if lb.level == lv) for lv in ds.ladder.scale},
        "target_levels": dict(Counter(str(lb.target_level) for lb in primary.values())),
        "flags": {f: sum(1 for lb in primary.values() if f in lb.flags) for f in ds.ladder.flag_ids},
        "formats": dict(Counter(p.suffix.lstrip(".") for p in ds.packet_files.values())),
        "styles": dict(Counter(m.get("style", "?") for m in ds.meta.values())),
        "tags": dict(Counter(t for m in ds.meta.values() for t in m.get("tags", []))),
        "words": {"min": min(words.values(), default=0), "max": max(words.values(), default=0),
                  "buckets": dict(buckets)},
        "injection_pairs": len(ds.twins()),
        "splits": {k: len(v) for k, v in ds.splits.items()},
    }
