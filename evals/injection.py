"""inspect-ai task: does text in a packet steer the extractor? (the injection suite)

    inspect eval evals/injection.py -T extractor=baseline --model none
    inspect eval evals/injection.py -T extractor=llm --model openai/gpt-4.1-mini

Each sample is a clean base packet and the same packet with one injection
form inserted (evals/injection_forms.yaml). Reported: the share of pairs whose
levels are unchanged, the injection-flag recall, and the false-positive rate
on the clean bases.
"""

from inspect_ai import Task, task

from packet_eval.evaluation.injection_suite import injection_task


@task
def packet_injection(extractor: str = "baseline", dataset: str = "datasets/golden",
                     ladder: str | None = None, per_level: int = 1, cache: bool = True) -> Task:
    return injection_task(extractor=extractor, dataset=dataset, ladder=ladder,
                          per_level=per_level, cache=cache)
