"""Sentence vectors from the wordllama weights that ship inside its wheel.

wordllama 0.4 carries ``l2_supercat``: a 32,000-token embedding table (256
dimensions) and its tokenizer, both package data. ``WordLlama.load()`` would
ask Hugging Face for a config first, so the files are read directly here and
nothing touches the network. A sentence vector is the mean of its token
vectors, L2-normalised, which is exactly what wordllama's own inference does.

Chosen over model2vec and fastembed because their wheels carry no weights
(both download at first use), and over sentence-transformers because it needs
torch and a download. The vectors are weak on their own (similarities sit
around 0.1 to 0.5), so the extractor uses them as one feature among several.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

WEIGHTS = "l2_supercat_256.safetensors"
TOKENIZER = "l2_supercat_tokenizer_config.json"
DIM = 256


@lru_cache(maxsize=1)
def _model() -> tuple[Any, np.ndarray]:
    from safetensors import safe_open
    from tokenizers import Tokenizer

    # find_spec locates the package without running its __init__, which pulls in
    # requests and the Hugging Face client (a third of a second, and never needed).
    spec = find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the wordllama package is not installed; run `uv sync`")
    root = Path(next(iter(spec.submodule_search_locations)))
    tok = Tokenizer.from_file(str(root / "tokenizers" / TOKENIZER))
    tok.no_padding()
    tok.no_truncation()
    with safe_open(str(root / "weights" / WEIGHTS), framework="np") as f:
        table = f.get_tensor("embedding.weight")
    log.debug("loaded wordllama %s: %s", WEIGHTS, table.shape)
    return tok, table


def embed(texts: Sequence[str]) -> np.ndarray:
    """One unit-length row per text (a zero row for a text with no tokens)."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    if not texts:
        return out
    tok, table = _model()
    for i, enc in enumerate(tok.encode_batch(list(texts), add_special_tokens=False)):
        if enc.ids:
            v = table[enc.ids].astype(np.float32).mean(axis=0)
            norm = float(np.linalg.norm(v))
            out[i] = v / norm if norm else v
    return out
