"""People's names, found offline: a names list from a wheel, plus capitalisation and position cues.

The names list is Faker's (MIT): first and last names of its 80-odd locales,
Latin and other scripts, read from the installed package at first use and
cached. A list alone is not enough in either direction, so cues decide:

- a run of capitalised words is a name when every word is a listed name or an
  unlisted, non-English word beside one ("Tomasz Wierzbicki-Lund"), or an
  initial and a surname ("R. Vasquez-Thornbury");
- a single listed word that is also an English word ("Will", "Summer", "Grant")
  is a name only in a person's position: followed by a verb of doing ("Summer
  ran"), "and I", a possessive, or ", our analyst"; after "thanks to", "with",
  "paired with", a role and a comma ("our new hire, Mark");
- words in a script other than the packet's own (Cyrillic, Hangul, Arabic,
  Greek, Han, Devanagari in an English packet) are names;
- an unlisted word needs a strong cue ("Oren and one other engineer", "one of
  them, Seo-yeon,"), a romanised Korean given name's shape, or to be the start
  or end of a found name ("Tunde" of "Babatunde");
- a listed word before "office" or "site", or after a postcode, is a place;
- the places packets put names: title lines, ``Name:``-style fields, quote
  attributions, sign-offs, table cells and columns headed "Reviewer", "Name".

Lowercase handles built from a found name ("j.ferreira-moss", "marco.b") are
found too. What this misses is measured on the planted-PII set (SECURITY.md).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import unicodedata
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

_W = r"[A-Z\u00c0-\u00de\u0100-\u024f][\w\u00c0-\u024f\u0300-\u036f'’-]*"
_PARTICLE = (r"(?:de|van|der|den|von|da|das|do|dos|del|della|di|du|la|le|bin|binti|al|el|ter|ten|"
             r"Ní|Nic|Mac|Mc|Ó|Ua)")
_NICK = r"(?:[\"“][\w'’-]+[\"”])"
_INITIAL = r"[A-Z]\."
_RUN = re.compile(
    rf"(?<![\w@./-])(?:{_INITIAL}\s?)*{_W}"
    rf"(?:[ \t]+(?:{_PARTICLE}[ \t]+|{_NICK}[ \t]+|{_INITIAL}[ \t]*)*{_W}){{0,3}}")
_SURNAME_FIRST = re.compile(rf"(?<![\w@./-])({_W}),[ \t]+({_W})(?![\w-])(?![ \t]+[A-Z])")
# Letters of other scripts with their combining vowel signs (Devanagari's are marks, not letters).
_NON_LATIN_WORD = (r"(?:[^\W\d_A-Za-z\u00c0-\u024f]|"
                   r"[\u0900-\u097f\u0980-\u0dff\u0e00-\u0eff\u0300-\u036f\u064b-\u065f])+")
_NON_LATIN_RUN = re.compile(rf"{_NON_LATIN_WORD}(?:[ \t]{_NON_LATIN_WORD}){{0,3}}")
_LOWER_HANDLE = re.compile(r"(?<![\w@./-])[a-z][a-z]*(?:[._][a-z][a-z-]*)+(?![\w@/-])")

_DOING = {"said", "says", "wrote", "writes", "told", "noted", "commented", "designed", "reviewed",
          "ran", "runs", "led", "leads", "built", "builds", "owns", "owned", "took", "takes",
          "found", "finds", "helped", "helps", "asked", "paged", "pushed", "caught", "handled",
          "joined", "suggested", "proposed", "presented", "pointed", "spotted", "flagged",
          "showed", "approved", "signed", "labelled", "labeled", "mentored", "paired", "agreed",
          "disagreed", "raised", "is", "was", "has", "had", "did", "does", "will",
          "would", "could", "can", "now", "then", "also", "first", "still", "from", "on",
          "left", "rewrote", "reran", "fixed", "shipped", "added", "noticed", "explained", "sent",
          "shared", "drafted", "tested", "checked", "answered", "replied", "came", "went", "moved",
          "started", "stepped", "wanted", "needed", "thought", "felt", "knew", "saw", "gave", "got"}
_BEFORE = re.compile(r"(?:thanks to|thank you|thanked|with|by|paired with|mentored|mentoring|"
                     r"mentor|ask|asked|told|cc|and|to|manager|lead|sponsor|hire|colleague|"
                     r"peer|analyst|reviewer|intern|engineer|designer|PM|partner|buddy)[,:]?\s+$",
                     re.IGNORECASE)
_ROLE_AFTER = re.compile(r"^,\s+(?:our|my|the|a|an)\s+(?:new\s+|senior\s+|junior\s+|lead\s+|staff\s+)?"
                         r"(?:\w+\s+)?(?:analyst|manager|lead|engineer|designer|PM|hire|intern|"
                         r"colleague|mentor|mentee|reviewer|sponsor|director|scientist|researcher|"
                         r"architect|partner|peer|teammate|counterpart)\b", re.IGNORECASE)
_NOT_BEFORE = re.compile(r"(?:\bthe|\ba|\ban|\bin|\bat|\bon|\bof|\bfrom|\bvia|\bour|\btheir|\bits)\s+$",
                         re.IGNORECASE)
CALENDAR = {"January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December", "Monday", "Tuesday", "Wednesday",
             "Thursday", "Friday", "Saturday", "Sunday"}
_LANGUAGES = {"english", "french", "german", "spanish", "portuguese", "italian", "dutch", "welsh",
              "irish", "scottish", "british", "american", "canadian", "chinese", "japanese",
              "korean", "hindi", "arabic", "russian", "polish", "greek", "turkish", "swahili",
              "african", "european", "asian", "indian", "mandarin", "cantonese", "tamil", "urdu",
              "bengali", "persian", "hebrew", "swedish", "norwegian", "danish", "finnish", "czech",
              "ukrainian", "romanian", "hungarian", "vietnamese", "thai", "indonesian", "malay",
              "filipino", "tagalog", "yoruba", "igbo", "hausa", "amharic", "somali", "zulu"}
# Words that make a capitalised run an organisation or product, not a person.
_ORG_WORDS = {"mobile", "labs", "lab", "inc", "ltd", "llc", "group", "bank", "health", "systems",
              "technologies", "analytics", "mutual", "insurance", "energy", "media", "cloud",
              "platform", "office", "services", "solutions", "care", "capital", "partners",
              "assist", "assistant", "advisor", "tutor", "pharmacy", "outlet", "comms", "room",
              "operations", "foundation", "university", "college", "hospital", "clinic", "council",
              "freight", "logistics", "airlines", "airways", "motors", "foods", "retail", "consulting",
              "studio", "studios", "games", "robotics", "networks", "software", "pharma",
              "therapeutics", "telecom", "bancorp", "holdings", "ventures", "industries", "press"}
_NOT_NAMES = {"She", "He", "They", "It", "Everyone", "Nobody", "Someone", "Senior", "Staff",
              "Junior", "Mid", "AI", "The", "This", "That", "We", "Our", "My", "I", "Summary",
              "Impact", "Team", "Engineer", "Manager", "Principal", "Lead", "Self", "Promotion",
              "Packet", "Review", "Nomination", "Case", "Growth", "Areas", "Level", "Software",
              "Machine", "Learning", "Platform", "Data", "Product", "Candidate", "Sponsor",
              "Role", "Name", "Reviewer", "Peer", "Author", "Thanks", "Regards", "Best", "Cheers",
              "Incident", "Contact", "Mentoring", "Governance", "Why", "What", "How", "When",
              "Where", "Who", "If", "In", "On", "At", "For", "And", "But", "Or", "Not", "No",
              "Yes", "Before", "After", "During", "Until", "Since", "With", "From", "By", "To",
              "Q1", "Q2", "Q3", "Q4", "HR", "CI", "VP", "CTO", "CEO", "PM", "SRE", "ML", "LLM",
              *CALENDAR}


@lru_cache(maxsize=1)
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """First names and last names from every Faker locale's person provider (read once)."""
    import faker.providers.person as person

    first: set[str] = set()
    last: set[str] = set()
    for mod in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{mod.name}").Provider
        for attr, into in (("first_names", first), ("first_names_male", first),
                           ("first_names_female", first), ("first_names_nonbinary", first),
                           ("last_names", last)):
            value = provider.__dict__.get(attr)
            if isinstance(value, (tuple, list, set, frozenset, dict)):
                into.update(str(v) for v in value)
    return frozenset(first), frozenset(last)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Common English words: a listed name that is one ("Will", "Grant") needs a cue.

    Faker's en_US lorem list, the lowercase whole words of the LLaMA tokenizer that
    wordllama ships (read as a file, without importing wordllama), and country names.
    """
    from faker.providers.address.en_US import Provider as Address
    from faker.providers.lorem.en_US import Provider as Lorem

    words = {w.lower() for w in Lorem.word_list} | {c.lower() for c in Address.countries}
    spec = find_spec("wordllama")
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "tokenizers" / "l2_supercat_tokenizer_config.json"
        if path.exists():
            vocab = json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
            words |= {w[1:] for w in vocab if w.startswith("▁") and w[1:].isalpha()
                      and w[1:].islower() and len(w) > 3}
    return frozenset(words | _LANGUAGES | _ORG_WORDS)


def _listed(word: str) -> bool:
    first, last = name_lists()
    return word in first or word in last


def is_listed_name(word: str) -> bool:
    """Whether ``word`` (or a piece of a hyphenated one) is in the names list."""
    return _listed(word) or any(_listed(p) for p in word.split("-"))


def is_particle(word: str) -> bool:
    """"van", "der", "bin": part of a name, never masked on its own."""
    return re.fullmatch(_PARTICLE, word) is not None


def _english(word: str, text_lower_words: frozenset[str]) -> bool:
    w = word.lower()
    return w in english_words() or w in text_lower_words


def _english_form(word: str, lower: frozenset[str]) -> bool:
    """An English word or an inflection of one ("Mentored", "Shadowing", "Builds")."""
    w = word.lower()
    stems = [w] + [w[: -len(x)] for x in ("ed", "d", "ing", "es", "s", "ly")
                   if w.endswith(x) and len(w) - len(x) >= 3]
    # An unlisted capitalised -ed/-ing/-ly word ("Mentored", "Shadowing") is a verb or adverb.
    return any(_english(x, lower) for x in stems) or w.endswith(("ed", "ing", "ly"))


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t*_>\"“'‘(-—–|#")
    return not before or before[-1] in ".!?:\n"


# Romanised Korean syllables: "Seo-yeon", "Hyun-woo" are given names, "Co-led" and "Re-ran" are not.
_KOREAN = {"ji", "woo", "min", "jun", "joon", "seo", "yeon", "hye", "jin", "soo", "su", "hyun", "eun",
           "ha", "na", "da", "ye", "yu", "jae", "sung", "young", "kyung", "hee", "hwa", "mi", "won",
           "ho", "seok", "hoon", "bin", "bo", "ra", "ah", "yoon", "chan", "gyu", "hyuk", "sang", "tae",
           "dong", "kyu", "sook", "ja", "seung", "ju", "si", "ri", "hae", "yeong", "jung", "kyo", "il"}
_PLACE_AFTER = re.compile(r"\s+(?:office|offices|site|campus|HQ|headquarters|branch|hub|region|"
                          r"airport|data cent(?:er|re)|datacent(?:er|re)|warehouse|store)\b", re.IGNORECASE)
# Given names that are also months ("May Chen", "June Park"): a name when a surname follows.
_MONTH_NAMES = {"April", "May", "June", "August"}


def is_korean_given_name(word: str) -> bool:
    parts = word.lower().split("-")
    return word[:1].isupper() and len(parts) == 2 and all(p in _KOREAN for p in parts)


def _strong_cue(text: str, start: int, word: str) -> bool:
    """A person's position, strong enough for an unlisted word: "Oren and I", "my mentee, Oren"."""
    after = text[start + len(word):][:60]
    before = text[max(0, start - 40):start]
    return bool(re.match(r"\s+and\s+(?:I|me|one other|another|the other)\b|,\s+who\b", after)
                or _ROLE_AFTER.match(after)
                or re.search(r"(?:\bmentee|\bmentored|\bmy (?:mentee|report|manager|lead|peer|colleague|"
                             r"partner|intern)|\bone of them),?\s+$", before, re.IGNORECASE))


def _run_is_name(text: str, start: int, words: list[str], lower: frozenset[str]) -> bool:
    if len(words) >= 2 and words[0] in _MONTH_NAMES and _listed(words[1]) and not _english(words[1], lower):
        return True
    core = [w for w in words if not re.fullmatch(r"[A-Z]\.|[\"“].*|" + _PARTICLE, w)]
    # "Glowfin Media", "Northgate Health": an organisation's word makes the run no person.
    if not core or any(w in _NOT_NAMES or w.lower() in _ORG_WORDS for w in core):
        return False
    if len(core) >= 2 or (len(core) == 1 and len(words) > 1 and re.match(_INITIAL, words[0])):
        listed = [w for w in core if _listed(w) or any(_listed(p) for p in w.split("-"))]
        unlisted = [w for w in core if w not in listed]
        if any(_english(w, lower) for w in unlisted):
            return False
        # Two unlisted words ("Jun Watanabe") need a person's position: "to", "with", "by" before.
        before = text[max(0, start - 40):start]
        return bool(listed or re.match(_INITIAL, words[0])) or (
            all(re.fullmatch(r"[A-Z\u00c0-\u00de][a-z\u00df-\u024f'’]+(?:-[A-Z][a-z\u00df-\u024f'’]+)?", w)
                and not _english_form(w, lower) for w in core)
            and bool(_BEFORE.search(before)) and not _NOT_BEFORE.search(before))
    word = core[0]
    after = text[start + len(" ".join(words)):][:60]
    before = text[max(0, start - 40):start]
    # "the Sydney office", "Berlin site", and a city after its postcode ("10115 Berlin").
    if _PLACE_AFTER.match(after) or re.search(r"\d[ \t]*$", before):
        return False
    if is_korean_given_name(word):
        return True
    next_word = re.match(r"\s*([\w']+)", after)
    doing = bool(next_word and next_word.group(1).lower() in _DOING
                 and not _sentence_start(text, start + len(word) + 1))
    cue_after = doing or bool(re.match(r"['’]s\b|\s+and\s+(?:I|me)\b", after)
                              or _ROLE_AFTER.match(after)) or _beside_a_name(after, before, lower)
    cue_before = bool(_BEFORE.search(before)) and not _NOT_BEFORE.search(before)
    if _NOT_BEFORE.search(before) and not cue_after:
        return False
    # "pharmacists in Bergen started": after a place's preposition a verb is no person's cue.
    if re.search(r"\b(?:in|at|near|around|across|outside)\s+$", before) and not re.match(r"['’]s\b", after):
        return False
    if (word[1:2].islower() and not _english_form(word, lower)
            and not _NOT_BEFORE.search(before) and _strong_cue(text, start, word)):
        return True
    if not (_listed(word) or any(_listed(p) for p in word.split("-"))):
        return False
    if not _english(word, lower):
        return not _sentence_start(text, start) or cue_after
    return cue_before or cue_after


_NAME_COLUMN = re.compile(r"(?i)\b(?:name|reviewer|author|engineer|person|owner|mentor|mentee|"
                          r"approver|signed|sponsor|manager|candidate|who|peer|member|contact|"
                          r"nominee|nominator|calibrator|lead|colleague|teammate)s?\b")
_CELL_NAME = re.compile(r"[^\W\d_][\w.'’-]*(?:[ \t]+[^\W\d_][\w.'’-]*){0,3}")


def _cell_is_name(cell: str, lower: frozenset[str]) -> bool:
    # The whole cell, bar a "(role)" or ", role" after it, and every word capitalised or of a
    # script without case; prose in an "Owner" column ("Callum now owns repairs") is not a name.
    words = cell.split()
    if not words or any(w in _NOT_NAMES or w.lower() in _ORG_WORDS for w in words):
        return False
    if not all(w[:1].isupper() or (w[:1].isalpha() and not w[:1].islower() and not w[:1].isupper())
               for w in words):
        return False
    return not all(_english_form(w, lower) for w in words if w.isascii())


def table_names(text: str) -> list[str]:
    """Names in the cells of a markdown table column headed "Reviewer", "Name", "Owner" and the like."""
    found: list[str] = []
    lower = frozenset(re.findall(r"(?<![\w.@/-])[a-z][a-z'’]+(?![\w@/-]|\.\w)", text))
    lines = text.splitlines()
    for i in range(len(lines) - 1):
        if not (lines[i].lstrip().startswith("|") and re.fullmatch(r"\s*\|?[\s:|-]*-[\s:|-]*", lines[i + 1])):
            continue
        header = [c.strip(" *_") for c in lines[i].strip().strip("|").split("|")]
        columns = [k for k, h in enumerate(header) if _NAME_COLUMN.search(h)]
        for row in lines[i + 2:]:
            if not row.lstrip().startswith("|"):
                break
            cells = [c.strip(" *_") for c in row.strip().strip("|").split("|")]
            for k in columns:
                cell = re.split(r"\s*[(,—–]", cells[k])[0].strip() if k < len(cells) else ""
                if _CELL_NAME.fullmatch(cell) and _cell_is_name(cell, lower):
                    found.append(cell)
    return found


def _beside_a_name(after: str, before: str, lower: frozenset[str]) -> bool:
    """"Ivy and Rowan", "Rowan and Ivy": joined by "and" to a listed name that is no English word."""
    m = re.match(r"\s+(?:and|&|or)\s+([A-Z][\w'’-]+)", after) or re.search(
        r"([A-Z][\w'’-]+)\s+(?:and|&|or)\s+$", before)
    return bool(m and _listed(m.group(1)) and not _english(m.group(1), lower))


def _script_of(text: str) -> str:
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            script = unicodedata.name(ch, "X").split()[0]
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else "LATIN"


def find_names(text: str) -> list[str]:
    """Names of people in ``text``, each as written (full names and lone given names)."""
    # Words the packet itself writes in lower case (not inside emails, URLs or handles).
    lower = frozenset(re.findall(r"(?<![\w.@/-])[a-z][a-z'’]+(?![\w@/-]|\.\w)", text))
    found: list[str] = []
    for m in _RUN.finditer(text):
        words = m.group().split()
        # A sentence's first word is capitalised anyway: drop it when it is not a name.
        # An unlisted word that is not English either ("Aroha" of "Aroha Lin Whitcombe") stays.
        if len(words) > 1 and _sentence_start(text, m.start()) and (
                words[0] in _NOT_NAMES or (not is_listed_name(words[0]) and _english_form(words[0], lower))):
            start = m.start() + len(words[0]) + 1
            words = words[1:]
        else:
            start = m.start()
        while words and words[-1] in _NOT_NAMES:
            words = words[:-1]
        words = [re.sub(r"['’]s$", "", w) for w in words]
        # "German-speaking" is an adjective: every piece of a hyphenated name is capitalised.
        if any(not p[:1].isupper() for w in words if "-" in w and not is_korean_given_name(w)
               for p in w.split("-")):
            continue
        if words and _run_is_name(text, start, words, lower):
            found.append(" ".join(words))
    for m in _SURNAME_FIRST.finditer(text):  # HR exports: "Okafor, Chidinma"
        a, b = m.group(1), m.group(2)
        if (_listed(a) or _listed(b)) and not any(_english(w, lower) or w in _NOT_NAMES for w in (a, b)):
            found.append(f"{a}, {b}")
    if _script_of(text) == "LATIN":
        found += [m.group() for m in _NON_LATIN_RUN.finditer(text) if len(m.group()) >= 2]
    return found


def short_forms(text: str, parts: set[str]) -> list[str]:
    """Capitalised words that are the start or end of a longer found name ("Tunde" of "Babatunde")."""
    long_parts = [p.lower() for p in parts if len(p) >= 6 and p.isalpha()]
    lower = frozenset(re.findall(r"(?<![\w.@/-])[a-z][a-z'’]+(?![\w@/-]|\.\w)", text))
    out = []
    for w in set(re.findall(r"(?<![\w@./-])[A-Z][a-z]{3,}(?![\w-])", text)):
        lw = w.lower()
        if w in _NOT_NAMES or _english_form(w, lower):
            continue
        if any(p != lw and (p.startswith(lw) or p.endswith(lw)) for p in long_parts):
            out.append(w)
    return out


def handles_for(text: str, names: list[str]) -> list[str]:
    """Lowercase handles built from a name: "j.ferreira-moss", "marco.b", "lakshmi_v"."""
    parts = {p.lower() for n in names for p in re.split(r"[\s,]+", n) if len(p) >= 3}
    first, last = name_lists()
    out = []
    for m in _LOWER_HANDLE.finditer(text):
        pieces = [p for p in re.split(r"[._-]", m.group()) if p]
        if any(p in parts or p.capitalize() in first or p.capitalize() in last
               for p in pieces if len(p) >= 3) and not any(
                p in english_words() for p in pieces if len(p) >= 3):
            out.append(m.group())
    return out
