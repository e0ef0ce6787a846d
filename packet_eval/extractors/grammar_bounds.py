"""The answer schema bounded for a server that turns it into a grammar (llama.cpp).

Measured on llama-cpp-python with SmolLM2-135M (issue 17): with the plain schema every
string and array is open-ended, and a small model wrote one ``level`` string of digits
until ``max_tokens`` (about 8 tokens/s on a loaded 2-core CPU: minutes per call). Bounding
the grammar ends the answer: ids and levels become the ladder's enums, each dimension
appears once (``minItems`` = ``maxItems`` = the ladder's count), and strings and lists
have caps. Only the schema sent changes; validation and grounding are the same as ever,
so a capped quote that no longer grounds is re-asked or dropped and counted.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from packet_eval.extractors.llm_schema import ExtractionAnswer
from packet_eval.ladder import NONE, Ladder

# Characters and items: a short clause of reasoning and one quote a dimension. A quote cut
# at its cap is still verbatim, so it still grounds. Measured with SmolLM2 (loaded 2-core
# CPU): at 240/240/160 chars and 2 quotes an answer took 860-1,200 tokens; at 120/160/80 it
# took 764 on one packet and ran to a 1,500-token cap on two. An answer must end well within
# the cap, or it is cut off and nothing of it is kept.
REASONING_CHARS = 80
QUOTE_CHARS = 120
RATIONALE_CHARS = 60
EVIDENCE_ITEMS = 1
FLAG_ITEMS = 1


def bounded_schema(schema: dict[str, Any], ladder: Ladder) -> dict[str, Any]:
    """A copy of the inlined ``ExtractionAnswer`` schema with the ladder's enums and caps."""
    out = copy.deepcopy(schema)
    props = out["properties"]
    n = len(ladder.dimension_ids)
    dims = props["dimensions"]
    dims.update(minItems=n, maxItems=n)
    dim = dims["items"]["properties"]
    dim["dimension"]["enum"] = list(ladder.dimension_ids)
    dim["reasoning"]["maxLength"] = REASONING_CHARS
    dim["level"]["enum"] = list(ladder.scale)
    dim["evidence"]["maxItems"] = EVIDENCE_ITEMS
    ev = dim["evidence"]["items"]["properties"]
    ev["quote"].update(minLength=1, maxLength=QUOTE_CHARS)
    ev["rationale"]["maxLength"] = RATIONALE_CHARS
    ev["level"]["enum"] = [lv for lv in ladder.scale if lv != NONE]
    flags = props["flags"]
    flags["maxItems"] = FLAG_ITEMS
    fl = flags["items"]["properties"]
    fl["flag"]["enum"] = list(ladder.flag_ids)
    fl["quote"].update(minLength=1, maxLength=QUOTE_CHARS)
    fl["rationale"]["maxLength"] = RATIONALE_CHARS
    return out


_MODELS: dict[str, type[ExtractionAnswer]] = {}


def bounded_answer_model(ladder: Ladder) -> type[ExtractionAnswer]:
    """``ExtractionAnswer`` whose schema (what instructor sends) is ``bounded_schema``.

    A subclass per ladder, kept, so instructor's schema cache (keyed by class) stays small;
    validation is inherited unchanged. Named like its parent: the tool name stays the same.
    """
    model = _MODELS.get(ladder.sha256)
    if model is None:
        schema = bounded_schema(ExtractionAnswer.model_json_schema(), ladder)

        class Bounded(ExtractionAnswer):
            @classmethod
            def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
                return copy.deepcopy(schema)

            @classmethod
            def model_validate_json(cls, json_data: str | bytes | bytearray, *,
                                    context: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
                # llama-cpp-python's grammar lets raw newlines into strings, which strict
                # JSON refuses; read them as the characters they are (quotes still ground).
                try:
                    data = json.loads(json_data, strict=False)
                except ValueError:
                    return super().model_validate_json(json_data, context=context, **kwargs)
                kwargs.pop("by_alias", None)
                kwargs.pop("by_name", None)
                return cls.model_validate(data, context=context, **kwargs)

        Bounded.__name__ = Bounded.__qualname__ = ExtractionAnswer.__name__
        model = _MODELS[ladder.sha256] = Bounded
    return model
