"""padding: add non-evidential filler, the kind long packets are padded with.

LLM judges prefer longer answers (Zheng et al. 2023). A packet's level must
not rise because it is longer, so this probe adds three kinds of filler that
the labelling guide gives no credit for: a paragraph of generic enthusiasm
after the title section, the same team description at the end of several
sections, and a long list of technologies at the end. Together they add
about 300 words.

The filler avoids the ladder's vocabulary on purpose (it says "technologies
I use", not "tools I use"; it names no evals, retrieval or agents), so the
probe measures volume, not keyword matching: a keyword-stuffing probe is a
different transformation. ``tests/test_probes.py`` checks that the offline
baseline finds no evidence in the filler on its own.
"""

from __future__ import annotations

import random
import re

from packet_eval.dataset import Label
from packet_eval.packet import split_sections
from packet_eval.probes.base import Edit, Variant, apply_edits, derive_seed, remap_label

PROBE = "padding"

ENTHUSIASM = (
    "I love what I do, and I bring energy and a positive attitude to every meeting, every "
    "stand-up and every conversation with colleagues.",
    "I am passionate about the people I work with, and I believe that enthusiasm is contagious.",
    "Colleagues often tell me that I am a pleasure to work with, and I take real pride in being "
    "someone people enjoy spending their day with.",
    "I care deeply about the company's mission, I always give one hundred percent, and I am "
    "genuinely excited to come to work every morning.",
    "I am a team player through and through, always happy to jump in wherever I am needed.",
)
TEAM = (
    "For context, the team is eight engineers, a designer and a product manager, spread across "
    "two offices and three time zones; we meet on Mondays for a short check-in and on Fridays "
    "for a demo, and we have a friendly, collaborative culture that everyone values."
)
TECH = (
    "Python", "TypeScript", "Go", "SQL", "PostgreSQL", "Redis", "Kafka", "Airflow", "dbt",
    "Docker", "Kubernetes", "Terraform", "GitHub Actions", "Datadog", "Grafana", "Sentry",
    "Jira", "Confluence", "Notion", "Figma", "Slack", "Miro", "VS Code", "Jupyter", "pandas",
    "NumPy", "PyTorch", "scikit-learn", "FastAPI", "LangChain", "LlamaIndex", "Pinecone",
    "Weaviate", "Hugging Face", "Streamlit", "Snowflake", "BigQuery", "Looker",
)
TECH_HEADING = "## Tech stack"
TEAM_REPEATS = 3


def _boundaries(text: str) -> list[int]:
    """Offsets where a paragraph starts after a blank line (never 0)."""
    return [m.end() for m in re.finditer(r"\n[ \t]*\n(?=[^\n])", text)]


def _after_title(text: str, bounds: list[int]) -> int | None:
    """The first paragraph boundary after the title section (or after the first paragraph)."""
    sections = split_sections(text)
    after = sections[1].start if len(sections) > 1 else 0
    return next((b for b in bounds if b >= after and b > 0), None)


def tech_list(rng: random.Random) -> str:
    """One long sentence listing every technology, in a seeded order."""
    names = list(TECH)
    rng.shuffle(names)
    return f"Technologies I use day to day: {', '.join(names[:-1])} and {names[-1]}."


def transform(text: str, label: Label | None, *, seed: int) -> Variant:
    """Insert enthusiasm, repeated team descriptions and a technology list into ``text``.

    Args:
        text: Canonical packet text.
        label: Gold label whose evidence must follow the insertions (or ``None``).
        seed: Picks the order of the enthusiasm sentences, where the team
            descriptions go and the order of the technology list.

    Returns:
        The padded variant; ``details`` records the words added.
    """
    rng = random.Random(seed)
    bounds = _boundaries(text)
    edits: list[Edit] = []
    enthusiasm = list(ENTHUSIASM)
    rng.shuffle(enthusiasm)
    first = _after_title(text, bounds)
    used: set[int] = set()
    if first is not None:
        edits.append(Edit(first, first, " ".join(enthusiasm) + "\n\n"))
        used.add(first)
    # Team descriptions go before headings where there are any (the end of a section),
    # otherwise before any later paragraph.
    heads = [s.start for s in split_sections(text)[1:] if s.start in bounds and s.start not in used]
    spots = heads or [b for b in bounds if b not in used and (first is None or b > first)]
    for b in sorted(rng.sample(spots, min(TEAM_REPEATS, len(spots)))):
        edits.append(Edit(b, b, TEAM + "\n\n"))
    tail = text.rstrip("\n")
    newline = text[len(tail):] or "\n"
    edits.append(Edit(len(tail), len(text),
                      f"\n\n{TECH_HEADING}\n\n{tech_list(rng)}{newline}"))
    new_text, mapping = apply_edits(text, edits)
    new_label, evidence = remap_label(label, text, new_text, mapping)
    added = len(new_text.split()) - len(text.split())
    return Variant(PROBE, PROBE, new_text, new_label, evidence,
                   details={"words_added": added, "insertions": len(edits)})


def variants(text: str, label: Label | None, *, seed: int) -> list[Variant]:
    """The one padded variant of ``text``."""
    return [transform(text, label, seed=derive_seed(seed, PROBE))]
