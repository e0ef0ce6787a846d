"""Recogniser classes added after the planted-PII test split was scored once.

Each case is written here, not copied from the data set: the class is tested
(a month-name date, a dotted phone, a fediverse address, a handle beside a
platform, an id after its keyword, address formats), and so is what must stay
(versions, percentages, a product after "live at", verbs that open a sentence).
"""

from __future__ import annotations

import pytest

from tests.redaction_checks import assert_masks


@pytest.mark.parametrize(("text", "masked", "kept"), [
    # Dates of birth: month names, ordinals, and any form after a birth cue.
    ("The form wants my birth date, 14th of February 1988, by Friday.",
     ["14th of February 1988"], ["Friday"]),
    ("I share a birthday with the launch: August 9, 1990.", ["August 9, 1990"], ["launch"]),
    ("I was born in May 1987 and HR has it.", ["May 1987"], ["HR has it"]),
    ("DOB: 1979 (for the insurer).", ["1979"], ["insurer"]),
    # Phones written with dots only, and an extension after a comma.
    ("Call 303.555.0148 after six.", ["303.555.0148"], ["after six"]),
    ("Desk line +49 30 5550 1234, ext 77 on weekdays.", ["5550 1234", "77"], ["weekdays"]),
    ("We shipped v2.13.4 and uptime stayed 99.95% (10.0.0.1 is the gateway).", [], ["v2.13.4", "99.95%"]),
    # Handles: a fediverse address, and handle-like words beside a platform.
    ("Find me at @qrl_otto@fosstodon.example on weekends.", ["qrl_otto", "fosstodon"], ["weekends"]),
    ("Thanks to zed_mirren on the team Discord and to bo.kwan (GitLab).",
     ["zed_mirren", "bo.kwan"], ["Thanks to"]),
    ("My GitHub username is plumtree and my Slack handle: Vasko.", ["plumtree", "Vasko"], ["GitHub"]),
    ("I pushed eval_runner to the repo and wrote the `data_loader` docs.", [],
     ["eval_runner", "data_loader"]),
    # Ids named by a keyword, in prose and in table cells; a keyword without an id stays.
    ("My staff number is 0042-7781 for payroll.", ["0042-7781"], ["payroll"]),
    ("| Badge | QX 5512-3 |", ["5512-3"], ["Badge"]),
    ("Submit it via the HR portal by 31 October; card: 23 bugs fixed.", [], ["HR portal", "card: 23"]),
    # Addresses: named as one, European, Indian and US formats.
    ("HR has my new address as 9 Pell Mews, Unit 4, Hartwell, VT 05041, and my phone.",
     ["Pell Mews", "Hartwell", "05041"], ["and my phone"]),
    ("- Address: Lindenstraße 12, 04109 Leipzig", ["Lindenstraße", "04109", "Leipzig"], ["Address"]),
    ("Post to Keizersgracht 123, 1015 CJ Amsterdam please.", ["Keizersgracht", "1015 CJ"], ["please"]),
    ("| Home | Flat 7, 12th Main, Koramangala 4th Block, Bengaluru 560034 |",
     ["Koramangala", "560034"], ["Home"]),
    ("We went live at 88% and the residence hall app shipped.", [], ["live at 88%"]),
    ("I live at 17 Rue des Lilas, 75011 Paris.", ["Lilas", "75011"], ["I live at"]),
    ("Send it to 4-2-8 Shibakoen, Minato-ku, Tokyo 105-0011 by Monday.",
     ["Shibakoen", "105-0011"], ["Monday"]),
    # A personal site named bare, a plate named as one, a handle named as one, a condition.
    ("My site is ren-builds.dev and the docs live on the wiki.", ["ren-builds"], ["wiki"]),
    ("My car is KA 05 MN 4821 for the car park.", ["KA 05 MN 4821"], ["car park"]),
    ("my handle is sk8r_99 everywhere", ["sk8r_99"], ["everywhere"]),
    ("I was out for IVF treatment in spring.", ["IVF"], ["spring"]),
    ("My flat is at 3/14 Chapel Street, Fitzroy VIC 3065.", ["Chapel Street", "3065"], ["My flat"]),
    ("DM me: u/quietloss on Reddit; ORCID 0000-0002-1825-0097.", ["quietloss", "1825-0097"], ["Reddit"]),
    ("My BSN 123456782 and NIE X1234567L are on the form.", ["123456782", "X1234567L"], ["form"]),
    ("The laptop serial C02XG2JHJG5J is on the asset list.", ["C02XG2JHJG5J"], ["asset list"]),
    ("My mother's maiden name is Okwuosa.", ["Okwuosa"], ["maiden name"]),
    ("After Grace left, Ivy and Rowan reviewed every label.", ["Grace", "Ivy", "Rowan"], ["label"]),
    ("Pharmacists in Bergen started reporting wrong doses.", [], ["Bergen"]),
    # Classes added after test2 was scored (so test2 is no longer held out for them).
    ("Mitarbeiternummer: 4471-AB and staff_number: STF/99/QZ", ["4471-AB", "STF/99/QZ"], ["staff_number"]),
    ("hr_id: hr_55120\nteam: search", ["hr_55120"], ["team: search"]),
    ("PESEL:   81120455512 and | Teudat Zehut | 044410234 |", ["81120455512", "044410234"], ["PESEL"]),
    ("Ping gh:ro-vance or see /home/rvance/evals/run.sh", ["ro-vance", "rvance"], ["evals/run.sh"]),
    ("DOB 1988年11月2日 and born 14-Mar-1990.", ["1988年11月2日", "14-Mar-1990"], ["DOB"]),
    ("Mail: 77 King St E, Suite 300, Hamilton, ON L8N 1A1", ["King St", "Hamilton", "L8N 1A1"], ["Mail"]),
    ("〒530-0001 大阪府大阪市北区梅田 1-2-3\nNext line", ["530-0001"], ["Next line"]),
    ("Reach me: tam (dot) ng (at) corp (dot) example", ["tam", "ng (at)"], ["Reach me"]),
    ("I took medical leave after knee surgery last spring.", ["knee surgery"], ["I took"]),
    ("Vehicle (car park pass): KX-402-ZZ", ["KX-402-ZZ"], ["Vehicle"]),
    ("I mentored Seo-yeon, who now owns the suite.", ["Seo-yeon"], ["owns the suite"]),
    ("We labelled it, June Okafor and I, over a week.", ["June", "Okafor"], ["a week"]),
    ("Oren and one other engineer run it now.", ["Oren"], ["one other engineer"]),
    ("Babatunde Okafor joined in May. Tunde added the refund cases.", ["Tunde"], ["refund cases"]),
    ("Badge 0048 · Sydney office; the Berlin site; Anschrift: Hauptstr. 4, 10115 Berlin",
     ["10115"], ["Sydney office", "Berlin site"]),
    # Names: a reviewer column of a table, honorifics, closing lines, a sentence opened by a verb.
    ("| Reviewer | Role |\n|---|---|\n| Fenella Ashdown | Staff |\n| Whole team owns it | Lead |\n",
     ["Fenella", "Ashdown"], ["Whole team owns it", "Staff", "Role"]),
    ("Dr. Quilla Ferrante reviewed the protocol.", ["Quilla", "Ferrante"], ["protocol"]),
    ("Best regards,\nTavita Lealaiauloto\n", ["Tavita", "Lealaiauloto"], ["Best regards"]),
    ("Mentored Hamid and Bea through their first on-call weeks.", ["Hamid"], ["Mentored"]),
])
def test_recogniser_classes(text, masked, kept):
    assert_masks(text, masked, kept)


def test_placeholders_do_not_depend_on_the_hash_seed():
    """A provider batch restores quotes in a later process: the map must be rebuilt identically."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    packet = Path(__file__).resolve().parent.parent / "datasets" / "pii" / "packets" / "pii-010.md"
    code = ("import json,sys; from packet_eval.redact import Redactor; "
            "t=open(sys.argv[1],encoding='utf-8').read(); print(json.dumps(Redactor.for_text(t).mapping))")
    maps = {subprocess.run([sys.executable, "-c", code, str(packet)], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2", "3")}
    assert len(maps) == 1 and "[PERSON_" in next(iter(maps))
