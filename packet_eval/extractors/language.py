"""Signals of seniority that hold across ladders, read from one sentence.

A ladder says *what* each dimension is; how senior a sentence sounds is the
same in every ladder: who decided (the author, or someone whose direction they
followed), how far the work reaches (a feature, a team, several teams, the
organisation), what the act was (implemented, designed, diagnosed, set the
standard) and whether an outcome or artifact stands behind it.

Person invariance is by construction: ``neutral`` turns every gendered pronoun
into one word and drops every capitalised token the packet never uses in lower
case (names of people, and of products, which carry no level either). All the
features here, and the sentence vectors, are computed from that neutral text,
so renaming someone or changing "he" to "she" cannot move a level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_I = re.IGNORECASE

_WORD = re.compile(r"[^\W\d_][\w'’\-]*")
# Both genders become one phrase that no packet uses by itself, so a nominee's
# pronoun stays distinguishable from a plural "they".
_PRONOUNS = {"she": "the nominee", "he": "the nominee", "her": "the nominee's", "his": "the nominee's",
             "him": "the nominee's", "hers": "the nominee's", "herself": "the nominee",
             "himself": "the nominee"}
_PRONOUN = re.compile(r"\b(?:" + "|".join(_PRONOUNS) + r")\b", _I)
NAME = "someone"

# Words that start sentences in every packet; they are never names.
_COMMON = frozenset(
    " ".join([
        "a an the i my we our us you your they their this that these those it its he she his her him and ",
        "or but so if as at by for from in into of on to with without after before when while then also ",
        "each every all both most some any no not one two three first next last new own ",
    ]).split()
)


# Confident adjectives and intensifiers state no fact ("the world-class harness" is
# "the harness"), so they are removed before any feature is computed.
_PUFFERY = re.compile(
    r"(?<![\w-])(?:world-class|best-in-class|industry-leading|game-changing|groundbreaking|"
    r"ground-breaking|cutting-edge|state-of-the-art|top-notch|first-class|next-generation|"
    r"(?:truly|highly|hugely|incredibly|extremely|really|very|deeply|massively|wildly)\s+"
    r"(?:remarkable|impactful|successful|effective|innovative|important|complex)|"
    r"remarkable|impactful|stellar|phenomenal|outstanding|exceptional|extraordinary|exemplary|"
    r"amazing|incredible|brilliant|excellent|superb|fantastic|innovative|visionary|"
    r"hugely successful|highly successful|unparalleled|unprecedented|seamless|seamlessly|robust|"
    r"best-ever|stunning|tremendous|massive|transformative|revolutionary)(?![\w-])\s*", re.IGNORECASE)


_PAST = re.compile(r"[a-z]+ed|built|wrote|led|ran|set|made|cut|found|drove|took|shipped|rebuilt|split|"
                   r"brought|taught|began|kept|held|sent|got|put|spent|rewrote|chose|drew|gave|"
                   r"owns?|leads?|designs?|builds?|defines?|mentors?|runs?|writes?|sets?")


# Markup a docx or pdf rendering of the same words would not have.
_EMPHASIS = re.compile(r"\*{1,3}|(?<![\w])_{1,3}|_{1,3}(?![\w])|`")


def is_list(neutral_text: str) -> bool:
    """A run of names ("Python, Kafka, dbt and Pinecone") is an inventory, not a behaviour."""
    words = neutral_text.split()
    names = sum(w.strip(",.;:") == NAME for w in words)
    return neutral_text.count(",") >= 5 or (names >= 4 and names >= 0.3 * len(words))


_LABEL = re.compile(r"(?:^|[\s·|;])(?:\*\*)?[A-Z][\w'’-]+(?: [\w'’-]+){0,2}:(?:\*\*)?\s")


def is_metadata(raw: str) -> bool:
    """A header block ("Team: Relevance · Tenure: 2 years") states facts about a form, not acts."""
    return len(_LABEL.findall(raw)) >= 2


def vocabulary(text: str) -> frozenset[str]:
    """Every word the text uses in lower case (the test for 'is this capitalised word a name')."""
    return frozenset(w for w in _WORD.findall(text) if w.islower())


def _stem(w: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            return w[: -len(suffix)]
    return w


@lru_cache(maxsize=8)
def _stems(known: frozenset[str]) -> frozenset[str]:
    return frozenset(_stem(k) for k in known)  # once per packet, not once per sentence


def neutral(s: str, known: frozenset[str]) -> str:
    """``s`` lower-cased, with pronouns unified and unknown capitalised words as ``someone``."""
    known_stems = _stems(known)
    s = _EMPHASIS.sub("", _PUFFERY.sub("", s))

    def word(m: re.Match[str]) -> str:
        w = m.group(0)
        low = w.lower()
        if low in _PRONOUNS:
            return _PRONOUNS[low]
        if w[0].isupper() and not w.isupper():
            if low in _COMMON or low in known or _stem(low) in known_stems:
                return low
            # A bullet's opening verb ("Designed the gate") is a word; a name is a
            # subject followed by its verb ("Ahmed designed the gate").
            if not s[:m.start()].strip() and _PAST.fullmatch(low) and not _PAST.match(
                    s[m.end():].lstrip().split(" ", 1)[0].lower()):
                return low
            return NAME
        return low

    return _WORD.sub(word, s)


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])", _I)


_FIRST_PERSON = _rx("i", "i'm", "i've", "i'd", "i’m", "i’ve", "my", "me", "myself", "mine")
_NOMINEE = _rx("the nominee", "the nominee's")
_TEAM = _rx("we", "we're", "we've", "our", "us", "the team", "ourselves", "the squad")
_GROUP_START = re.compile(r"^(?:we|our|us|the|this|that|these|those|it|team|you)\b", _I)
_NAME_START = re.compile(r"^someone\s+(?:\w+\s+)?(?:\w+ed|built|wrote|led|ran|set|made|found|drove|took|"
                         r"shipped|owns|leads|designs|builds|defines|mentors|runs|has|is)\b", _I)
_VERB_START = re.compile(r"^(?:\w+ed|built|wrote|led|ran|set|made|cut|found|"
                         r"drove|took|shipped|rebuilt|split|brought|taught|began|kept|held|sent|got|"
                         r"put|spent|rewrote|owns?|leads?|designs?|builds?|defines?|mentors?|runs?)\b", _I)

ASPIRATION = _rx("want to", "plan to", "planning to", "hope to", "would like to", "aim to",
                 "intend to", "aspire", "next year", "next quarter", "next half", "my goal",
                 "going to", "looking forward", "i will", "i'll", "would love to", "ready to",
                 "i would", "i’d like", "i'd like", "eager to", "keen to", "next cycle")
# A denial of the author's own experience or act: never evidence at the level it denies.
NEGATION = re.compile(
    r"(?<![\w-])(?:(?:little|limited|no|minimal|not much|without)\s+(?:real\s+|hands-on\s+|direct\s+|"
    r"practical\s+|production\s+)?(?:experience|exposure|involvement|ownership)|"
    r"not\s+yet|yet\s+to|has\s*n[o']t|have\s*n[o']t|had\s*n[o']t|never\s+(?:\w+ed|built|led|owned|ran|wrote)|"
    r"(?:i|they|someone)\s+(?:did|do|does|was|am|is|were)\s*(?:not|n't)|"
    r"(?:did|does|do)\s*n[o']t\s+(?:design|build|own|lead|write|define|choose|decide))(?![\w-])", _I)
HEDGE = _rx("helped", "helped with", "assisted", "was involved", "involved in", "exposure to",
            "familiar with", "some experience", "contributed to", "supported", "shadowed",
            "observed", "participated in", "learning", "sat in on", "took part")

# (name, pattern): each becomes one feature, the count of matches.
SIGNALS: list[tuple[str, re.Pattern[str]]] = [
    ("direction", _rx(
        r"as specified", r"as directed", r"as asked", r"was asked to", r"were asked to", r"assigned",
        r"following (?:the|their|a|an)?\s*(?:[\w'’-]+\s+){0,3}?(?:guide|design|spec|template|"
        r"instructions|plan|doc|lead|pattern|runbook|playbook)\w*",
        r"(?:lead|manager|senior|architect|team|tech lead|supervisor|mentor)(?:'s|’s)?\s+"
        r"(?:chose|picked|designed|wrote|set up|specified|decided|defined|design|spec|plan)",
        r"from the (?:spec|design|ticket|template)\w*", r"to (?:the|their) (?:spec|design)",
        r"under (?:the )?(?:guidance|supervision)", r"with help from", r"set up by", r"someone else",
        r"existing", r"ticket\w*", r"paired with", r"shadow\w*", r"the team chose",
        r"(?:chosen|designed|picked|set|defined|decided) by")),
    # A named colleague deciding: direction in a first-person packet, the nominee in a nomination.
    ("other_decided", re.compile(r"\bsomeone(?:'s|’s)?\s+(?:someone\s+)?(?:chose|picked|designed|wrote|"
                                 r"set up|specified|decided|defined|design|spec|plan|guide)\b", _I)),
    ("own", _rx(r"designed", r"designs", r"defined", r"defines", r"decided", r"chose", r"proposed",
                r"owned", r"owns", r"own", r"architected", r"wrote", r"authored", r"created",
                r"introduced", r"established", r"initiated", r"led", r"leads", r"drove", r"invented",
                r"came up with", r"framed", r"scoped", r"from scratch", r"end[- ]to[- ]end")),
    ("build", _rx(r"built", r"builds", r"set up", r"rebuilt", r"rewrote", r"shipped", r"launched")),
    ("implement", _rx(r"implemented", r"added", r"wired", r"hooked up", r"fixed", r"updated",
                      r"extended", r"ran", r"deployed", r"configured", r"integrated", r"migrated",
                      r"cleaned", r"labell?ed", r"tagged", r"ported")),
    ("diagnose", _rx(r"root[- ]caus\w*", r"diagnos\w*", r"traced", r"found that", r"turned out",
                     r"discovered", r"pinpointed", r"isolated", r"bisect\w*", r"post-?mortems?",
                     r"incident reviews?", r"failure (?:modes?|class\w*|buckets?|categor\w*|taxonom\w*)",
                     r"systemic", r"the real cause", r"was caused by", r"because the", r"why \w+ failed")),
    ("measure", _rx(r"measured", r"evaluated", r"compared", r"benchmarked", r"a/b", r"tested",
                    r"recall(?:@\d+)?", r"precision", r"accuracy",
                    r"per[- ](?:query|category|type|class|language)",
                    r"held-out", r"baseline", r"labell?ed set", r"cases")),
    ("team_reach", _rx(r"the team (?:now )?(?:uses|runs|maintains|adopted|relies on)",
                       r"(?:team|team's|team’s) (?:standard|default|practice)", r"other engineers",
                       r"teammates", r"everyone on the team", r"whole team", r"the team's", r"the team’s",
                       r"reviewed by", r"code review", r"that the team", r"for the team")),
    ("multi_team", _rx(r"other teams", r"several teams", r"(?:\d+|two|three|four|five|six|seven|eight|"
                       r"nine|ten|eleven|twelve|twenty|thirty|a dozen|dozens of|many|most)\s+"
                       r"(?:[\w-]+\s+)?(?:teams|squads|groups|departments|units|products|services)",
                       r"product teams", r"teams across",
                       r"across teams", r"cross-team", r"sister teams", r"partner teams",
                       r"other squads", r"adopted by", r"used by", r"\d+ squads", r"other groups",
                       r"neighbouring teams", r"neighboring teams", r"teams outside")),
    ("org", _rx(r"org-wide", r"organi[sz]ation(?:-wide|al)?", r"company-wide", r"[\w-]+-wide",
                r"across the (?:org|company|bank|agency|department|division|group|business|firm|"
                r"institute|lab|service|ministry|organi[sz]ation)",
                r"every\s+(?:[\w-]+\s+){0,2}?(?:team|squad|division|department|unit|group|product|service)",
                r"all\s+(?:[\w-]+\s+){0,2}?(?:teams|squads|divisions|departments|units|groups|products|services)",
                r"division", r"departments", r"enterprise", r"mandatory", r"binding", r"must pass",
                r"sign-off", r"review board", r"council", r"steering", r"cio", r"cto", r"vp")),
    ("standard", _rx(r"policy", r"policies", r"standard", r"standards", r"governance", r"guideline\w*",
                     r"gate", r"gates", r"approval", r"approvals", r"audit\w*", r"register",
                     r"charter", r"principles", r"framework", r"playbook", r"checklist", r"rule\w*",
                     r"criteria", r"sop")),
    ("strategy", _rx(r"roadmap", r"strategy", r"direction", r"multi-year", r"two-year", r"three-year",
                     r"vision", r"tradeoffs?", r"trade-offs?", r"versus", r"instead of", r"rather than",
                     r"options", r"alternatives")),
    ("mentor", _rx(r"mentor\w*", r"coach\w*", r"taught", r"onboard\w*", r"trained")),
    ("outcome", re.compile(
        r"(?:\d+(?:\.\d+)?\s*(?:%|x\b|×|pp\b|points?\b|ms\b|s\b|k\b|hours?\b|days?\b|weeks?\b))|"
        r"(?:\bfrom\s+\S*\d\S*\s+(?:to|→|->)\s+\S*\d)|(?:\d\s*(?:→|->)\s*\S*\d)|"
        r"\b(?:halved|doubled|tripled|eliminated|prevented)\b", _I)),
    ("artifact", _rx(r"https?://\S+", r"go/\S+", r"doc", r"rfc", r"design doc", r"dashboard", r"wiki",
                     r"write-?up", r"proposal", r"runbook")),
]
SIGNAL_NAMES = [name for name, _ in SIGNALS]
_ACT = re.compile("|".join(p.pattern for name, p in SIGNALS
                           if name in ("own", "build", "implement", "diagnose", "measure", "mentor")), _I)


@dataclass(frozen=True)
class Reading:
    """What one sentence says about who did what, before any ladder is consulted."""

    neutral: str
    attribution: str  # individual | team | unclear
    negated: bool
    hedged: bool
    aspiration: bool
    signals: dict[str, int]


def attribution(neutral_text: str, nomination: bool) -> str:
    """individual, team or unclear; in a nomination the nominee is the individual, else the author."""
    if _FIRST_PERSON.search(neutral_text) and not nomination:
        return "individual"
    # A gendered pronoun in a first-person packet is usually a quoted manager or peer.
    if _NOMINEE.search(neutral_text) or (nomination and _NAME_START.match(neutral_text)):
        return "individual"
    if not _GROUP_START.match(neutral_text) and _VERB_START.match(neutral_text):
        return "individual"
    if _TEAM.search(neutral_text):
        return "team"
    return "unclear"


def read(s: str, known: frozenset[str], nomination: bool) -> Reading:
    n = neutral(s, known)
    return Reading(
        neutral=n,
        attribution=attribution(n, nomination),
        negated=bool(NEGATION.search(n)),
        hedged=bool(HEDGE.search(n)),
        aspiration=bool(ASPIRATION.search(n)) or n.rstrip().endswith("?"),
        signals={name: 0 if nomination and name == "other_decided" else len(p.findall(n))
                 for name, p in SIGNALS},
    )


def voice(neutral_sentences: list[str]) -> str:
    """``first_person``, ``nomination`` or ``none``: whose work the text describes, if anyone's.

    A text in the first person is the author's own packet; one with no first
    person but a gendered nominee or a named subject doing things is a
    nomination; a text with neither (an essay, a job advert) describes nobody.
    """
    # Only sentences that report an act count: "I love what I do" describes nobody's work.
    acts = [s for s in neutral_sentences if _ACT.search(s)]
    first = sum(bool(_FIRST_PERSON.search(s)) for s in acts)
    nominee = sum(bool(_NOMINEE.search(s) or _NAME_START.match(s)) for s in acts)
    verbs = sum(bool(_VERB_START.match(s) and not _GROUP_START.match(s)) for s in acts)
    if first >= 2 or (first >= 1 and nominee == 0):
        return "first_person"
    if nominee >= 2:
        return "nomination"
    if verbs >= 2:
        return "first_person"  # terse bullets that start with the author's verbs
    return "none"
