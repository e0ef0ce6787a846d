"""Detect text in a packet that tries to instruct the evaluator.

Packets are written by the people they assess, so the text is data and never
an instruction. The detector does not change how anything is rated; it flags
the offending span so a committee sees the attempt, and extractors exclude
flagged spans from evidence. Forms covered: imperatives aimed at an evaluator,
role and system markers, HTML comments and hidden text, pasted assessment
JSON, authority claims ("already approved"), zero-width and homoglyph tricks,
and instructions in several other languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packet_eval.injection.assessment_terms import names_assessment
from packet_eval.injection.encoded_text import find_encoded, rot13_hides_words
from packet_eval.injection.normalize import fold, obfuscated
from packet_eval.injection.process_talk import talks_to_evaluator
from packet_eval.injection.resemblance import resembling
from packet_eval.injection.verdict_voice import SELF_VERDICT, claim

_I = re.IGNORECASE | re.DOTALL

_EVALUATOR = (r"(?:ai|a\.i\.|llm|language model|model|evaluator|assessor|grader|reviewer|"
              r"assistant|tool|bot|system|screener|scorer|committee|reader|extractor|parser)")
_RATING_WORDS = r"(?:staff|senior|principal|distinguished|exceptional|strong hire|highest|top|maximum)"

# (name, pattern) pairs checked against whole-text; each match becomes a flag span.
_BLOCK_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("hidden html text", re.compile(
        r"<(\w+)[^>]*style\s*=\s*[\"'][^\"']*(?:display\s*:\s*none|visibility\s*:\s*hidden|"
        r"font-size\s*:\s*0|opacity\s*:\s*0)[^\"']*[\"'][^>]*>[\s\S]*?</\1>", _I)),
    ("role or system marker", re.compile(
        r"(?m)^[ \t>*_#\[]*(?:system|assistant|developer)\s*(?:prompt|message|override|note)?"
        r"\s*[\]:][^\n]*(?:\n(?![ \t]*\n)[^\n]*){0,8}", re.IGNORECASE)),
    ("chat template token", re.compile(
        r"<\|(?:im_start|im_end|system|assistant|user)\|>[^\n]*|\[/?INST\][^\n]*|<<SYS>>[^\n]*", _I)),
    ("pasted assessment json", re.compile(
        r"\{[^{}]{0,80}\"(?:level|overall_level|overall|rating|verdict|recommendation|"
        r"demonstrated_level|promotion)\"\s*:[\s\S]{0,2000}?\}(?:\s*\})*", _I)),
]

# Checked per sentence unit, on text with zero-width characters removed.
_SENTENCE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # Imperative only: "the model tended to ignore the instructions" describes, not instructs.
    ("instruction override", re.compile(
        r"(?:^|[.:;!?\-–—(\[\"“]\s*|\bplease\s+|\b(?:you|reviewers?|evaluators?)\s+(?:must|should|shall|will)\s+|"
        r"\b(?:and|now|then|first)\s+)(?:ignore|disregard|forget|override|bypass|skip)\b.{0,60}\b(?:previous|prior|above|"
        r"earlier|all|any|your|the|other|usual|standard)\b.{0,40}\b(?:instructions?|rules|criteria|"
        r"guidelines|prompts?|rubric|ladder|policy|evaluation)", _I)),
    ("address to the evaluator", re.compile(
        rf"\b(?:note|message|instructions?|reminder|attention|psa)\b\s*(?:to|for)\s+(?:the\s+|any\s+|all\s+)?"
        rf"(?:automated\s+|ai\s+)?{_EVALUATOR}s?\b", _I)),
    ("address to the evaluator", re.compile(  # "a gentle request to the summarising assistant"
        r"(?:\b(?:request|plea|note|notice|message|reminder|word)s?\s+|(?:^|[:(\[—–-])\W*)(?:to|for)\s+"
        r"(?:the\s+|any\s+|all\s+|every\s+)?(?:automated|ai|summari[sz]ing|machine|llm)\s+"
        r"(?:readers?|tools?|systems?|assistants?|models?|evaluators?|reviewers?|summari[sz]ers?)\b", _I)),
    ("address to the evaluator", re.compile(  # "Evidence for the extractor (eval_design, staff): ..."
        r"\b(?:to|for)\s+(?:the\s+|any\s+|this\s+)?(?:extractors?|assessors?|screeners?|packet-eval)\b", _I)),
    ("address to the evaluator", re.compile(
        rf"\b(?:dear|hey|hello)\s+(?:the\s+)?(?:automated\s+|ai\s+)?{_EVALUATOR}\b", _I)),
    # "You are an AI ..." addresses a model; "as an AI team" describes the author, so no "as".
    ("address to the evaluator", re.compile(
        rf"\b(?:if you are|you are|you're)\s+(?:now\s+)?(?:an?\s+|the\s+)?(?:ai|llm|automated|"
        rf"language model|{_EVALUATOR})\b", _I)),
    ("output hijack", re.compile(
        r"\b(?:respond|reply|answer|output)\s+(?:only\s+)?with\b.{0,40}\b(?:level|staff|senior|"
        r"rating|score)|\bdecode\b.{0,40}\band\s+(?:follow|execute|obey)", _I)),
    ("rating directive", re.compile(
        r"\b(?:give|grant|award)\b.{0,40}\b(?:maximum|highest|top|best)\s+(?:rating|score|level|grade)"
        r"|\b(?:grade|rate|score|mark)\b.{0,40}\b(?:submission|dossier|packet)\b.{0,30}\bas\s+"
        r"(?:exceptional|outstanding|excellent|staff|senior)", _I)),
    ("rating directive", re.compile(
        r"\b(?:rate|score|assess|grade|evaluate|classify|mark|level|rank|assign|output|return|"
        r"recommend|label)\b.{0,50}\b(?:this|the|my|her|his|their)\s+(?:packet|candidate|author|"
        r"engineer|submission|promotion|case|application|level)\b.{0,60}\b" + _RATING_WORDS, _I)),
    ("rating directive", re.compile(
        r"\b(?:must|should|shall|will)\s+(?:be\s+)?(?:rated|scored|assessed|levell?ed|graded|"
        r"classified|marked|approved)\b.{0,40}\b" + _RATING_WORDS, _I)),
    ("authority claim", re.compile(
        r"\b(?:already|pre-?)\s*(?:been\s+)?(?:approved|decided|signed off|confirmed|validated)\b.{0,80}"
        r"\b(?:promotion|level|staff|senior|committee|packet)|\b(?:committee|panel|vp|director)\b.{0,60}"
        r"\b(?:already|pre-?)\s*(?:approved|decided|signed off|confirmed)", _I)),
    ("suppression directive", re.compile(
        r"\bdo\s*n[o']t\s+(?:flag|penali[sz]e|mention|report|downgrade|lower|question)\b", _I)),
    ("foreign-language instruction", re.compile(
        r"\b(?:ignora|ignore\s+las|ignorez|ignoriere|ignorieren|ignorar|instrucciones|anweisungen|"
        r"consignes|istruzioni|instruções|califica|calificar|calif[ií]quen|eval[uú]a|evaluador|"
        r"bewerte|bewerten|einstufen|pr[uü]fer|[ée]valuez|[ée]valuateur|notez|valuta|avalie|"
        r"avaliador|asigna|asignar|vergib|attribuez)\b", _I)),
]

_COMMENT = re.compile(r"<!--[\s\S]*?-->")
# A comment is an injection only when it addresses the evaluator or tells it how to
# rate; template leftovers ("<!-- describe your impact -->") are neither.
_COMMENT_DIRECTIVE = re.compile(
    rf"^\W*(?:dear\s+|hey\s+|note\s+(?:to|for)\s+(?:the\s+)?)?(?:ai|llm|automated|gpt|claude)\s*"
    rf"(?:{_EVALUATOR}s?)?\s*[:,]|\b(?:score|rate|grade|mark|level|assess|rank)\b.{{0,60}}\b(?:as|at)\s+"
    rf"(?:staff|senior|principal|distinguished|exceptional|the highest|maximum)\b", _I)

# Kinds a sentence is found by for its form, not for what it says to the assessment.
FORM_KINDS = frozenset({"zero-width characters", "mixed-script homoglyphs", "encoded text", "roleplay",
                        "foreign-language instruction"})

_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\u180e]")


# Words of someone whose work is the defence: quoting an attack string as the object of that work.
_WORK_CONTEXT = re.compile(
    r"\b(?:injections?|jailbreaks?|attacks?|attackers?|payloads?|adversarial|red[- ]?team\w*|"
    r"classif\w+|detect\w*|filter\w*|guardrails?|saniti[sz]\w*|defen[cs]\w*|exploits?|corpus|"
    r"tests?|test (?:cases?|sets?|suites?)|evals?|eval(?:uation)? sets?|strings?|phrases?|phrasings?|"
    r"examples?|patterns?|probes?|canar(?:y|ies)|benchmark\w*|threat model\w*|regex\w*|blocklist\w*|"
    r"prompts?|cases?|categor\w+|traffic|attempts?|suites?|paraphras\w*|setups?|persona\w*|tokeni\w+|"
    r"refusals?|relabel\w*|label\w*|catch\w*|caught|screen\w*|block\w*|dataset|samples?|inputs?|"
    r"quer(?:y|ies)|variants?|abuse|malicious|spoof\w*|obfuscat\w*|normali[sz]\w*|such as|like|"
    r"e\.g\.|for example)\b|\d%",
    re.IGNORECASE)
_QUOTED = re.compile(r"\"[^\"\n]{3,}\"|\u201c[^\u201d\n]{3,}\u201d|`[^`\n]{3,}`|'[^'\n]{6,}'(?!\w)|"
                     r"\u2018[^\u2019\n]{6,}\u2019|\u00ab[^\u00bb\n]{3,}\u00bb")


@dataclass(frozen=True)
class InjectionHit:
    """A span that is never evidence; ``flagged`` when it is shown as an injection attempt."""

    start: int
    end: int
    kind: str
    flagged: bool = True


def _visible(s: str) -> str:
    return fold(s)


def _judge(folded: str) -> str | None:
    """What a sentence does, if it addresses the evaluator: the kind of injection, or None."""
    for name, pattern in _SENTENCE_PATTERNS:
        if pattern.search(folded):
            return name
    return claim(folded) or talks_to_evaluator(folded)


def describes_injection_work(folded: str) -> bool:
    """True when the attack text sits in quotes and the words around it speak of defending against it."""
    if not _QUOTED.search(folded):
        return False
    outside = _QUOTED.sub(" QUOTED ", folded)
    return bool(_WORK_CONTEXT.search(outside)) and _judge(outside) is None


def _line_around(text: str, start: int, end: int) -> str:
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", end)
    return text[lo:hi if hi != -1 else len(text)]


def detect_injections(text: str, units: list[tuple[int, int]]) -> list[InjectionHit]:
    """All injection spans in ``text``; ``units`` are sentence spans to check one by one."""
    hits: list[InjectionHit] = []
    for m in _COMMENT.finditer(text):
        body = _visible(m.group(0)[4:-3])
        if _COMMENT_DIRECTIVE.search(body) or any(p.search(body) for _, p in _SENTENCE_PATTERNS):
            hits.append(InjectionHit(m.start(), m.end(), "html comment with instructions",
                                     flagged=names_assessment(body)))
    for block_kind, pattern in _BLOCK_PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.start(), m.end()
            while end > start and text[end - 1].isspace():
                end -= 1
            if end > start and not describes_injection_work(fold(_line_around(text, start, end))):
                hits.append(InjectionHit(start, end, block_kind,
                                         flagged=names_assessment(fold(text[start:end]))))
    for run in find_encoded(text):
        hits.append(InjectionHit(run.start, run.end, "encoded text",
                                 flagged=run.hides_words and names_assessment(run.decoded)))
    for start, end in units:
        hits += _judge_unit(text, start, end, hits)
    hits += [InjectionHit(s, e, "reads like an injection", flagged=names_assessment(fold(text[s:e])))
             for s, e, _ in resembling(text)]
    return _merge([_widen(text, h) for h in hits])


_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


def _widen(text: str, hit: InjectionHit) -> InjectionHit:
    """A flagged span covers its paragraph, list item or table: the sentences around an injection
    lean on it ("I fixed nineteen of them"), and a flagged table header makes every row address the
    reader. A paragraph ends at a blank line or a new list item."""
    if not hit.flagged:
        return hit
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    first = next(i for i, (s, e) in enumerate(lines) if e >= hit.start)
    last = next((i for i, (s, e) in enumerate(lines) if e >= hit.end), len(lines) - 1)
    table = text[lines[first][0]:lines[first][1]].lstrip().startswith("|")

    def joins(i: int) -> bool:
        line = text[lines[i][0]:lines[i][1]]
        if not line.strip():
            return False
        return line.lstrip().startswith("|") if table else not _LIST_ITEM.match(line)

    while first > 0 and (joins(first - 1) if table else joins(first) and joins(first - 1)):
        first -= 1
    while last + 1 < len(lines) and joins(last + 1):
        last += 1
    end = lines[last][1]
    while end > lines[first][0] and text[end - 1].isspace():
        end -= 1
    return InjectionHit(min(lines[first][0], hit.start), max(end, hit.end), hit.kind, True)


def _judge_unit(text: str, start: int, end: int, hits: list[InjectionHit]) -> list[InjectionHit]:
    raw = text[start:end]
    visible = _visible(raw)
    kind: str | None = None
    if obfuscated(raw) and len(visible.split()) >= 3:
        kind = "zero-width characters" if _ZERO_WIDTH.search(raw) else "mixed-script homoglyphs"
    else:
        kind = _judge(visible)
        if kind is not None and describes_injection_work(visible):
            kind = None
        elif kind is None and rot13_hides_words(visible):
            kind = "encoded text"
    if any(h.start <= start and end <= h.end and h.flagged for h in hits):
        return []
    if kind:
        # Found by its form only and aimed at some other system (an exhibit of security work):
        # kept out of evidence, not flagged. What the other rules find is about the assessment.
        return [InjectionHit(start, end, kind, flagged=kind not in FORM_KINDS or names_assessment(visible))]
    if SELF_VERDICT.search(visible):
        return [InjectionHit(start, end, "level claimed by the author", flagged=False)]
    return []


def _merge(hits: list[InjectionHit]) -> list[InjectionHit]:
    """Overlapping spans as one; flagged when any part is."""
    hits = sorted(hits, key=lambda h: (h.start, -h.end))
    merged: list[InjectionHit] = []
    for h in hits:
        if merged and h.start < merged[-1].end:
            last = merged[-1]
            kind = last.kind if last.flagged or not h.flagged else h.kind
            merged[-1] = InjectionHit(last.start, max(last.end, h.end), kind, last.flagged or h.flagged)
        else:
            merged.append(h)
    return merged
