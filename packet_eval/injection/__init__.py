"""Text in a packet aimed at the evaluator: found, flagged, and never used as evidence.

``detector`` judges each sentence on folded text (``normalize``) with the rules
in ``verdict_voice`` (the evaluator's, committee's or ladder's voice),
``process_talk`` (talk about this packet's assessment), ``encoded_text`` and
``resemblance`` (the learned half: paragraphs that read like the dev injection
forms); what is found by its form alone is flagged only when it names
something the assessment decides (``assessment_terms``);
``screening`` applies the one rule every extractor ends with.
"""

from packet_eval.injection.detector import InjectionHit, describes_injection_work, detect_injections

__all__ = ["InjectionHit", "describes_injection_work", "detect_injections"]
