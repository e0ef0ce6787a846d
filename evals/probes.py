"""inspect-ai task: metamorphic probes. Does the level move when nothing that matters changes?

    inspect eval evals/probes.py -T extractor=baseline --model none
    inspect eval evals/probes.py -T extractor=llm --model openai/gpt-4.1-mini
    inspect eval evals/probes.py -T extractor=oracle --model none    # must be invariant everywhere

For each packet the extractor runs on the original and on every variant:
name_swap (every person renamed into each of 12 name groups, pronouns to
match), padding, superlatives, section_order, format (.docx and .pdf round
trips) and injection (the golden injection twins). Reported per probe:
invariance with a bootstrap 95% CI, the direction of every change, and for
name_swap the LL144-style impact ratio across name groups.

Options: -T dataset=DIR, -T split=test|dev|all, -T probes=name_swap,padding,...,
-T name_groups=white_woman,black_man,..., -T selection_level=senior, -T seed=0,
-T ladder=PATH, -T cache=false (LLM only). Gate: packet-eval eval gate LOG.
"""

from inspect_ai import Task, task

from packet_eval.evaluation.probes_task import packet_probes_task


@task
def packet_probes(dataset: str = "datasets/golden", split: str = "test",
                  extractor: str = "baseline", probes: str = "all", ladder: str | None = None,
                  cache: bool = True, seed: int = 0, selection_level: str = "senior",
                  name_groups: str = "all") -> Task:
    return packet_probes_task(dataset=dataset, split=split, extractor=extractor, probes=probes,
                              ladder=ladder, cache=cache, seed=seed,
                              selection_level=selection_level, name_groups=name_groups)
