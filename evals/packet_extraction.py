"""inspect-ai task: how often does an extractor agree with the golden calibrators?

    inspect eval evals/packet_extraction.py -T extractor=baseline --model none
    inspect eval evals/packet_extraction.py -T extractor=llm --model openai/gpt-4.1-mini
    inspect eval evals/packet_extraction.py -T extractor=oracle --model none     # must score 1.0
    inspect eval evals/packet_extraction.py -T extractor=constant --model none   # kappa must be 0

Options: -T dataset=DIR (any golden-layout directory), -T split=test|dev|all,
-T ladder=PATH, -T cache=false (LLM only: skip packet-eval's response cache).
"""

from inspect_ai import Task, task

from packet_eval.evaluation.inspect_task import packet_extraction_task


@task
def packet_extraction(dataset: str = "datasets/golden", split: str = "test",
                      extractor: str = "baseline", ladder: str | None = None,
                      cache: bool = True) -> Task:
    return packet_extraction_task(dataset=dataset, split=split, extractor=extractor,
                                  ladder=ladder, cache=cache)
