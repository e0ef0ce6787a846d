"""name_swap: give every person in a packet a name from one name group, and matching pronouns.

This is the fairness probe. A packet's verdict must not depend on whether its
author is called Emily Olson or Lakisha Washington, so each variant renames
every detected person (the author and colleagues) with names from one group of
``names.yaml`` and turns every gendered pronoun into that group's gender.
Renaming everyone into one group keeps the pronouns coherent without
coreference: whoever "she" was, every gendered person is now of that gender.

Detection is deliberately conservative, because renaming a product or a team
would change facts. A run of one to three capitalised tokens counts as a
person only in a person context: the name in the title line ("Brag doc: Kai
Mendel, ..."), after "Nominated by", "Mentored" or an honorific, before a
role ("Rachel Adeyemi, Engineering Manager") or a person verb ("Priya Raman
wrote"), as the speaker of a quotation, or joined by "and" to someone already
found. Once a full name is found, its given name and surname are swapped
wherever they stand alone too ("Priya picked", "Yusuf's"). A colleague
mentioned only by a bare first name in no such context keeps that name.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from packet_eval.dataset import Label
from packet_eval.probes.base import Edit, Variant, apply_edits, derive_seed, remap_label

PROBE = "name_swap"
NAMES_FILE = Path(__file__).with_name("names.yaml")

_LETTER = r"[^\W\d_]"
_PART = rf"{_LETTER}[\w\u0300-\u036f]*"  # a letter, then letters, digits or combining marks
_TOKEN = re.compile(rf"(?<![\w'’-]){_PART}(?:['’-]{_PART})*")
_POSSESSIVE = re.compile(r"['’]s$")

# Capitalised words that are never a name here; month names because "In May" is common.
_NOT_NAMES = frozenset((
    "a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with",
    "why", "what", "when", "where", "which", "who", "how", "since", "over", "each", "every",
    "within", "before", "after", "during", "our", "my", "his", "her", "their", "this", "that",
    "these", "those", "it", "its", "we", "you", "they", "i", "mr", "mrs", "ms", "miss", "mx",
    "dr", "prof", "brag", "doc", "document", "promotion", "promotions", "packet",
    "self-assessment", "self-review", "nomination", "nominated", "annual", "case", "statement",
    "request", "review", "write-up", "list", "staff", "senior", "principal", "junior", "lead",
    "head", "team", "teams", "manager", "director", "engineer", "engineering", "current",
    "role", "title", "requesting", "asking", "going", "next", "half", "year", "quarter",
    "cycle", "apprenticeship", "completion", "notes", "january", "february", "march", "april",
    "may", "june", "july", "august", "september", "october", "november", "december", "monday",
    "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "summary", "context",
    "feedback", "impact", "results", "mentored", "shadowed", "added", "built", "wrote", "led",
    "ran", "set", "made", "found", "drove", "took", "shipped", "designed", "put", "started",
    "chief", "officer", "president",
    # Departments and functions ("Head of Quality Assurance, Digital Systems:"): capitalised
    # before a quote like a speaker's name, but no one's name.
    "quality", "assurance", "digital", "systems", "platform", "operations", "infrastructure",
    "security", "compliance", "regulatory", "technology", "product", "products", "research",
    "clinical", "medical", "finance", "legal", "marketing", "sales", "support", "data",
    "analytics", "risk", "strategy", "services", "solutions", "applied", "department", "group",
    "division", "office", "unit",
))

_ROLE = (r"(?:engineer|manager|director|lead|head|officer|designer|scientist|analyst|architect|"
         r"pm|cto|vp|partner|counsel|nurse|pharmacist|teacher|agronomist|apprentice|intern|"
         r"graduate|mentee|colleague|teammate|researcher)")
_TITLE = (r"(?:Engineer|Manager|Director|Lead|Head|Officer|Designer|Scientist|Analyst|Architect|"
          r"PM|CTO|VP)")
# Text just before a run that makes it a person; [ \t] keeps every context on one line.
_BEFORE = [
    re.compile(r"\b(?:nominated by|mentored|shadowed|coached|mentoring|paired with)[:,]?[ \t]+$",
               re.I),
    re.compile(r"\b(?:manager|lead|mentor|sponsor|nominator)(?:[ \t]+is)?:?[ \t]+$", re.I),
    # "our intern, Kofi", "two engineers in my group, Siobhán", "My lead at the time, Baraka"
    re.compile(rf"\b(?:(?:our|my|the|a|an)[ \t]+(?:[a-z-]+[ \t]+)?{_ROLE}|{_ROLE}s)\b"
               r"[^.\n,]{0,25},[ \t]+$", re.I),
    re.compile(r"(?:^|\n)[ \t]*(?:[-*>][ \t]+)?from[ \t]+$", re.I),
    # the speaker of a quotation: '..." (Mei Lin, AI engineer)', '..." — Priya', '...." Precious'
    re.compile(r"[\"”][.,]?[ \t]*(?:[—–]|\(|-[ \t])[ \t]*$|(?:[.!?][\"”]|[\"”][.!?])[ \t]+$"),
]
# Weaker: only a two-token run counts after these ("with Pedro Alves", "by Obinna Eze").
_BEFORE_FULL = re.compile(r"\b(?:with|by)[ \t]+$")
_HONORIFIC_BEFORE = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Mx|Miss|Prof)\.?[ \t]+$")
# Text just after a run of two or three tokens that makes it a person.
_AFTER = [
    re.compile(r"^(?:['’]s)?[ \t]*,[ \t]+(?:our|my|a|an|the|his|her|their)[ \t]+"
               rf"(?:[\w-]+[ \t]+){{0,2}}{_ROLE}\b", re.I),
    re.compile(rf"^,[ \t]+(?:[A-Z][\w&-]*[ \t]+){{0,3}}{_TITLE}\b"),
    re.compile(r"^[ \t]*\([^)\n]{0,60}\b" + _ROLE, re.I),
    re.compile(r"^,?[ \t]+(?:who|whose|wrote|writes|said|says|asked|picked|chose|told|noted|"
               r"reviewed|approved|joined|mentored|paired|agreed|thanked|described|suggested|"
               r"designed|now owns|now leads|now runs)\b"),
    re.compile(r"^,[^:\n]{0,60}:[ \t]*[\"“]"),
]
# A run followed by a role or unit word is a job title or a team ("Creative Director").
_NOT_AFTER = re.compile(rf"^[ \t]+(?:{_ROLE}|team|squad|group|council|committee)\b|^[ \t]*\|", re.I)
_AND = re.compile(r"^[ \t]+and[ \t]+$|^,[ \t]+and[ \t]+$")

_PRONOUNS = re.compile(r"\b(?:she|he|her|hers|his|him|herself|himself)\b", re.I)
_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Miss)\b(?=\.?\s+[A-Z])")
# After "her", these words mean it is an object ("gave her the"), so it becomes "him".
_OBJECT_FOLLOWERS = frozenset((
    "the", "a", "an", "to", "for", "with", "and", "or", "but", "in", "on", "at", "by", "from",
    "of", "as", "that", "this", "these", "those", "it", "up", "out", "about", "back", "over",
    "into", "through", "when", "while", "because", "if", "so", "than", "then", "again", "too",
    "also", "is", "was", "has", "had",
))
# Before "her", these verbs usually take an object and a bare verb ("see her raise it").
_OBJECT_VERBS = frozenset((
    "see", "saw", "seen", "watch", "watched", "hear", "heard", "let", "lets", "make", "made",
    "makes", "help", "helps", "helped", "want", "wanted", "ask", "asked", "expect", "expected",
    "encourage", "encouraged",
))


@dataclass(frozen=True)
class Group:
    """A name group: its key, gender, given names and surnames."""

    key: str
    gender: str
    given: tuple[str, ...]
    surnames: tuple[str, ...]


@lru_cache(maxsize=4)
def load_groups(path: str | None = None) -> dict[str, Group]:
    """The name groups of ``names.yaml`` (or another file in its layout)."""
    data = yaml.safe_load(Path(path or NAMES_FILE).read_text(encoding="utf-8"))
    out = {}
    for key, g in data["groups"].items():
        origin = key.rsplit("_", 1)[0]
        out[key] = Group(key, g["gender"], tuple(g["given"]), tuple(data["surnames"][origin]))
    return out


def _tokens(text: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _TOKEN.finditer(text):
        word = _POSSESSIVE.sub("", m.group())
        out.append((m.start(), m.start() + len(word), word))
    return out


def _is_name_token(word: str) -> bool:
    if len(word) < 2 or not word[0].isupper() or word.isupper() or word.lower() in _NOT_NAMES:
        return False  # too short, lower case, an acronym (AI, RAG) or a known non-name
    # Each hyphen or apostrophe part may start upper case (Al-Rashidi, O'Donoghue), but a
    # capital inside a part means a product (GitHub, LlamaIndex), which is not a person.
    parts = re.split(r"(['’-])", word)
    for i in range(0, len(parts), 2):
        part, sep = parts[i], parts[i - 1] if i else ""
        if any(c.isupper() for c in part[1:]) or (sep in "'’" and sep and not part[:1].isupper()):
            return False  # a camel-case product, or a contraction such as I'm
    return True


def _runs(text: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """Maximal runs of 1-3 space-separated name-like tokens as (start, end, tokens)."""
    toks = _tokens(text)
    runs: list[tuple[int, int, tuple[str, ...]]] = []
    i = 0
    while i < len(toks):
        if not _is_name_token(toks[i][2]):
            i += 1
            continue
        j = i
        while (j + 1 < len(toks) and _is_name_token(toks[j + 1][2])
               and text[toks[j][1]:toks[j + 1][0]] == " "):
            j += 1
        if j - i < 3:  # four or more capitalised words in a row is a title or an org, not a name
            runs.append((toks[i][0], toks[j][1], tuple(t[2] for t in toks[i:j + 1])))
        i = j + 1
    return runs


def _title_name(text: str) -> tuple[str, ...] | None:
    """The person in the first line ("# Brag doc: Kai Mendel, AI Engineer I")."""
    first = next((ln for ln in text.split("\n") if ln.strip()), "")
    first = first.lstrip("#").strip()
    for segment in re.split(r"\s*(?::|—|–|\s-\s|,|·|\(|\bfor\b)\s*", first):
        words = segment.split()
        lead = []
        for w in words:
            if not _is_name_token(w):
                break
            lead.append(w)
        if 2 <= len(lead) <= 3 and (len(lead) == len(words) or not words[len(lead)][0].isupper()):
            return tuple(lead)
    return None


def detect_people(text: str) -> list[tuple[str, ...]]:
    """People named in ``text``, each as its name tokens, in order of first mention.

    A one-token entry is a person known only by one name; after an honorific it
    is a surname (the caller sees it through :func:`token_roles`).
    """
    people: list[tuple[str, ...]] = []
    honorific: set[str] = set()
    title = _title_name(text)
    if title:
        people.append(title)
    runs = _runs(text)
    found: list[tuple[int, int]] = []
    for start, end, toks in runs:
        before, after = text[max(0, start - 60):start], text[end:end + 80]
        if _NOT_AFTER.search(after):
            continue
        if _HONORIFIC_BEFORE.search(before) and len(toks) == 1:
            honorific.add(toks[0])
        elif not (any(p.search(before) for p in _BEFORE)
                  or (len(toks) == 2 and _BEFORE_FULL.search(before))
                  or (len(toks) >= 2 and any(p.search(after) for p in _AFTER))):
            continue
        people.append(toks)
        found.append((start, end))
    # "Mentored Hamid and Bea", "Julien and Sakura": a run joined to a person is a person.
    changed = True
    while changed:
        changed = False
        for start, end, toks in runs:
            if (start, end) in found:
                continue
            if any(_AND.match(text[e:start]) or _AND.match(text[end:s]) for s, e in found):
                people.append(toks)
                found.append((start, end))
                changed = True
    out = list(dict.fromkeys(people))
    return [(*p, "<honorific>") if len(p) == 1 and p[0] in honorific else p for p in out]


def token_roles(people: list[tuple[str, ...]]) -> dict[str, str]:
    """Name token -> ``given`` or ``surname``; the first role a token gets wins."""
    roles: dict[str, str] = {}
    full = [p for p in people if len(p) >= 2 and p[-1] != "<honorific>"]
    for p in full:
        for t in p[:-1]:
            roles.setdefault(t, "given")
        roles.setdefault(p[-1], "surname")
    for p in people:
        if p not in full:
            roles.setdefault(p[0], "surname" if p[-1] == "<honorific>" else "given")
    return roles


def _case_like(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def _pronoun(word: str, gender: str, next_word: str, prev_word: str = "") -> str:
    w = word.lower()
    if gender == "woman":
        table = {"he": "she", "him": "her", "himself": "herself", "hers": "hers", "she": "she",
                 "her": "her", "herself": "herself"}
        new = table.get(w) or ("her" if next_word[:1].isalpha() else "hers")  # his
    else:
        table = {"she": "he", "hers": "his", "herself": "himself", "he": "he", "him": "him",
                 "his": "his", "himself": "himself"}
        if w == "her":
            possessive = (next_word[:1].isalpha() and next_word.lower() not in _OBJECT_FOLLOWERS
                          and prev_word.lower() not in _OBJECT_VERBS)
            new = "his" if possessive else "him"
        else:
            new = table[w]
    return _case_like(new, word)


def _pronoun_edits(text: str, gender: str) -> list[Edit]:
    edits = []
    for m in _PRONOUNS.finditer(text):
        nxt = re.match(r"\s*([\w'’-]*)", text[m.end():])
        prev = re.search(r"([\w'’-]*)\s*$", text[max(0, m.start() - 30):m.start()])
        new = _pronoun(m.group(), gender, nxt.group(1) if nxt else "",
                       prev.group(1) if prev else "")
        if new != m.group():
            edits.append(Edit(m.start(), m.end(), new))
    for m in _HONORIFIC.finditer(text):
        new = ("Ms" if m.group() == "Mr" else m.group()) if gender == "woman" else "Mr"
        if new != m.group():
            edits.append(Edit(m.start(), m.end(), new))
    return edits


def name_plan(text: str, group: Group, *, seed: int) -> dict[str, str]:
    """Old name token -> new name token for every person detected in ``text``."""
    roles = token_roles(detect_people(text))
    present = {w for _, _, w in _tokens(text)}
    rng = random.Random(seed)
    pools = {"given": [n for n in group.given if n not in present],
             "surname": [n for n in group.surnames if n not in present]}
    for pool in pools.values():
        rng.shuffle(pool)
    plan: dict[str, str] = {}
    used = {"given": 0, "surname": 0}
    for token, role in roles.items():
        pool = pools[role]
        if not pool:  # every name of the group already appears in the packet: leave this one
            continue
        # More people than names in the group: reuse names rather than invent any.
        plan[token] = pool[used[role] % len(pool)]
        used[role] += 1
    return plan


def transform(text: str, label: Label | None, *, seed: int, group: str | None = None,
              names_file: str | None = None) -> Variant:
    """Rename everyone in ``text`` into one name group and make pronouns match its gender.

    Args:
        text: Canonical packet text.
        label: Gold label whose evidence must follow the swap (or ``None``).
        seed: Picks the names within the group (and the group when ``group`` is None).
        group: A key of ``names.yaml``'s groups, e.g. ``east_asian_woman``.
        names_file: Another names file in the same layout (tests).

    Returns:
        The variant; ``details`` holds the name map and the number of pronouns changed.
    """
    groups = load_groups(names_file)
    key = group or sorted(groups)[random.Random(seed).randrange(len(groups))]
    g = groups[key]
    plan = name_plan(text, g, seed=seed)
    edits = [Edit(s, e, plan[w]) for s, e, w in _tokens(text) if w in plan]
    pronouns = _pronoun_edits(text, g.gender)
    new_text, mapping = apply_edits(text, edits + pronouns)
    new_label, evidence = remap_label(label, text, new_text, mapping)
    details: dict[str, Any] = {"names": plan, "pronouns_changed": len(pronouns), "gender": g.gender}
    return Variant(PROBE, f"{PROBE}:{key}", new_text, new_label, evidence, group=key,
                   details=details)


def variants(text: str, label: Label | None, *, seed: int,
             groups: list[str] | None = None) -> list[Variant]:
    """One variant per name group (all of ``names.yaml`` by default)."""
    keys = groups or sorted(load_groups())
    return [transform(text, label, seed=derive_seed(seed, PROBE), group=k) for k in keys]
