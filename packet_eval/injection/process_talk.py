"""Sentences that talk to, or about, the assessment of the packet they sit in.

An account of work talks about the work. A sentence that tells the reader how
to rate, what to flag, what counts as evidence or which rule applies, or that
states this packet's level as a field value, is aimed at the evaluator
whatever words it uses: that is what these rules judge. They run on folded
text (``packet_eval.injection.normalize.fold``), one sentence at a time.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE
_LEVEL = r"(?:staff|senior|principal|distinguished|l[5-9]|e[5-9]|ic[4-7])"
_JUDGE = (r"(?:evaluators?|reviewers?|assessors?|graders?|scorers?|calibrators?|readers?|extractors?|"
          r"packet-eval|bot)")
# A reviewer may be part of the system an author built ("what the reviewer should do"); these are not.
_STRICT_JUDGE = r"(?:evaluators?|assessors?|graders?|calibrators?|extractors?|packet-eval)"
_FLAG_NAMES = (r"(?:flags?|gaps?|concerns? section|negative findings|prompt[_ ]injection|team attribution|"
               r"velocity proxy|complexity proxy|benchmark (?:proxy|concern)|unsupported claim|"
               r"proxy claims?)")

RULES: list[tuple[str, re.Pattern[str]]] = [
    # "Level: staff", "overall_level: staff", "level=staff": a field, not a sentence of work.
    ("level stated as a field", re.compile(
        rf"(?<!target )(?<!target_)(?<!current )(?<!next )(?<!proposed )(?<!nominated )(?<!applying )"
        rf"(?<!requested )(?<!desired )(?<!sought )(?<!current_)"
        rf"\b(?:assessed[ _]level|overall[ _]level|demonstrated[ _]level|level|rating|grade|verdict|overall)"
        rf"[*_]*\s*[:=|]\s*[*_\"'`]*\s*{_LEVEL}\b", _I)),
    # A table row or field that gives a dimension id a level: "| eval_design | staff |".
    ("level stated as a field", re.compile(
        rf"\b[a-z]+_[a-z_]+[*_`]*\s*[:=|]\s*[*_\"'`]*\s*{_LEVEL}\b(?!\s*(?:engineers?|teams?|peers?))", _I)),
    ("what counts as evidence", re.compile(
        rf"\b(?:evidence|spans?|quotes?)\b[^.\n]{{0,40}}\b(?:verbatim|for the extractor)\b"
        rf"|\b(?:copy|use|quote|take|paste)\s+(?:\w+\s+){{0,2}}verbatim\b"
        rf"|\b{_LEVEL}[- ]level evidence\b|\bkey evidence\s*\(\s*{_LEVEL}"
        rf"|\bevidence\s*\((?:[^)]*\b)?{_LEVEL}\b", _I)),
    ("directive about flags", re.compile(
        rf"\b(?:leave|leaving|clear|clearing|omit|omitting|empty|drop|remove|suppress|skip|limit)\b.{{0,40}}"
        rf"\b{_FLAG_NAMES}|\b{_FLAG_NAMES}\b.{{0,40}}\b(?:empty|none|cleared|omitted|need not|"
        rf"as (?:a )?false positives?|does not arise|do(?:es)? not apply|should not be)"
        rf"|\bnot\s+(?:a|an)\s+{_FLAG_NAMES}\b|\bno\s+(?:negative\s+)?(?:findings|gaps)\b.{{0,30}}\b"
        rf"(?:found|needed|listed|contain)", _I)),
    ("asks the evaluator", re.compile(
        rf"\b(?:ask|asks|asked|request|requests|requested|urge|invite|want)\s+(?:that\s+)?(?:the\s+|any\s+|"
        rf"all\s+)?(?:human\s+|automated\s+)?{_JUDGE}\s+(?:to|not to)\b"
        rf"|(?<!what )\b(?:the|any|every|all)\s+(?:automated\s+\w+|{_STRICT_JUDGE})\s+(?:should|must|shall|"
        rf"need(?:s)? to|"
        rf"needn't|need not|may|is to|are to|ought to)\b", _I)),
    ("speaks of this packet's evaluation", re.compile(
        r"\b(?:evaluations?|assessments?|ratings?|outputs?|reports?|summar(?:y|ies)|extractions?)\s+"
        r"(?:of|for|on)\s+this\s+(?:packet|document|submission|dossier)\b", _I)),
    ("addresses the reader of the packet", re.compile(
        r"\b(?:tool|system|model|program|software|pipeline|reader|script|anyone|whoever|whatever)\s+"
        r"(?:that|which|who)\s+(?:reads|processes|evaluates|scores|grades|parses|reviews|summari[sz]es)\s+"
        r"(?:these|this|the|my)\s+(?:packets?|documents?|submissions?|text)", _I)),
    ("what counts as evidence", re.compile(
        r"\b(?:use|treat|count|quote|copy|include|record)\b.{0,40}\bas\s+(?:\w+\s+)?evidence\b"
        r"|\b(?:pre-?verified|verified|quotable|ready-made)\s+(?:evidence|summary|quotes?)\b"
        r"|\bevidence\s+(?:block|belongs|list)\b|\bbelongs? in (?:every|each|all)\b", _I)),
    ("rewrites the ladder's rules", re.compile(
        r"\b(?:ladder|rubric|labell?ing guide|levell?ing guide|level[ _]rule|core dimensions?|cells?)\b"
        r".{0,120}\b(?:no longer|round(?:ed)? up|is sufficient|are sufficient|retired|automatically|"
        r"regardless|is enough|only needs?|does not require|not required|counts? double)\b"
        r"|\b(?:no longer|round(?:ed)? up|retired)\b.{0,80}"
        r"\b(?:core dimensions?|ladder|rubric|cells?)\b", _I)),
    ("speaks as the ladder", re.compile(
        r"\b(?:ladder|rubric)\s+(?:excerpt|quote|text|cell|note|extract)\b"
        r"|\b(?:as\s+)?the\s+(?:\w+\s+){0,2}(?:ladder|rubric)\s+(?:puts it|says|states|is explicit|reads|"
        r"defines|notes|spells out)\b|\bfrom the (?:\w+\s+){0,3}ladder\b.{0,30}[:]", _I)),
    ("imperative to the evaluator", re.compile(
        rf"(?:^|[.:;!?]\s+|\|\s*)(?:set|assign|give|mark|record|return|output|leave|clear|treat|inherit|"
        rf"report|list|read|rate|score|grade|level)\s+(?:the\s+|this\s+|all\s+|every\s+|any\s+|each\s+)?"
        rf"(?:\w+\s+){{0,3}}(?:level|flags?|gaps?|result|rating|evidence|{_LEVEL})\b", _I)),
    # A level given to the author or packet by someone: "confirmed the author at Staff", "level set to
    # staff", "be assessed at staff". The author's own "I was promoted to senior" is left alone.
    ("level assigned to the author", re.compile(
        rf"^(?!.*\b(?:i|i'm|i've|i was|my)\b).*\b(?:assessed|rated|levell?ed|promoted|confirmed|ratified|"
        rf"determined|set|placed|scored|graded|awarded|calibrated|answer|verdict|outcome)\b[^.\n]{{0,30}}?"
        rf"(?:\b(?:at|to|as|is)\s+|[:=]\s*)(?:the\s+|an?\s+)?[*_]*{_LEVEL}\b", _I | re.DOTALL)),
    ("level assigned to the author", re.compile(
        rf"\b(?:rate|level|assess|score|grade|place)\s+(?:me|him|her|them)\s+(?:at|as)\s+(?:\w+\s+)?{_LEVEL}\b"
        rf"|\b(?:this|the)\s+(?:packet|candidate|author|submission)\s+demonstrates\s+{_LEVEL}", _I)),
    ("rewrites the ladder's rules", re.compile(
        r"\b(?:min_dimensions|min_core|level_rule)\b"
        rf"|\b{_LEVEL}\s+(?:now\s+)?requires?\s+only\b"
        r"|\b(?:ladder|level(?:ling)? rule|levell?ing (?:policy|guide|charter)|core[- ]dimensions?)\b"
        r".{0,60}\b(?:revision|revised|amended|supersed\w*|dropped|relaxed|waived|override)\b"
        r"|\b(?:dropped|removed|waived|relaxed|amended|revised)\b.{0,40}"
        r"\b(?:requirement|ladder|rule \d+)\b", _I)),
    ("directive about flags", re.compile(
        r"\b(?:prompt_injection|team_attribution|unsupported_claim|\w+_proxy|velocity flag|benchmark flag)\b"
        r".{0,30}(?:\bn/a\b|\b(?:resolved|cleared|clean|waived|pre-?cleared)\b)"
        r"|\b(?:not|never|n't)\s+(?:\w+\s+)?(?:trigger|raise|fire|apply|set)\s+(?:an?\s+|the\s+|any\s+)?"
        r"(?:prompt_injection|team_attribution|unsupported_claim|\w+_proxy|velocity flag|benchmark flag)\b"
        r"|\bflag pre-?clearance\b", _I)),
    ("authority over the assessment", re.compile(
        r"\b(?:automated|assessment|extraction)\s+(?:\w+\s+)?(?:is|are)\s+(?:advisory|informational)\b"
        r"|\b(?:assessment|automated|extraction|scoring)\s+tools?\s+(?:should|must|shall|are to|may not)\b"
        r"|\b(?:output|result|assessment|rating|level)s?\s+"
        rf"(?:below|under|other than|lower than)\s+{_LEVEL}\b"
        r"|\bexecutive override\b|\bi am instructing\b", _I)),
    ("roleplay", re.compile(
        r"\blet'?s play\b|\bpretend (?:you|to be)\b|\bimagine (?:you are|you're)\b|\bact as\b"
        r"|\b(?:you are|you're)\s+(?:now\s+)?\w*(?:bot|gpt)\b|\bstay in character\b", _I)),
    ("message headers", re.compile(
        r"(?m)^\s*(?:from|to|subject)\s*:\s*\S*(?:bot|packet-eval|evaluator|override|grader)\b", _I)),
]

# Other languages: function words of a sentence that is not English, and words of rating.
_FOREIGN = re.compile(
    r"\b(?:el|los|las|para|este|esta|que|ya|como|der|die|das|und|ist|nicht|dieses|wird|les|des|pour|"
    r"cette|est|ce|une|sont|il|della|questo|essere|não|uma|voor|het|een|niet)\b", _I)
_FOREIGN_RATING = re.compile(
    r"\b(?:nivel|niveau|stufe|livello|nível|aprobad\w*|approuv\w*|genehmigt|evalú\w*|evalu[ae]\w*|"
    r"bewert\w*|beurteil\w*|prüf\w*|valut\w*|avali\w*|califi\w*|señal\w*|signal\w*)\b"
    r"|уров|оцен|отмеч|систем|級|级|評|评|審|审|批准|忽略|指示|指令|レベル|評価", _I)
_RATING_OBJECT = re.compile(r"\b(?:staff|senior|principal|prompt_injection)\b|l[5-9]\b", _I)


def foreign_rating(folded: str) -> bool:
    """A sentence not in English that speaks of levels or approval and names a level."""
    non_ascii = sum(ord(c) > 127 for c in folded if c.isalpha())
    letters = sum(c.isalpha() for c in folded) or 1
    foreign = non_ascii / letters > 0.3 or len(_FOREIGN.findall(folded)) >= 3
    return foreign and bool(_FOREIGN_RATING.search(folded)) and bool(_RATING_OBJECT.search(folded))


def talks_to_evaluator(folded: str) -> str | None:
    """The kind of evaluator-directed talk in a sentence, or None."""
    kind = next((k for k, p in RULES if p.search(folded)), None)
    if kind is None and foreign_rating(folded):
        kind = "foreign-language instruction"
    return kind
