"""Tests for packet_eval.agreement, checked against sklearn and krippendorff."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, cohen_kappa_score, precision_recall_fscore_support
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import mean_absolute_error as sk_mean_absolute_error

from packet_eval.agreement import (
    Record,
    agreement_report,
    bootstrap_ci,
    change_direction,
    ci_cohen_kappa,
    ci_exact_accuracy,
    cohen_kappa,
    confusion_matrix,
    evidence_span_counts,
    exact_accuracy,
    flag_metrics,
    invariance_rate,
    krippendorff_alpha,
    mean_absolute_error,
    pair_change_directions,
    pairwise_rater_agreement,
    self_consistency,
    span_precision,
    span_recall,
    spans_match,
    within_one_accuracy,
)

# Deliberately not in alphabetical order: any code that sorts level names instead of
# using the caller's order will disagree with sklearn's labels= ordering below.
LEVELS = ["lv-zeta", "lv-alpha", "lv-mu", "lv-beta", "lv-eta"]
DIMS = [f"dim-{c}" for c in "gfedcba"]
FLAGS = ["flag-q", "flag-p", "flag-r"]
SEEDS = range(8)


def _noisy_levels(rng: np.random.Generator, gold: list[str], levels: list[str]) -> list[str]:
    idx = [levels.index(g) for g in gold]
    shift = rng.choice([-2, -1, 0, 0, 0, 1, 2], size=len(idx))
    return [
        levels[int(np.clip(i + s, 0, len(levels) - 1))] for i, s in zip(idx, shift, strict=True)
    ]


def _random_spans(rng: np.random.Generator) -> list[tuple[int, int]]:
    spans = []
    for _ in range(int(rng.integers(0, 3))):
        start = int(rng.integers(0, 500))
        spans.append((start, start + int(rng.integers(5, 60))))
    return spans


def _jitter(rng: np.random.Generator, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = [(s + int(rng.integers(-20, 20)), e + int(rng.integers(-20, 20))) for s, e in spans]
    out = [(s, max(s, e)) for s, e in out if rng.random() < 0.8]
    return out + _random_spans(rng)[:1]


def _make_dataset(seed: int, n: int = 40) -> tuple[list[Record], list[Record]]:
    rng = np.random.default_rng(seed)
    gold: list[Record] = []
    pred: list[Record] = []
    for i in range(n):
        g_level = LEVELS[int(rng.integers(0, len(LEVELS)))]
        g_dims = {d: LEVELS[int(rng.integers(0, len(LEVELS)))] for d in DIMS}
        p_dims = dict(zip(DIMS, _noisy_levels(rng, list(g_dims.values()), LEVELS), strict=True))
        g_ev = {d: _random_spans(rng) for d in DIMS}
        p_ev = {d: _jitter(rng, g_ev[d]) for d in DIMS}
        g_flags = frozenset(f for f in FLAGS if rng.random() < 0.3)
        p_flags = frozenset(f for f in FLAGS if (f in g_flags) != (rng.random() < 0.2))
        pid = f"pkt-{seed}-{i}"
        gold.append(Record(pid, g_level, g_dims, g_ev, g_flags))
        pred.append(Record(pid, _noisy_levels(rng, [g_level], LEVELS)[0], p_dims, p_ev, p_flags))
    return gold, pred


def _sk_kappa(a: list[str], b: list[str], weights: str | None) -> float:
    return float(cohen_kappa_score(a, b, labels=LEVELS, weights=weights))


def _assert_plain_json(value: Any, path: str = "$") -> None:
    # json.dumps happily accepts np.float64 (a float subclass); check exact types.
    if isinstance(value, dict):
        for k, v in value.items():
            assert type(k) is str, f"{path}: key {k!r} is {type(k)}"
            _assert_plain_json(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _assert_plain_json(v, f"{path}[{i}]")
    else:
        assert value is None or type(value) in (str, int, float, bool), f"{path}: {type(value)}"
        if type(value) is float:
            assert math.isfinite(value), path


# ---------------------------------------------------------------------------
# Ordinal metrics vs sklearn
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_ordinal_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 120))
    a = [LEVELS[int(i)] for i in rng.integers(0, len(LEVELS), size=n)]
    b = _noisy_levels(rng, a, LEVELS)
    assert exact_accuracy(a, b, LEVELS) == pytest.approx(accuracy_score(a, b))
    for weights in (None, "linear", "quadratic"):
        assert cohen_kappa(a, b, LEVELS, weights) == pytest.approx(
            _sk_kappa(a, b, weights), abs=1e-12
        )
    cm = confusion_matrix(a, b, LEVELS)
    np.testing.assert_array_equal(cm.to_numpy(), sk_confusion_matrix(a, b, labels=LEVELS))
    assert list(cm.index) == LEVELS and list(cm.columns) == LEVELS
    assert cm.index.name == "gold" and cm.columns.name == "predicted"
    ia = np.array([LEVELS.index(x) for x in a])
    ib = np.array([LEVELS.index(x) for x in b])
    assert mean_absolute_error(a, b, LEVELS) == pytest.approx(np.abs(ia - ib).mean())
    assert within_one_accuracy(a, b, LEVELS) == pytest.approx(np.mean(np.abs(ia - ib) <= 1))


@settings(max_examples=150, deadline=None)
@given(
    k=st.integers(1, 5),
    data=st.data(),
    weights=st.sampled_from([None, "linear", "quadratic"]),
)
def test_kappa_matches_sklearn_including_degenerate(k: int, data: Any, weights: Any) -> None:
    levels = LEVELS[:k]
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=1, max_size=30)
    )
    a = [levels[i] for i, _ in pairs]
    b = [levels[j] for _, j in pairs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Our documented convention is exactly sklearn with replace_undefined_by=1.0.
        expected = cohen_kappa_score(a, b, labels=levels, weights=weights, replace_undefined_by=1.0)
    assert cohen_kappa(a, b, levels, weights) == pytest.approx(expected, abs=1e-12)


def test_level_order_comes_from_caller() -> None:
    a = ["x", "y", "z", "x"]
    b = ["z", "y", "x", "x"]
    # Same data, two ladders: "x" and "z" are 2 steps apart in one, adjacent in the other.
    assert mean_absolute_error(a, b, ["x", "y", "z"]) == pytest.approx(1.0)
    assert mean_absolute_error(a, b, ["x", "z", "y"]) == pytest.approx(0.5)
    assert within_one_accuracy(a, b, ["x", "y", "z"]) == pytest.approx(0.5)
    assert within_one_accuracy(a, b, ["x", "z", "y"]) == pytest.approx(1.0)
    assert cohen_kappa(a, b, ["x", "y", "z"], "quadratic") != pytest.approx(
        cohen_kappa(a, b, ["x", "z", "y"], "quadratic")
    )


def test_constant_predictor_has_kappa_exactly_zero() -> None:
    rng = np.random.default_rng(3)
    gold = [LEVELS[int(i)] for i in rng.integers(0, len(LEVELS), size=97)]
    mode = max(LEVELS, key=gold.count)
    pred = [mode] * len(gold)
    for weights in (None, "linear", "quadratic"):
        assert cohen_kappa(gold, pred, LEVELS, weights) == 0.0
        assert _sk_kappa(gold, pred, weights) == pytest.approx(0.0, abs=1e-12)


def test_perfect_agreement_primitives() -> None:
    a = ["lv-mu", "lv-zeta", "lv-eta", "lv-mu"]
    for weights in (None, "linear", "quadratic"):
        assert cohen_kappa(a, a, LEVELS, weights) == 1.0
    assert exact_accuracy(a, a, LEVELS) == 1.0
    assert within_one_accuracy(a, a, LEVELS) == 1.0
    assert mean_absolute_error(a, a, LEVELS) == 0.0
    assert krippendorff_alpha([a, a, a], LEVELS) == pytest.approx(1.0)


def test_kappa_degenerate_single_category() -> None:
    a = ["lv-mu"] * 6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(cohen_kappa_score(a, a, labels=LEVELS))  # sklearn: undefined
    assert cohen_kappa(a, a, LEVELS) == 1.0
    assert cohen_kappa(a, a, LEVELS, "quadratic") == 1.0
    # One rater constant, the other not: defined, and chance level.
    b = ["lv-mu", "lv-zeta", "lv-mu", "lv-eta", "lv-mu", "lv-mu"]
    assert cohen_kappa(a, b, LEVELS) == pytest.approx(_sk_kappa(a, b, None))
    assert cohen_kappa(a, b, LEVELS) == 0.0


@pytest.mark.parametrize(
    ("a", "b", "levels", "match"),
    [
        ([], [], LEVELS, "empty"),
        (["lv-mu"], ["lv-mu", "lv-mu"], LEVELS, "length"),
        (["lv-mu"], ["senior"], LEVELS, "unknown level 'senior'"),
        (["x"], ["x"], ["x", "x"], "unique"),
        (["x"], ["x"], [], "empty"),
    ],
)
def test_primitive_input_errors(a: list[str], b: list[str], levels: list[str], match: str) -> None:
    for fn in (exact_accuracy, within_one_accuracy, mean_absolute_error, cohen_kappa):
        with pytest.raises(ValueError, match=match):
            fn(a, b, levels)
    with pytest.raises(ValueError, match=match):
        confusion_matrix(a, b, levels)


def test_kappa_rejects_bad_weights() -> None:
    with pytest.raises(ValueError, match="weights"):
        cohen_kappa(["x"], ["x"], ["x", "y"], "cubic")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Krippendorff's alpha vs krippendorff package
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("level_of_measurement", ["ordinal", "nominal", "interval"])
def test_alpha_matches_krippendorff_with_missing_and_many_raters(
    seed: int, level_of_measurement: Any
) -> None:
    rng = np.random.default_rng(seed)
    n_raters = int(rng.integers(2, 6))
    n_units = int(rng.integers(4, 40))
    truth = rng.integers(0, len(LEVELS), size=n_units)
    codes = np.clip(truth + rng.choice([-1, 0, 0, 0, 1], size=(n_raters, n_units)), 0, 4)
    missing = rng.random((n_raters, n_units)) < 0.3
    data = codes.astype(float)
    data[missing] = np.nan
    ratings = [
        [None if miss else LEVELS[int(c)] for c, miss in zip(row, mrow, strict=True)]
        for row, mrow in zip(codes, missing, strict=True)
    ]
    expected = krippendorff.alpha(
        reliability_data=data,
        value_domain=list(range(len(LEVELS))),
        level_of_measurement=level_of_measurement,
    )
    assert krippendorff_alpha(ratings, LEVELS, level_of_measurement) == pytest.approx(
        expected, abs=1e-10
    )


def test_alpha_textbook_values() -> None:
    # Krippendorff's worked examples (as reproduced in the krippendorff package docs).
    levels = ["very low", "low", "mid", "high", "very high"]
    short = {"VL": "very low", "L": "low", "M": "mid", "H": "high", "VH": "very high"}
    rows = [
        "VL L M M L VL H VL L . . .",
        "VL L M M L L H VL L VH . M",
        ". M M M L M H L L VH VL .",
        "VL L M M L H H VL L VH VL .",
    ]
    data: list[list[str | None]] = [
        [None if tok == "." else short[tok] for tok in row.split()] for row in rows
    ]
    assert krippendorff_alpha(data, levels, "ordinal") == pytest.approx(0.815, abs=5e-4)
    assert krippendorff_alpha(data, levels, "nominal") == pytest.approx(0.743, abs=5e-4)


def test_alpha_degenerate_cases() -> None:
    same: list[list[str | None]] = [["lv-mu", "lv-mu", None], ["lv-mu", "lv-mu", "lv-mu"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lib = krippendorff.alpha(
            reliability_data=np.array([[2, 2, np.nan], [2, 2, 2]]),
            value_domain=list(range(5)),
            level_of_measurement="ordinal",
        )
    assert math.isnan(lib)
    assert krippendorff_alpha(same, LEVELS) == 1.0
    # No unit rated twice: nothing pairable.
    lonely: list[list[str | None]] = [["lv-mu", None], [None, "lv-eta"]]
    with pytest.raises(ValueError):
        krippendorff.alpha(
            reliability_data=np.array([[2, np.nan], [np.nan, 4]]), value_domain=list(range(5))
        )
    assert krippendorff_alpha(lonely, LEVELS) is None
    assert krippendorff_alpha([], LEVELS) is None
    with pytest.raises(ValueError, match="same number"):
        krippendorff_alpha([["lv-mu"], ["lv-mu", "lv-mu"]], LEVELS)
    with pytest.raises(ValueError, match="unknown level"):
        krippendorff_alpha([["lv-mu"], ["nope"]], LEVELS)
    with pytest.raises(ValueError, match="level_of_measurement"):
        krippendorff_alpha([["lv-mu"], ["lv-mu"]], LEVELS, "ratio")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Spans
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 10), (5, 30), True),  # overlap 5 = exactly 50% of the shorter (10)
        ((0, 10), (6, 30), False),  # overlap 4 = 40%
        ((0, 9), (4, 30), True),  # overlap 5 >= 4.5
        ((0, 9), (5, 30), False),  # overlap 4 < 4.5
        ((100, 120), (0, 1000), True),  # clause inside a long sentence
        ((0, 10), (10, 20), False),  # touching, no overlap
        ((5, 5), (0, 10), False),  # zero-length never matches
        ((5, 5), (5, 5), False),
    ],
)
def test_span_overlap_rule_boundary(a: tuple[int, int], b: tuple[int, int], expected: bool) -> None:
    assert spans_match(a, b) is expected
    assert spans_match(b, a) is expected


def test_span_malformed_raises() -> None:
    with pytest.raises(ValueError, match="malformed"):
        spans_match((10, 5), (0, 20))


def test_span_recall_precision_and_empty_cases() -> None:
    gold = [(0, 10), (100, 110), (200, 210)]
    pred = [(0, 40), (500, 520)]  # covers the first gold clause only, plus a stray span
    assert span_recall(gold, pred) == pytest.approx(1 / 3)
    assert span_precision(gold, pred) == pytest.approx(1 / 2)
    assert span_recall([], pred) is None
    assert span_precision(gold, []) is None
    assert span_recall(gold, []) == 0.0
    assert span_precision([], pred) == 0.0


def test_evidence_counts_same_dimension_vs_dimension_agnostic() -> None:
    gold = {"d1": [(0, 10)], "d2": [(50, 60)]}
    pred = {"d1": [(50, 60)], "d2": [(0, 12), (300, 310)]}  # right text, swapped dims
    same = evidence_span_counts(gold, pred)
    assert (same.gold_matched, same.gold_total, same.pred_matched, same.pred_total) == (0, 2, 0, 3)
    agnostic = evidence_span_counts(gold, pred, match_dimension=False)
    assert (agnostic.gold_matched, agnostic.gold_total) == (2, 2)
    assert (agnostic.pred_matched, agnostic.pred_total) == (2, 3)
    assert agnostic.recall == 1.0 and agnostic.precision == pytest.approx(2 / 3)
    only_d1 = evidence_span_counts(gold, pred, ["d1"])
    assert (only_d1.gold_total, only_d1.pred_total) == (1, 1)
    assert evidence_span_counts({}, {}).recall is None
    assert evidence_span_counts({}, {}).precision is None


# ---------------------------------------------------------------------------
# Flags vs sklearn
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_flag_metrics_match_sklearn(seed: int) -> None:
    gold, pred = _make_dataset(seed, n=int(np.random.default_rng(seed).integers(3, 30)))
    flags = [*FLAGS, "flag-never"]
    scores = flag_metrics([g.flags for g in gold], [p.flags for p in pred], flags)
    assert list(scores) == flags
    for flag in flags:
        y_true = [int(flag in g.flags) for g in gold]
        y_pred = [int(flag in p.flags) for p in pred]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p, r, f, s = precision_recall_fscore_support(
                y_true, y_pred, labels=[1], average=None, zero_division=np.nan
            )
        for ours, ref in (
            (scores[flag].precision, p[0]),
            (scores[flag].recall, r[0]),
            (scores[flag].f1, f[0]),
        ):
            if math.isnan(ref):
                assert ours is None
            else:
                assert ours == pytest.approx(ref)
        assert scores[flag].support == int(s[0])
    assert scores["flag-never"].precision is None
    assert scores["flag-never"].recall is None
    assert scores["flag-never"].f1 is None


def test_flag_metrics_length_mismatch() -> None:
    with pytest.raises(ValueError, match="length"):
        flag_metrics([frozenset()], [], ["f"])


# ---------------------------------------------------------------------------
# Invariance
# ---------------------------------------------------------------------------


def _rec(pid: str, level: str, dims: dict[str, str]) -> Record:
    return Record(pid, level, dims, {}, frozenset())


def test_invariance_rate_and_directions() -> None:
    levels = ["l0", "l1", "l2"]
    base = _rec("p", "l1", {"a": "l1", "b": "l0"})
    pairs = [
        (base, _rec("p~1", "l1", {"a": "l1", "b": "l0"})),  # invariant
        (base, _rec("p~2", "l2", {"a": "l1", "b": "l0"})),  # overall up
        (base, _rec("p~3", "l1", {"a": "l0", "b": "l0"})),  # one dimension down
        (base, _rec("p~4", "l1", {"a": "l1"})),  # dimension dropped counts as a change
    ]
    assert invariance_rate(pairs) == pytest.approx(1 / 4)
    assert invariance_rate(pairs, dimensions=["b"]) == pytest.approx(2 / 4)
    assert invariance_rate([]) is None
    dirs = pair_change_directions(pairs[:3], levels)
    assert [d["level"] for d in dirs] == ["same", "up", "same"]
    assert dirs[2]["dimensions"] == {"a": "down", "b": "same"}
    assert dirs[1]["packet_id_b"] == "p~2"
    assert change_direction("l2", "l0", levels) == "down"
    assert change_direction("l0", "l2", ["l2", "l1", "l0"]) == "down"
    with pytest.raises(ValueError, match="unknown level"):
        change_direction("l0", "l9", levels)


# ---------------------------------------------------------------------------
# Bootstrap
# ---------------------------------------------------------------------------


def _sample_pair(seed: int, n: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    a = [LEVELS[int(i)] for i in rng.integers(0, len(LEVELS), size=n)]
    return a, _noisy_levels(rng, a, LEVELS)


def test_bootstrap_ci_contains_point_estimate_and_is_deterministic() -> None:
    a, b = _sample_pair(11, 120)
    for weights in (None, "quadratic"):
        lo, hi = ci_cohen_kappa(a, b, LEVELS, weights, n_boot=500, seed=4)  # type: ignore[misc]
        assert lo < cohen_kappa(a, b, LEVELS, weights) < hi
    ci = ci_exact_accuracy(a, b, LEVELS, n_boot=500, seed=4)
    assert ci is not None and ci[0] < exact_accuracy(a, b, LEVELS) < ci[1]
    assert ci_exact_accuracy(a, b, LEVELS, n_boot=500, seed=4) == ci
    assert ci_exact_accuracy(a, b, LEVELS, n_boot=500, seed=5) != ci
    assert all(type(x) is float for x in ci)


def test_bootstrap_ci_narrows_with_more_items() -> None:
    small = ci_exact_accuracy(*_sample_pair(1, 40), LEVELS, n_boot=400)
    large = ci_exact_accuracy(*_sample_pair(1, 1000), LEVELS, n_boot=400)
    assert small is not None and large is not None
    assert (large[1] - large[0]) < 0.5 * (small[1] - small[0])


def test_bootstrap_ci_alpha_controls_width() -> None:
    a, b = _sample_pair(2, 200)
    wide = ci_exact_accuracy(a, b, LEVELS, n_boot=400, alpha=0.01)
    narrow = ci_exact_accuracy(a, b, LEVELS, n_boot=400, alpha=0.5)
    assert wide is not None and narrow is not None
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


def test_bootstrap_ci_is_two_sided_percentile() -> None:
    # A statistic that ignores the draw and returns 0, 1, ..., 999 in turn pins the
    # percentile step: a 95% interval must cut 2.5% from each tail.
    counter = iter(range(1000))
    ci = bootstrap_ci(lambda idx: float(next(counter)), 10, n_boot=1000, alpha=0.05)
    assert ci == pytest.approx(tuple(np.quantile(np.arange(1000.0), [0.025, 0.975])))
    assert ci == pytest.approx((24.975, 974.025))


def test_bootstrap_ci_skips_undefined_resamples() -> None:
    values = np.array([np.nan, 1.0, 2.0, 3.0, np.nan, 4.0])
    calls = 0

    def stat(idx: np.ndarray) -> float | None:
        nonlocal calls
        calls += 1
        v = values[idx]
        # Undefined when the resample is mostly missing: half the replicates or so.
        if np.isnan(v).sum() > 2:
            return None
        return float(np.nanmean(v)) if not np.isnan(v).all() else float("nan")

    ci = bootstrap_ci(stat, len(values), n_boot=300, seed=0)
    assert calls == 300
    assert ci is not None and 1.0 <= ci[0] <= ci[1] <= 4.0
    assert bootstrap_ci(lambda idx: None, 5, n_boot=50) is None
    assert bootstrap_ci(lambda idx: float("nan"), 5, n_boot=50) is None
    assert bootstrap_ci(lambda idx: 1.0, 0) is None
    with pytest.raises(ValueError, match="alpha"):
        bootstrap_ci(lambda idx: 1.0, 5, alpha=1.5)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci(lambda idx: 1.0, 5, n_boot=0)


def test_bootstrap_ci_resamples_items_with_replacement() -> None:
    seen: list[np.ndarray] = []

    def stat(idx: np.ndarray) -> float:
        seen.append(idx.copy())
        return float(idx.mean())

    bootstrap_ci(stat, 7, n_boot=200, seed=9)
    stacked = np.stack(seen)
    assert stacked.shape == (200, 7)
    assert stacked.min() == 0 and stacked.max() == 6
    assert any(len(set(row.tolist())) < 7 for row in stacked)  # with replacement


# ---------------------------------------------------------------------------
# agreement_report
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_agreement_report_matches_references(seed: int) -> None:
    gold, pred = _make_dataset(seed)
    # Pred in a different order: alignment must be by packet_id, not position.
    rep = agreement_report(
        gold, pred[::-1], levels=LEVELS, dimensions=DIMS, flags=FLAGS, n_boot=200, seed=seed
    )
    _assert_plain_json(rep.to_dict())
    json.dumps(rep.to_dict(), allow_nan=False)
    a = [g.level for g in gold]
    b = [p.level for p in pred]
    ov = rep.overall
    assert rep.n_packets == len(gold)
    assert ov.exact_accuracy == pytest.approx(accuracy_score(a, b))
    assert ov.kappa == pytest.approx(_sk_kappa(a, b, None))
    ia = np.array([LEVELS.index(x) for x in a])
    ib = np.array([LEVELS.index(x) for x in b])
    assert ov.mean_absolute_error == pytest.approx(sk_mean_absolute_error(ia, ib))
    assert ov.within_one_accuracy == pytest.approx(np.mean(np.abs(ia - ib) <= 1))
    assert ov.kappa_quadratic == pytest.approx(_sk_kappa(a, b, "quadratic"))
    ref_alpha = krippendorff.alpha(
        reliability_data=[[LEVELS.index(x) for x in a], [LEVELS.index(x) for x in b]],
        value_domain=list(range(len(LEVELS))),
        level_of_measurement="ordinal",
    )
    assert ov.alpha_ordinal == pytest.approx(ref_alpha)
    sk_cm = sk_confusion_matrix(a, b, labels=LEVELS)
    assert list(ov.confusion_matrix) == LEVELS
    for i, gl in enumerate(LEVELS):
        assert list(ov.confusion_matrix[gl].values()) == sk_cm[i].tolist()
    per_dim = rep.dimensions.per_dimension
    assert list(per_dim) == DIMS
    pooled_a: list[str] = []
    pooled_b: list[str] = []
    for d in DIMS:
        da = [g.dimensions[d] for g in gold]
        db = [p.dimensions[d] for p in pred]
        pooled_a += da
        pooled_b += db
        assert per_dim[d].n == len(gold)
        assert per_dim[d].kappa_quadratic == pytest.approx(_sk_kappa(da, db, "quadratic"))
    pooled = rep.dimensions.pooled
    assert pooled.n == len(gold) * len(DIMS)
    assert pooled.kappa_quadratic == pytest.approx(_sk_kappa(pooled_a, pooled_b, "quadratic"))
    # Micro-averaged evidence recall, brute force.
    hits = total = phits = ptotal = 0
    for g, p in zip(gold, pred, strict=True):
        for d in DIMS:
            for gs in g.evidence[d]:
                total += 1
                hits += any(spans_match(gs, ps) for ps in p.evidence[d])
            for ps in p.evidence[d]:
                ptotal += 1
                phits += any(spans_match(ps, gs) for gs in g.evidence[d])
    ev = rep.evidence
    assert (ev.gold_spans, ev.gold_matched) == (total, hits)
    assert ev.recall == pytest.approx(hits / total)
    assert ev.precision == pytest.approx(phits / ptotal)
    cells = [(g.evidence[d], p.evidence[d]) for g, p in zip(gold, pred, strict=True) for d in DIMS]
    macro_r = [span_recall(gs, ps) for gs, ps in cells]
    macro_p = [span_precision(gs, ps) for gs, ps in cells]
    assert ev.recall_macro == pytest.approx(np.mean([x for x in macro_r if x is not None]))
    assert ev.precision_macro == pytest.approx(np.mean([x for x in macro_p if x is not None]))
    # Dimension-agnostic: per packet, pool (and dedupe) spans across dimensions.
    any_hits = any_total = 0
    for g, p in zip(gold, pred, strict=True):
        g_pool = {s for d in DIMS for s in g.evidence[d]}
        p_pool = {s for d in DIMS for s in p.evidence[d]}
        any_total += len(g_pool)
        any_hits += sum(any(spans_match(gs, ps) for ps in p_pool) for gs in g_pool)
    assert ev.recall_any_dimension == pytest.approx(any_hits / any_total)
    assert ev.recall_any_dimension >= ev.recall - 1e-12
    ref_flags = flag_metrics([g.flags for g in gold], [p.flags for p in pred], FLAGS)
    for f in FLAGS:
        assert rep.flags[f].f1 == ref_flags[f].f1
        assert rep.flags[f].support == ref_flags[f].support
    ci = rep.ci
    assert ci.level == 0.95 and ci.n_boot == 200 and ci.seed == seed
    for key, point in (
        ("exact_accuracy", ov.exact_accuracy),
        ("kappa_quadratic", ov.kappa_quadratic),
        ("dimension_kappa_pooled", pooled.kappa_quadratic),
        ("evidence_recall", ev.recall),
    ):
        lo, hi = getattr(ci, key)
        assert lo <= point <= hi, key
        assert lo < hi, key
    # The headline CI agrees with the standalone wrapper for the same seed.
    assert ci.exact_accuracy == ci_exact_accuracy(a, b, LEVELS, n_boot=200, seed=seed)
    assert rep.to_dict()["ci"]["exact_accuracy"] == list(ci.exact_accuracy)


def test_agreement_report_perfect_agreement_is_one_everywhere() -> None:
    gold, _ = _make_dataset(5, n=25)
    rep = agreement_report(gold, gold, levels=LEVELS, dimensions=DIMS, flags=FLAGS, n_boot=100)
    ov = rep.overall
    for key in (
        "exact_accuracy",
        "within_one_accuracy",
        "kappa",
        "kappa_quadratic",
        "alpha_ordinal",
    ):
        assert getattr(ov, key) == pytest.approx(1.0), key
    assert ov.mean_absolute_error == 0.0
    for d in DIMS:
        assert rep.dimensions.per_dimension[d].kappa_quadratic == pytest.approx(1.0)
    assert rep.dimensions.pooled.kappa_quadratic == pytest.approx(1.0)
    for key in (
        "recall",
        "precision",
        "recall_macro",
        "precision_macro",
        "recall_any_dimension",
        "precision_any_dimension",
    ):
        assert getattr(rep.evidence, key) == pytest.approx(1.0), key
    for f in FLAGS:
        assert rep.flags[f].f1 == pytest.approx(1.0)
    for key in ("exact_accuracy", "kappa_quadratic", "dimension_kappa_pooled", "evidence_recall"):
        assert getattr(rep.ci, key) == pytest.approx((1.0, 1.0)), key


def test_agreement_report_undefined_values_are_none_and_json_clean() -> None:
    levels = ["a", "b", "c"]
    gold = [
        Record("p1", "b", {"x": "b"}, {}, frozenset()),
        Record("p2", "b", {}, {"x": []}, frozenset()),
    ]
    pred = [
        Record("p2", "b", {"x": "c"}, {}, frozenset()),
        Record("p1", "b", {"x": "b"}, {}, frozenset()),
    ]
    rep = agreement_report(gold, pred, levels=levels, dimensions=["x", "y"], flags=["f"], n_boot=50)
    out = rep.to_dict()
    _assert_plain_json(out)
    json.dumps(out, allow_nan=False)
    assert rep.overall.kappa == 1.0  # single category both sides, documented
    assert rep.dimensions.per_dimension["x"].n == 1  # p2 gold lacks "x"
    assert out["dimensions"]["per_dimension"]["y"] == {
        "n": 0,
        "exact_accuracy": None,
        "kappa_quadratic": None,
    }
    assert rep.evidence.recall is None and rep.evidence.precision is None
    assert rep.evidence.recall_macro is None
    assert rep.ci.evidence_recall is None and out["ci"]["evidence_recall"] is None
    assert out["flags"]["f"] == {"precision": None, "recall": None, "f1": None, "support": 0}


def test_agreement_report_misaligned_ids_raise() -> None:
    gold, pred = _make_dataset(0, n=5)
    with pytest.raises(ValueError, match=r"missing from pred: \['pkt-0-4'\]"):
        agreement_report(gold, pred[:4], levels=LEVELS, dimensions=DIMS, flags=FLAGS)
    extra = Record("ghost", LEVELS[0], {}, {}, frozenset())
    with pytest.raises(ValueError, match=r"missing from gold: \['ghost'\]"):
        agreement_report(gold, [*pred, extra], levels=LEVELS, dimensions=DIMS, flags=FLAGS)
    with pytest.raises(ValueError, match="duplicate packet_id 'pkt-0-0'"):
        agreement_report(gold, [*pred, pred[0]], levels=LEVELS, dimensions=DIMS, flags=FLAGS)
    with pytest.raises(ValueError, match="at least one packet"):
        agreement_report([], [], levels=LEVELS, dimensions=DIMS, flags=FLAGS)
    bad = [Record(g.packet_id, g.level, {DIMS[0]: "bogus"}, {}, frozenset()) for g in gold]
    with pytest.raises(ValueError, match="bogus"):
        agreement_report(gold, bad, levels=LEVELS, dimensions=DIMS, flags=FLAGS)


# ---------------------------------------------------------------------------
# Rater ceilings and self-consistency
# ---------------------------------------------------------------------------


def test_pairwise_rater_agreement_on_shared_packets() -> None:
    gold, pred = _make_dataset(7, n=30)
    _, other = _make_dataset(8, n=30)
    other = [
        Record(g.packet_id, o.level, o.dimensions, o.evidence, o.flags)
        for g, o in zip(gold, other, strict=True)
    ]
    raters = {"cal-a": gold[:20], "cal-b": pred[10:], "cal-c": other[25:]}
    out = pairwise_rater_agreement(raters, levels=LEVELS, dimensions=DIMS, flags=FLAGS, n_boot=50)
    _assert_plain_json(out.to_dict())
    assert out.raters == ["cal-a", "cal-b", "cal-c"]
    pairs = {(p.rater_a, p.rater_b): p for p in out.pairs}
    assert set(pairs) == {("cal-a", "cal-b"), ("cal-a", "cal-c"), ("cal-b", "cal-c")}
    ab = pairs[("cal-a", "cal-b")]
    assert ab.n_packets == 10
    direct = agreement_report(
        gold[10:20], pred[10:20], levels=LEVELS, dimensions=DIMS, flags=FLAGS, n_boot=50
    )
    assert ab.report == direct
    assert pairs[("cal-a", "cal-c")].to_dict() == {
        "rater_a": "cal-a",
        "rater_b": "cal-c",
        "n_packets": 0,
        "report": None,
    }
    assert pairs[("cal-b", "cal-c")].n_packets == 5
    # Multi-rater alpha over the union of packets, missing where unlabelled.
    ids = [g.packet_id for g in gold]
    data = np.full((3, 30), np.nan)
    for r, recs in enumerate(raters.values()):
        for rec in recs:
            data[r, ids.index(rec.packet_id)] = LEVELS.index(rec.level)
    expected = krippendorff.alpha(
        reliability_data=data, value_domain=list(range(5)), level_of_measurement="ordinal"
    )
    assert out.alpha_ordinal_all_raters == pytest.approx(expected)


def test_self_consistency() -> None:
    gold, e1 = _make_dataset(1, n=30)
    _, e2 = _make_dataset(2, n=30)
    e2 = [
        Record(g.packet_id, r.level, r.dimensions, {}, frozenset())
        for g, r in zip(gold, e2, strict=True)
    ]
    epochs = [gold, e1, e2[:20]]  # third run missed ten packets
    out = self_consistency(epochs, LEVELS, dimensions=DIMS)
    _assert_plain_json(out.to_dict())
    assert out.n_epochs == 3 and out.n_packets == 30
    lv = [[r.level for r in ep] for ep in (gold, e1, e2)]
    rates = [
        accuracy_score(lv[0], lv[1]),
        accuracy_score(lv[0][:20], lv[2][:20]),
        accuracy_score(lv[1][:20], lv[2][:20]),
    ]
    assert out.level.mean_pairwise_exact == pytest.approx(np.mean(rates))
    data = np.array([[LEVELS.index(x) for x in row] for row in lv], dtype=float)
    data[2, 20:] = np.nan
    expected = krippendorff.alpha(
        reliability_data=data, value_domain=list(range(5)), level_of_measurement="ordinal"
    )
    assert out.level.alpha_ordinal == pytest.approx(expected)
    dim_rows = [[r.dimensions[d] for r in ep for d in DIMS] for ep in (gold, e1, e2)]
    dim_data = np.array([[LEVELS.index(x) for x in row] for row in dim_rows], dtype=float)
    dim_data[2, 20 * len(DIMS) :] = np.nan
    assert out.dimensions is not None
    assert out.dimensions.alpha_ordinal == pytest.approx(
        krippendorff.alpha(
            reliability_data=dim_data, value_domain=list(range(5)), level_of_measurement="ordinal"
        )
    )
    assert 0.0 < out.dimensions.mean_pairwise_exact < 1.0
    assert out.to_dict()["dimension_mean_pairwise_exact"] == out.dimensions.mean_pairwise_exact


def test_self_consistency_identical_and_single_epoch() -> None:
    gold, _ = _make_dataset(3, n=12)
    same = self_consistency([gold, gold, gold], LEVELS)
    assert same.level.mean_pairwise_exact == 1.0 and same.level.alpha_ordinal == pytest.approx(1.0)
    assert same.dimensions is None and "dimension_alpha_ordinal" not in same.to_dict()
    single = self_consistency([gold], LEVELS)
    assert single.level.mean_pairwise_exact is None and single.level.alpha_ordinal is None
    with pytest.raises(ValueError, match="duplicate"):
        self_consistency([[gold[0], gold[0]]], LEVELS)


def test_agreement_report_to_dict_keeps_the_json_shape() -> None:
    # packet-eval agreement --format json and the batch outputs write this shape; keys and
    # their order are part of it.
    gold, pred = _make_dataset(2, n=10)
    out = agreement_report(gold, pred, levels=LEVELS, dimensions=DIMS, flags=FLAGS, n_boot=20).to_dict()
    assert list(out) == ["n_packets", "overall", "dimensions", "evidence", "flags", "ci"]
    assert list(out["overall"]) == ["exact_accuracy", "within_one_accuracy", "mean_absolute_error",
                                    "kappa", "kappa_quadratic", "alpha_ordinal", "confusion_matrix"]
    assert list(out["dimensions"]) == ["per_dimension", "pooled"]
    assert list(out["dimensions"]["pooled"]) == ["n", "exact_accuracy", "kappa_quadratic"]
    assert list(out["evidence"]) == ["recall", "precision", "recall_macro", "precision_macro",
                                     "recall_any_dimension", "precision_any_dimension",
                                     "gold_spans", "pred_spans", "gold_matched", "pred_matched"]
    assert list(out["flags"]) == FLAGS
    assert list(out["flags"][FLAGS[0]]) == ["precision", "recall", "f1", "support"]
    assert list(out["ci"]) == ["level", "n_boot", "seed", "exact_accuracy", "kappa_quadratic",
                               "dimension_kappa_pooled", "evidence_recall"]
    assert all(v is None or type(v) is list for k, v in out["ci"].items()
               if k not in ("level", "n_boot", "seed"))
