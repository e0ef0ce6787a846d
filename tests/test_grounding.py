"""Grounding: proposed quotes become spans of the canonical text, or nothing."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from packet_eval.grounding import (
    FUZZY_THRESHOLD,
    MIN_CHARS,
    MIN_WORDS,
    Span,
    _unwrap,
    ground,
    ground_one,
    normalize,
    split_ellipsis,
)

TEXT = (
    "# Impact\n"
    "\n"
    "I **built** the failure-mode taxonomy and _eval harness_ that every change to the "
    "assistant now runs against.\n"
    "We found that 30% of our \u201cmodel errors\u201d were mislabelled cases \u2014 and "
    "Zo\u00eb\u2019s team fixed the labels.\n"
    "The   retrieval\n"
    "    service is now used by six product teams across the organisation.\n"
    "Latency regressions were traced to the reranker\u2013cache interaction in week 3.\n"
)


def _valid(spans: list[Span], text: str) -> None:
    for s in spans:
        assert 0 <= s.start < s.end <= len(text)
        assert text[s.start:s.end] == s.quote
        assert s.match in ("exact", "normalized", "fuzzy")


def _one(quote: str, text: str = TEXT, hint: int = 0) -> Span:
    spans = ground(quote, text, hint)
    _valid(spans, text)
    assert len(spans) == 1, (quote, spans)
    return spans[0]


# --- exact -------------------------------------------------------------------------------


def test_exact_match():
    quote = "that every change to the assistant now runs against."
    span = _one(quote)
    assert span.match == "exact" and span.score == 100.0
    assert span.quote == quote
    assert span.start == TEXT.index(quote)


def test_exact_match_strips_surrounding_whitespace():
    span = _one("   service is now used by six product teams \n")
    assert span.match == "exact"
    assert span.quote == "service is now used by six product teams"


# --- normalized --------------------------------------------------------------------------

NORMALIZED_CASES = {
    "markdown bold and em": (
        "I built the failure-mode taxonomy and eval harness",
        "I **built** the failure-mode taxonomy and _eval harness"),
    "straight quotes for curly": (
        'we found that 30% of our "model errors" were mislabelled',
        "We found that 30% of our \u201cmodel errors\u201d were mislabelled"),
    "straight apostrophe and hyphen for em dash": (
        "were mislabelled cases - and Zo\u00eb's team fixed the labels.",
        "were mislabelled cases \u2014 and Zo\u00eb\u2019s team fixed the labels."),
    "hyphen for en dash": (
        "traced to the reranker-cache interaction",
        "traced to the reranker\u2013cache interaction"),
    "whitespace runs and newlines": (
        "The retrieval service is now used by six product teams",
        "The   retrieval\n    service is now used by six product teams"),
    "case": (
        "THE FAILURE-MODE TAXONOMY AND EVAL HARNESS THAT EVERY CHANGE",
        "the failure-mode taxonomy and _eval harness_ that every change"),
    "everything at once": (
        "I BUILT the failure\u2014mode taxonomy  and\n*eval* harness",
        "I **built** the failure-mode taxonomy and _eval harness"),
}


@pytest.mark.parametrize(("quote", "expected"), list(NORMALIZED_CASES.values()),
                         ids=list(NORMALIZED_CASES))
def test_normalized_match(quote, expected):
    span = _one(quote)
    assert span.match == "normalized"
    assert span.score == 100.0
    assert TEXT[span.start:span.end] == span.quote == expected


def test_zero_width_characters_in_text_do_not_block_a_match():
    hidden = "I re\u200bwrote the on\u00adcall run\u200dbook for the\u2060 retrieval service"
    text = f"Intro.\n{hidden}.\n"
    span = _one("I rewrote the oncall runbook for the retrieval service", text)
    assert span.match == "normalized"
    assert span.quote == hidden


def test_zero_width_characters_in_quote_do_not_block_a_match():
    text = "I rewrote the oncall runbook for the retrieval service."
    span = _one("I re\u200bwrote the \ufeffoncall runbook", text)
    assert span.match == "normalized"
    assert span.quote == "I rewrote the oncall runbook"


# --- non-ASCII names ---------------------------------------------------------------------

NAMES = "Zo\u00eb M\u00fcller, Ji\u0159\u00ed Nov\u00e1k, Ngozi Ad\u00e9b\u00e1y\u1ecd\u0300"
NAMES_TEXT = (
    f"Reviewers: {NAMES} "
    "and \u738b\u82b3 signed off on the rubric.\n"
    "\u738b\u82b3 \u548c\u6211 \u4e00\u8d77 wrote the eval plan in \u5317\u4eac.\n"
)


@pytest.mark.parametrize("quote", [
    NAMES,
    "Ngozi Ad\u00e9b\u00e1y\u1ecd\u0300 and \u738b\u82b3 signed off",
    "\u738b\u82b3 \u548c\u6211 \u4e00\u8d77 wrote the eval plan in \u5317\u4eac.",
])
def test_non_ascii_names_ground_exactly(quote):
    span = _one(quote, NAMES_TEXT)
    assert span.match == "exact"
    assert span.quote == quote


@pytest.mark.parametrize(("quote", "expected"), [
    ("ZO\u00cb M\u00dcLLER, JI\u0158\u00cd NOV\u00c1K",
     "Zo\u00eb M\u00fcller, Ji\u0159\u00ed Nov\u00e1k"),
    ("ngozi   ad\u00e9b\u00e1y\u1ecd\u0300\nand \u738b\u82b3 signed off",
     "Ngozi Ad\u00e9b\u00e1y\u1ecd\u0300 and \u738b\u82b3 signed off"),
    ("\u738b\u82b3  \u548c\u6211\n\u4e00\u8d77 wrote the eval plan",
     "\u738b\u82b3 \u548c\u6211 \u4e00\u8d77 wrote the eval plan"),
])
def test_non_ascii_names_ground_normalized(quote, expected):
    span = _one(quote, NAMES_TEXT)
    assert span.match == "normalized"
    assert span.quote == expected


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_combining_characters_match_precomposed(form):
    """The same name typed precomposed or with combining marks is the same text."""
    text = unicodedata.normalize(form, NAMES_TEXT)
    other = "NFD" if form == "NFC" else "NFC"
    quote = unicodedata.normalize(other, NAMES)
    assert quote not in text
    span = _one(quote, text)
    assert span.match == "normalized"
    # The span is the text's own spelling, combining marks included.
    assert unicodedata.normalize("NFC", span.quote) == unicodedata.normalize("NFC", quote)
    assert span.quote == unicodedata.normalize(form, quote)


# --- fuzzy and rejections ----------------------------------------------------------------


@pytest.mark.parametrize(("quote", "expected"), [
    ("I built the failure-mode taxonmy and eval harness that every change",
     "I **built** the failure-mode taxonomy and _eval harness_ that every change"),
    ("the retreival service is now used by six prodcut teams across the organisation",
     "retrieval\n    service is now used by six product teams across the organisation"),
])
def test_typos_ground_fuzzy(quote, expected):
    span = _one(quote)
    assert span.match == "fuzzy"
    assert FUZZY_THRESHOLD <= span.score < 100.0
    assert expected in span.quote or span.quote in expected
    # Snapped to whole words: never starts or ends in the middle of one.
    assert not TEXT[span.start - 1].isalnum() and not TEXT[span.end].isalnum()


FUZZY_EDGE_TEXT = ("Intro line for the packet.\nThat work became the eval harness every team "
                   "runs; it gates each release.\nThen I diagnosed the reranker timeout.\n")


@pytest.mark.parametrize(("quote", "expected"), [
    ("the eval harness every team runs,", "the eval harness every team runs"),
    ('the eval harness every team runs"', "the eval harness every team runs"),
    ("eval harness every team runs!", "eval harness every team runs"),
    ("I diagnosed the reranker timeouts", "I diagnosed the reranker timeout"),
    ("Then I diagnosd the reranker timeout.", "Then I diagnosed the reranker timeout"),
])
def test_fuzzy_span_takes_no_extra_word_at_its_edges(quote, expected):
    """An alignment that starts or ends on a space must not pull in the neighbouring word."""
    span = _one(quote, FUZZY_EDGE_TEXT)
    assert span.match == "fuzzy"
    assert span.quote == expected
    assert span.score >= FUZZY_THRESHOLD


@pytest.mark.parametrize("quote", [
    "I created a taxonomy of failure modes and a harness for evaluations",
    "Six product teams throughout the company now rely on the retrieval service",
    "a third of the model mistakes were actually bad labels",
    "Performance slowdowns came from how the reranker and cache interacted",
])
def test_paraphrases_are_rejected(quote):
    assert ground(quote, TEXT) == []
    assert ground_one(quote, TEXT) is None


@pytest.mark.parametrize("quote", [
    "taxonomy", "eval harness", "I **built**", "six product", "  teams  ", "", "   ",
    "\u201cassistant\u201d", "a b c",
])
def test_one_and_two_word_quotes_are_rejected(quote):
    assert ground(quote, TEXT) == []
    assert ground_one(quote, TEXT) is None


def test_min_words_and_chars_constants():
    assert MIN_WORDS == 3 and MIN_CHARS == 12
    assert ground("used by six", TEXT) == []  # three words but under MIN_CHARS
    assert ground("is now used", TEXT) == []
    assert _one("used by six product").match == "exact"


def test_quote_not_in_text_is_rejected():
    assert ground("Migrated the billing system to a new database", TEXT) == []


# --- ellipses, wrapping quotes and hints -----------------------------------------------------


@pytest.mark.parametrize("dots", ["...", "\u2026", " ... ", ". . .", " \u2026"])
def test_ellipsis_yields_one_span_per_part_in_order(dots):
    quote = f"I built the failure-mode taxonomy{dots}every change to the assistant now runs against"
    spans = ground(quote, TEXT)
    _valid(spans, TEXT)
    assert [s.quote for s in spans] == [
        "I **built** the failure-mode taxonomy",
        "every change to the assistant now runs against",
    ]
    assert [s.match for s in spans] == ["normalized", "exact"]
    assert spans[0].end <= spans[1].start


def test_ellipsis_with_three_parts_and_a_short_part_dropped():
    quote = ("\u201cWe found that 30% of our \u201cmodel errors\u201d \u2026 cases \u2026 "
             "Zo\u00eb\u2019s team fixed the labels.\u201d")
    spans = ground(quote, TEXT)
    _valid(spans, TEXT)
    # The mark closing "model errors" touches the ellipsis, so it goes with it.
    assert [(s.quote, s.match) for s in spans] == [
        ("We found that 30% of our \u201cmodel errors", "exact"),
        ("Zo\u00eb\u2019s team fixed the labels.", "exact"),
    ]
    assert spans[0].end <= spans[1].start


@pytest.mark.parametrize(("wrapper_open", "wrapper_close"), [('"', '"'), ("\u201c", "\u201d")])
def test_wrapped_quote_with_ellipsis_unwraps_the_whole_quote(wrapper_open, wrapper_close):
    quote = (f"{wrapper_open}I built the failure-mode taxonomy \u2026 every change to the "
             f"assistant now runs against{wrapper_close}")
    spans = ground(quote, TEXT)
    _valid(spans, TEXT)
    assert [(s.quote, s.match) for s in spans] == [
        ("I **built** the failure-mode taxonomy", "normalized"),
        ("every change to the assistant now runs against", "exact"),
    ]


@pytest.mark.parametrize(("wrapper_open", "wrapper_close"), [('"', '"'), ("\u201c", "\u201d")])
def test_each_part_wrapped_in_quote_marks(wrapper_open, wrapper_close):
    quote = (f"{wrapper_open}I built the failure-mode taxonomy{wrapper_close} ... "
             f"{wrapper_open}every change to the assistant now runs against{wrapper_close}")
    spans = ground(quote, TEXT)
    _valid(spans, TEXT)
    assert [(s.quote, s.match) for s in spans] == [
        ("I **built** the failure-mode taxonomy", "normalized"),
        ("every change to the assistant now runs against", "exact"),
    ]


def test_ellipsis_parts_ground_in_text_order():
    """After an ellipsis the next part is later in the text, even if an earlier copy is nearer."""
    text = ("Intro: the eval harness every team runs. I rebuilt the grading rubric from scratch. "
            + "Unrelated words fill this space. " * 6
            + "That work became the eval harness every team runs.")
    quote = "I rebuilt the grading rubric from scratch ... the eval harness every team runs"
    spans = ground(quote, text)
    _valid(spans, text)
    assert [s.quote for s in spans] == ["I rebuilt the grading rubric from scratch",
                                        "the eval harness every team runs"]
    assert spans[1].start == text.rindex("the eval harness")
    assert spans[0].end <= spans[1].start
    # Normalized parts too.
    spans = ground(quote.upper(), text)
    assert [s.match for s in spans] == ["normalized", "normalized"]
    assert spans[1].start == text.rindex("the eval harness")
    # With no later copy, the nearest earlier one is still better than nothing.
    only_early = text.replace("That work became the eval harness every team runs.", "")
    spans = ground(quote, only_early)
    assert [s.start for s in spans] == [only_early.index("I rebuilt"),
                                        only_early.index("the eval harness")]


def test_split_ellipsis():
    assert split_ellipsis("one two three ... four five six\u2026seven") == [
        "one two three", "four five six", "seven"]
    assert split_ellipsis("... leading and trailing ...") == ["leading and trailing"]
    assert split_ellipsis('"one two" ... "three four"') == ['"one two', 'three four"']
    assert split_ellipsis("\u201cone two\u201d\u2026 \u201cthree\u201d") == [
        "\u201cone two", "three\u201d"]


@pytest.mark.parametrize(("wrapper_open", "wrapper_close"), [
    ('"', '"'), ("'", "'"), ("\u201c", "\u201d"), ("\u2018", "\u2019"),
])
def test_wrapping_quote_marks_are_unwrapped(wrapper_open, wrapper_close):
    inner = "every change to the assistant now runs against"
    span = _one(f"{wrapper_open}{inner}{wrapper_close}")
    assert span.match == "exact"
    assert span.quote == inner


def test_unwrap_only_removes_one_wrapping_pair():
    assert _unwrap('"a quoted phrase"') == "a quoted phrase"
    assert _unwrap('""') == '""'
    assert _unwrap("no quotes here") == "no quotes here"
    assert _unwrap('"only an opening mark') == '"only an opening mark'


REPEATED = ("Header line.\n" + "Filler sentence number one. " * 5 + "\n"
            + "I owned the eval harness for search.\n" + "More filler text here. " * 10 + "\n"
            + "I owned the eval harness for search.\n" + "Even more filler. " * 10 + "\n"
            + "I owned the eval harness for search.\n")


def test_hint_picks_the_nearest_exact_occurrence():
    quote = "I owned the eval harness for search."
    starts = [i for i in range(len(REPEATED)) if REPEATED.startswith(quote, i)]
    assert len(starts) == 3
    assert _one(quote, REPEATED, hint=0).start == starts[0]
    assert _one(quote, REPEATED, hint=starts[1] - 5).start == starts[1]
    assert _one(quote, REPEATED, hint=starts[1] + 40).start == starts[1]
    assert _one(quote, REPEATED, hint=starts[2] - 20).start == starts[2]
    assert _one(quote, REPEATED, hint=len(REPEATED) + 100).start == starts[2]


def test_hint_picks_the_nearest_normalized_occurrence():
    quote = "I OWNED THE EVAL HARNESS FOR SEARCH"
    starts = [i for i in range(len(REPEATED)) if REPEATED.startswith("I owned", i)]
    for hint, expected in [(0, starts[0]), (starts[1], starts[1]), (starts[2] - 3, starts[2])]:
        span = _one(quote, REPEATED, hint=hint)
        assert span.match == "normalized"
        assert span.start == expected


def test_hint_is_an_offset_in_the_original_text():
    """Markup and whitespace vanish in normalized space; the hint must not drift with them."""
    filler = "  - **Shipped** the _quarterly_   report   on time.\n" * 60
    text = "I **owned** the eval harness.\n" + filler + "I **owned** the eval harness.\n"
    quote = "I owned the eval harness."
    second = text.rindex("I **owned**")
    assert normalize(text).text.rindex("i owned") < second * 0.8  # the drift is real
    # A hint 40% of the way along is nearer the first occurrence than the second.
    span = _one(quote, text, hint=int(second * 0.4))
    assert span.match == "normalized"
    assert span.start == 0
    assert _one(quote, text, hint=int(second * 0.6)).start == second
    assert _one(quote, text, hint=second - 10).start == second


# --- normalize itself ----------------------------------------------------------------------


def test_normalize_maps_back_to_original_offsets():
    text = "I **Built**\u00a0 it \u2014 \u201cfast\u201d\u2026"
    norm = normalize(text)
    assert norm.text == "i built it - \"fast\"..."
    assert len(norm.to_orig) == len(norm.text)
    assert list(norm.to_orig) == sorted(norm.to_orig)
    for i, ch in enumerate(norm.text):
        orig = text[norm.to_orig[i]]
        assert orig.lower() == ch or orig.isspace() or orig in "\u2014\u201c\u201d\u2026"


# --- properties ------------------------------------------------------------------------------

_word = st.text(
    st.characters(exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=8)
_sep = st.sampled_from([" ", "  ", "\n", "\t", " \n "])


@st.composite
def text_with_substring(draw):
    prefix = draw(st.text(max_size=60))
    words = draw(st.lists(_word, min_size=3, max_size=10))
    middle = words[0]
    for w in words[1:]:
        middle += draw(_sep) + w
    suffix = draw(st.text(max_size=60))
    return prefix + middle + suffix, middle


@settings(max_examples=200, deadline=None)
@given(pair=text_with_substring(), hint=st.integers(min_value=-50, max_value=500))
@example(pair=("x " + "alpha beta gamma" + " y", "alpha beta gamma"), hint=0)
@example(pair=("\u201cone two three four\u201d", "\u201cone two three four\u201d"), hint=0)
@example(pair=("x \"'one two three four'\" y", "\"'one two three four'\""), hint=0)
def test_property_substring_grounds_to_valid_spans(pair, hint):
    text, quote = pair
    assert quote in text and len(quote.split()) >= MIN_WORDS
    spans = ground(quote, text, hint)
    _valid(spans, text)
    stripped = _unwrap(quote.strip())
    simple = "..." not in quote and "\u2026" not in quote and ". ." not in quote
    if simple and len(stripped.split()) >= MIN_WORDS and len(stripped) >= MIN_CHARS:
        # A verbatim substring with no ellipsis always grounds exactly, to itself.
        assert len(spans) == 1
        assert spans[0].match == "exact"
        assert spans[0].quote == stripped


_ascii_word = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=2, max_size=8)


@settings(max_examples=200, deadline=None)
@given(words=st.lists(_ascii_word, min_size=4, max_size=12), data=st.data())
def test_property_folded_substring_grounds_normalized(words, data):
    text = "Intro. " + " ".join(words) + " Outro."
    i = data.draw(st.integers(0, len(words) - 3), label="first word")
    j = data.draw(st.integers(i + 3, len(words)), label="end word")
    chosen = words[i:j]
    sep = data.draw(st.sampled_from(["  ", "\n", " \t "]), label="separator")
    quote = sep.join(w.upper() for w in chosen)
    spans = ground(quote, text)
    _valid(spans, text)
    if len(" ".join(chosen)) >= MIN_CHARS:
        assert len(spans) == 1
        assert spans[0].match in ("exact", "normalized")
        assert spans[0].quote.lower() == " ".join(chosen)


@settings(max_examples=200, deadline=None)
@given(quote=st.text(), text=st.text(), hint=st.integers(min_value=-10**6, max_value=10**6))
@example(quote="", text="", hint=0)
@example(quote="one two three four five six", text="", hint=0)
@example(quote="\u2026\u2026...", text="... \u2026", hint=0)
@example(quote="\ufdfa \ufdfa \ufdfa", text="\ufdfa \ufdfa \ufdfa", hint=0)
def test_property_ground_never_raises(quote, text, hint):
    spans = ground(quote, text, hint)
    _valid(spans, text)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40), words=st.lists(_word, min_size=20, max_size=60))
def test_property_quote_much_longer_than_text(text, words):
    quote = " ".join(words)
    spans = ground(quote, text)
    _valid(spans, text)
    assert all(len(s.quote) <= len(text) for s in spans)
