"""Personal data with a shape: contact details, ids, addresses, profile URLs, handles.

Each recognizer is a regular expression with a kind (the placeholder's name).
They cover what Microsoft Presidio's pattern recognizers cover for these
packets (emails, phones, URLs, national ids, IPs) plus what promotion packets
hold that Presidio has no recognizer for: obfuscated emails ("jo [at] x [dot]
io"), badge and HR numbers, street addresses with UK postcodes or US ZIP codes,
licence plates, IBAN-like accounts, MAC addresses, chat handles and leave
disclosures. Where a format is anyone's guess (a badge code, a plate, a tax id),
the keyword or field name in front of it decides ("Badge | QX 5512-3",
"staff_number: STF/99/QZ") and only the value is masked. Presidio itself is
not used: its analyzer needs spaCy and a model download at run time, and
nothing here may download a model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_AT = r"\s*(?:\[\s*at\s*\]|\(\s*at\s*\)|\{\s*at\s*\}|\s+at\s+)\s*"
_DOT = r"\s*(?:\[\s*dot\s*\]|\(\s*dot\s*\)|\{\s*dot\s*\}|\s+dot\s+)\s*"
_STREET = (r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Way|Close|Court|Ct|Crescent|"
           r"Place|Pl|Boulevard|Blvd|Terrace|Gardens|Square|Sq|Row|Mews|Hill|Park|Parkway|"
           r"Straße|Strasse|straße|strasse|weg|laan|straat|gracht|Rue|Via|Calle|Avenida)")
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"
_US_STATE_ZIP = r"[A-Z]{2}\s+\d{5}(?:-\d{4})?"
_CA_POSTCODE = r"(?:[A-Z]{2}\s+)?[A-Z]\d[A-Z]\s?\d[A-Z]\d"
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th)?(?!\d)"
# One piece of an address: words that start with a digit or a capital ("12th Main", "Unit 4").
_ADDR_PART = (r"(?:No\.\s*)?[\dA-Z\u00c0-\u00de#][\w.'’/#-]*"
              r"(?:[ ]+(?:(?:de|des|du|la|le|di|da|del|dos|van|von|der|den)[ ]+)?"
              r"[\dA-Z\u00c0-\u00de][\w.'’/-]*){0,4}")
# Words that name what follows as someone's id, badge or account: the value is masked whatever its format.
_ID_WORD = r"(?:id|ID|number|no\.?|nr\.?|#|code)"
# Strong keywords name an id alone ("Badge: QX 5512-3"); weak ones need an id word ("member ID").
_ID_KEYWORD = (rf"(?:(?i:employee|staff|personnel|badge|payroll|HR)\b(?:[ \t]*{_ID_WORD}\b\.?)?|"
               rf"(?i:member|worker|contractor|access[ -]card|card|locker|desk|clocking|user)"
               rf"[ \t]*{_ID_WORD}\b\.?)")
# A chat or code-hosting place: a handle-like word beside one is a handle.
_PLATFORM = (r"(?:Discord|Slack|GitHub|GitLab|Bitbucket|Teams|Mastodon|Bluesky|Twitter|X|Telegram|"
             r"Signal|WhatsApp|Matrix|IRC|Keybase|Kaggle|Hugging ?Face|Reddit|LinkedIn|Instagram|"
             r"Threads|Codeberg|Stack Overflow|Zulip|Mattermost)")
_HANDLE_WORD = (r"[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*(?:_[a-z0-9]*|\d+)[a-z0-9]*"
                r"|[a-z][a-z0-9]*(?:[._][a-z0-9]+)+")

# (kind, pattern), tried in this order; a later match inside an earlier one is skipped.
RECOGNIZERS: list[tuple[str, re.Pattern[str]]] = [
    # A fediverse address (@user@host) is one handle, not an "@" and an email.
    ("HANDLE", re.compile(r"(?<![\w.@/])@[\w.-]+@[\w-]+(?:\.[\w-]+)+")),
    ("HANDLE", re.compile(r"(?<![\w./])u/[\w-]{3,}")),  # Reddit
    ("HANDLE", re.compile(r"\b(?:gh|gl|gitlab|github|tw|x|li|hf|bsky|keybase|discord):[\w][\w.-]*\w")),
    # A user name inside a home directory: /home/NAME/, /Users/NAME/, C:\\Users\\NAME\\.
    ("HANDLE", re.compile(r"(?:/home/|/Users/|[A-Z]:\\Users\\)[\w][\w.-]*(?=[/\\\s]|$)")),
    # Each starts only where a token starts, so a long dotted run is scanned once, not per dot.
    ("EMAIL", re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("EMAIL", re.compile(rf"(?<![\w.+-])[\w+-]+(?:(?:\.|{_DOT})[\w+-]+)*{_AT}[\w-]+(?:{_DOT}[\w-]+)+\b",
                         re.IGNORECASE)),
    ("URL", re.compile(r"\bhttps?://[^\s)>\]\"'`]+|\bwww\.[^\s)>\]\"'`]+|\bgo/[\w./#-]+")),
    # Profile links written without a scheme: github.com/x, linkedin.com/in/x, huggingface.co/x.
    # A personal site named as one, bare: "my site is kofi-builds.dev", "blog: ren.example".
    ("URL", re.compile(r"(?i:\b(?:my|personal)[ \t]+(?:web[ ]?)?"
                       r"(?:site|blog|homepage|home page|portfolio|page)"
                       r"[ \t]*(?:is[ \t]+|at[ \t]+|:[ \t]*)?)([\w-]+(?:\.[\w-]+)+)")),
    ("URL", re.compile(r"(?<![\w.-])(?:[\w-]+\.)+(?:com|io|dev|org|net|me|co|ai|app|page|site|uk|de|fr|"
                       r"nl|ie|in|social)/[^\s)>\]\"'`,]+")),
    ("HANDLE", re.compile(r"(?<![\w.@/])@[A-Za-z0-9][\w.-]*[A-Za-z0-9_](?:@[\w-]+(?:\.[\w-]+)+)?")),
    # An address named as one: "my address is ...", "Address: ...", "| Home | ...", "lives at ...".
    ("ADDRESS", re.compile(
        rf"(?i:(?<![^\W_])(?:(?:home|postal|mailing|new|current|residential|street)[\s_]+)?address\b[^.\n:|]{{0,40}}?"
        rf"(?:\bas\b|\bis\b|:|\|)|\b(?:home|residence|lives?|living|reside[sd]?)\s*(?::|\||\bat\b))"
        rf"[ \t|*_\"'“]*({_ADDR_PART}(?:,[ \t]*{_ADDR_PART}){{0,6}})")),
    # Japanese postal mark: the rest of the line is the address.
    ("ADDRESS", re.compile(r"〒[ \t]?\d{3}-?\d{4}[^\n|]*")),
    # A house number, named parts, then a postcode: Indian ("Flat 7, 12th Main, ..., Bengaluru
    # 560034", a six-digit PIN) and Japanese ("4-2-8 Shibakoen, Minato-ku, Tokyo 105-0011") styles.
    ("ADDRESS", re.compile(
        rf"(?:\b(?:No\.|#|Flat|House|Plot|Door)\s*|\b)\d+(?:[-/]\d+)*[A-Za-z]?(?:[ ]{_ADDR_PART})?"
        rf"(?:,[ \t]*{_ADDR_PART}){{1,6}}[ \t]*[-–]?[ \t]*(?:\d{{3}}[ ]?\d{{3}}|\d{{3}}-\d{{4}})\b")),
    # European style: street then number, postcode then city ("Lindenstraße 12, 04109 Leipzig").
    ("ADDRESS", re.compile(
        r"\b[A-Z\u00c0-\u00de][\w'’.-]+(?:[ ][A-Z\u00c0-\u00de][\w'’.-]+){0,3}[ ]\d{1,4}[a-zA-Z]?,"
        r"[ \t]*(?:[A-Z]{1,2}-)?(?:\d{4}[ ]?[A-Z]{2}|\d{4,5})[ ]+[A-Z\u00c0-\u00de][\w-]+")),
    # Number, street and its type, then unit, city, state or province and postcode when given:
    # "9 Pell Mews, Unit 4, Hartwell, VT 05041", "77 King St E, Suite 300, Hamilton, ON L8N 1A1".
    ("ADDRESS", re.compile(
        rf"\b\d{{1,5}}(?:/\d{{1,5}})?[A-Za-z]?,?\s+(?:[A-Z][\w'’-]+\s+){{1,3}}{_STREET}\b\.?"
        r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\b)?"
        r"(?:,?\s*(?:Apt|Apartment|Unit|Suite|Ste|Flat|Floor|Fl|#)\.?\s*[\w-]+)?"
        r"(?:,?\s+(?:[A-Z][a-z][\w'’-]*\s?){1,3})?"
        rf"(?:,?\s*(?:{_UK_POSTCODE}|{_US_STATE_ZIP}|{_CA_POSTCODE}|[A-Z]{{2,3}}\s+\d{{4}}|\d{{4,5}}))?")),
    # US city, state and ZIP alone: "Hartwell, VT 05041".
    ("ADDRESS", re.compile(rf"\b[A-Z][a-z]+(?:[ ][A-Z][a-z]+)?,[ ]+{_US_STATE_ZIP}\b")),
    ("ADDRESS", re.compile(rf"\b(?:{_UK_POSTCODE})\b")),
    ("ADDRESS", re.compile(rf"\b{_CA_POSTCODE}\b")),
    # An id named by its keyword: whatever its format, the value after the keyword is masked.
    ("NATIONAL_ID", re.compile(
        r"(?i:\b(?:passport|tax|steuer|BSN|SIN|PAN|SSN|social security|national insurance|NI|"
        r"PPS|PPSN|personnummer|national|licen[cs]e|driver'?s licen[cs]e|IBAN|account|sort code|"
        r"NIE|DNI|NIF|CPF|CURP|RUT|Aadhaar|NHS|TFN|Medicare|NRIC|HKID|MyKad|AHV|codice fiscale|"
        r"ORCID|resident permit|residence permit|visa|ID card|identity card|citizen(?:ship)?|"
        r"NIN|PESEL|Teudat Zehut|TZ|CNP|JMBG|EGN|OIB|NINO|SVNR|personal code|personal id)\b"
        r"(?:[ \t-]?(?:id|no\.?|number|nr\.?|code|#))?[ \t]*[:#]?[ \t]*(?:is[ \t]+)?)"
        r"((?=[A-Z0-9 .-]*\d)[A-Z0-9][A-Z0-9.-]*(?:[ ][A-Z0-9][A-Z0-9.-]*){0,6}\b)")),
    ("NATIONAL_ID", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),  # US SSN
    ("NATIONAL_ID", re.compile(r"\b[A-Z]{1,2}\d{6,9}\b")),  # passport-style letters and digits
    ("NATIONAL_ID", re.compile(r"\b[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b")),  # UK NI
    # Canadian SIN, Dutch BSN; not three groups inside a longer phone number.
    ("NATIONAL_ID", re.compile(r"(?<![+\d])(?<!\d[ -])\b\d{3}[ -]\d{3}[ -]\d{3}\b(?![ -]?\d)")),
    ("NATIONAL_ID", re.compile(r"\b[A-Z]{5}\d{4}[A-Z]\b")),  # Indian PAN
    ("NATIONAL_ID", re.compile(r"\b[XYZ]\d{7}[A-Z]\b|\b\d{8}[A-Z]\b")),  # Spanish NIE, DNI
    ("NATIONAL_ID", re.compile(r"\b\d{4}-\d{4}-\d{4}-\d{3}[\dX]\b")),  # ORCID
    # A device named by its serial: "laptop serial C02XG2JHJG5J", "IMEI 35-209900-176148-1".
    ("DEVICE", re.compile(r"(?i:\b(?:serial(?:[ \t]+(?:number|no\.?))?|S/N|IMEI|asset tag)[ \t]*[:#]?[ \t]*"
                          r"(?:is[ \t]+)?)((?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{5,})\b")),
    ("ACCOUNT", re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b")),  # IBAN
    ("MAC", re.compile(r"\b[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}\b")),
    ("IP", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
    # A plate named as one, any country's format: "my car is KA 05 MN 4821", "registration: ...".
    ("PLATE", re.compile(
        r"(?i:\b(?:registration|reg\.?|licen[cs]e plate|number plate|plate|car is|car's|vehicle)"
        r"(?:[ \t]+(?:no\.?|number|is))?(?:[ \t]*\([^)\n]{0,40}\))?[ \t]*(?::|is)?[ \t]*)"
        r"((?=[A-Z0-9 -]*\d)[A-Z0-9]{1,4}(?:[ -][A-Z0-9]{1,5}){1,4})\b")),
    ("PLATE", re.compile(r"\b[A-Z]{2}\d{2}\s[A-Z]{3}\b|\b\d{2,3}-[A-Z]{1,2}-\d{1,6}\b")),
    ("EMPLOYEE_ID", re.compile(r"\b(?:EMP|EID|emp|eid)[-_#: ]?\d{3,}\b")),
    # After its keyword, only the value is masked: one code with a digit, or a short letter
    # prefix and one ("Badge | QX 5512-3", "staff number is 0042-7781").
    ("EMPLOYEE_ID", re.compile(
        rf"\b{_ID_KEYWORD}[ \t*_]*[:#|]?[ \t*_|]*(?:(?:is|was|reads)[ \t]+)?"
        r"((?:[A-Z]{1,4}[ ](?=\d))?(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{2,}\b)")),
    # A field whose key names an id ("hr_id:", "staff_number:", "Personalnummer:", "社員番号"):
    # its value, when it holds a digit, is masked whatever its shape ("STF/99/QZ").
    ("EMPLOYEE_ID", re.compile(
        r"(?i:(?<![^\W_])[\w]*(?:_id|_no|_num|_number|[ _-]?(?:nummer|number|numero|número)|番号)\b)"
        r"[*_\"' \t]*[:|=][*_\"' \t|]*((?=[\w/.-]*\d)[\w][\w/.-]*\w)")),
    # Letters then digit groups: B-77102, HR-2290-5517 (four digits or more, so GPT-4 stays).
    ("EMPLOYEE_ID", re.compile(r"\b[A-Z]{1,4}-(?=(?:\d-?){4,})\d+(?:-\d+)*\b")),
    ("DATE", re.compile(r"(?:19|20)\d{2}[年/.-]\s?\d{1,2}[月/.-]\s?\d{1,2}日?|(?:19|20)\d{2}年\d{1,2}月")),
    # A birth date in any form after its cue: "born in March 1991", "DOB: 1991", "birthday is 4 May".
    ("DATE", re.compile(
        rf"(?i:\b(?:born|date of birth|birth ?date|DOB|D\.O\.B\.|birthday)\b)"
        rf"[ \t]*(?:is|was|on|in|:|-)?[ \t]*(?:is|on|in)?[ \t]*"
        rf"((?:{_ORDINAL}[ \t]+(?:of[ \t]+)?)?{_MONTH}(?:[ \t]+{_ORDINAL})?,?(?:[ \t]+(?:19|20)\d{{2}})?"
        rf"|(?:19|20)\d{{2}}(?:-\d{{2}}-\d{{2}})?|\d{{1,2}}[/.-]\d{{1,2}}(?:[/.-]\d{{2,4}})?)")),
    ("DATE", re.compile(rf"\b{_ORDINAL}[-/]{_MONTH}[-/](?:19|20)?\d{{2}}\b")),
    # A whole date with a month name: dates of birth are written this way ("born 3 March 1991").
    ("DATE", re.compile(rf"\b{_ORDINAL}[ \t]+(?:of[ \t]+)?{_MONTH},?[ \t]+(?:19|20)\d{{2}}\b|"
                        rf"\b{_MONTH}[ \t]+{_ORDINAL},?[ \t]+(?:19|20)\d{{2}}\b")),
    ("DATE", re.compile(r"\b\d{1,2}[/.]\d{1,2}[/.](?:19|20)\d{2}\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b")),
    ("PHONE", re.compile(r"\b555[-. ]\d{4}\b")),  # North America's fictional short form
    # Dots only: "303.555.0148" (three or more groups; a dotted quad is an IP, above).
    ("PHONE", re.compile(r"(?<![\w.])\+?\d{2,4}(?:\.\d{2,4}){2,4}(?![\w]|\.\d)")),
    ("PHONE", re.compile(r"(?<![\w.])\+?\d[\d ().-]{7,}\d"
                         r"(?:,?\s*(?:ext\.?|extension|x)\s*\d{1,6})?(?!\w|\.\d)")),
    # A handle-like word beside a platform: "zed_mirren on the team Discord", "Slack: ml_rin".
    ("HANDLE", re.compile(
        rf"(?<![\w.@/`-])({_HANDLE_WORD})(?![\w@/`-])(?=[ \t]+(?:on|in|via|at)[ \t]+(?:the[ \t]+)?"
        rf"(?:\w+[ \t]+)?{_PLATFORM}\b|[ \t]*\([ \t]*{_PLATFORM}\b)")),
    # Named as a handle, with or without the place: "my handle is sk8r_99", "username: tamsin".
    ("HANDLE", re.compile(
        r"(?i:\b(?:my|her|his|their|the)[ \t]+(?:[\w-]+[ \t]+)?"
        r"(?:handle|username|user ?name|alias|nick(?:name)?)"
        r"[ \t]*(?:is[ \t]+|:[ \t]*))[`'\"“]?([\w][\w.-]*\w)")),
    # Named as a handle: "my GitHub username is plumtree", "Discord handle: Rin".
    ("HANDLE", re.compile(
        rf"\b{_PLATFORM}[ \t]+(?i:handle|username|user ?name|alias|nick(?:name)?|login|account)"
        rf"[ \t]*(?:is[ \t]+|:[ \t]*)?[`'\"“]?([\w][\w.-]*\w)")),
    ("HANDLE", re.compile(
        rf"\b{_PLATFORM}(?:[ \t]+(?:handle|username|user|name|id|alias|account|nick))?"
        rf"[ \t]*(?:is[ \t]+|:[ \t]*|[ \t]+)({_HANDLE_WORD})(?![\w@/`-])")),
    # A bare run of 10 to 15 digits is an id or a phone, never a figure (those have commas).
    ("NUMBER", re.compile(r"(?<![\w.,/-])\d{10,15}(?![\w.,/-]|\.\d)")),
    ("LEAVE", re.compile(
        r"\b(?:parental|maternity|paternity|medical|sick|bereavement|disability|stress)\s+leave"
        r"(?:\s+(?:from|until|since|starting|in)\s+(?:\d{1,2}\s+[A-Z][a-z]+|[A-Z][a-z]+\s+\d{1,2}|"
        r"[A-Z][a-z]+))?"
        # ... and the reason given for it: "after spinal surgery", "for chronic migraines".
        r"(?:\s+(?:after|for|following|because of|due to|to recover from|with)\s+[^.;,\n]{1,60})?",
        re.IGNORECASE)),
    # Conditions and treatments named outright are health data wherever they sit.
    ("HEALTH", re.compile(
        r"\b(?:IVF|fertility treatment|pregnan(?:cy|t)|miscarriage|chemo(?:therapy)?|cancer|ADHD|autism|"
        r"autistic|dyslexi[ac]|depression|anxiety disorder|long covid|diabetes|epilepsy|bipolar|"
        r"PTSD|panic attacks?|menopause|HIV|multiple sclerosis)\b", re.IGNORECASE)),
    ("HEALTH", re.compile(
        r"\b(?:diagnosed with|treatment for|recovering from|signed off sick|off sick|"
        r"surgery|chemotherapy|therapy for|my (?:condition|diagnosis|illness|disability))"
        r"\b[^.;\n]{0,40}", re.IGNORECASE)),
]


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


def _plausible(kind: str, s: str) -> bool:
    if kind == "PHONE":
        core = re.sub(r",?\s*(?:ext\.?|extension|x)\s*\d+$", "", s)
        # A dotted run is a phone only in phone-like groups (3.3.4, 2.2.2.2.2), not a version.
        dotted = "." in core and re.fullmatch(r"[\d.]+", core)
        return 9 <= _digits(core) <= 15 and (not dotted or re.fullmatch(
            r"\d{3}\.\d{3}\.\d{4}|\d{2,4}(?:\.\d{2,4}){2,4}", core) is not None)
    if kind == "ADDRESS" and s.startswith("〒"):
        return True
    if kind == "ADDRESS":  # "went live at 88%" is no address: it needs a number and a capital
        return bool(re.search(r"\d", s) and re.search(r"[A-Z\u00c0-\u00de]", s) and len(s.split()) >= 2)
    if kind == "IP":
        return all(int(p) <= 255 for p in s.split("."))
    if kind == "ACCOUNT":
        return _digits(s) >= 10
    return True


def find_patterns(text: str) -> Iterator[tuple[str, int, int]]:
    """``(kind, start, end)`` of every shaped personal detail, first recognizer wins on overlap."""
    taken: list[tuple[int, int]] = []
    for kind, pattern in RECOGNIZERS:
        for m in pattern.finditer(text):
            start, end = m.span(1) if pattern.groups else m.span()
            s = text[start:end].rstrip(".,;:")
            end = start + len(s)
            if not s or not _plausible(kind, s):
                continue
            if any(a < end and start < b for a, b in taken):
                continue
            taken.append((start, end))
            yield kind, start, end
