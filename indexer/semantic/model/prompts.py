"""Which prefix each kind of text gets: e5 models were trained with ``query: `` and ``passage: ``."""

from __future__ import annotations

from typing import Any

E5_PROMPTS: dict[str, str] = {"query": "query: ", "passage": "passage: "}
SAVED_PROMPTS = {**E5_PROMPTS, "document": E5_PROMPTS["passage"]}
"""Saved with the converted folder; "document" too, because sentence-transformers' ``encode_document`` uses it."""


def prompts_for(model: Any, name: str) -> dict[str, str]:
    """The model's own query/passage prompts; e5 models without them get the e5 prefixes.

    ``index`` is the prompt for indexed texts: e5's symmetric ``query: `` for e5 models, the
    passage prompt otherwise."""
    own = getattr(model, "prompts", None) or {}
    e5 = "e5" in name.lower()
    if "query" in own and "passage" in own:
        prompts = {"query": own["query"], "passage": own["passage"]}
    elif e5:
        prompts = dict(E5_PROMPTS)
    else:
        prompts = {"query": "", "passage": ""}
    # e5 by name or by its prompts (a copied e5 folder under another name is still e5).
    prompts["index"] = prompts["query"] if e5 or prompts == E5_PROMPTS else prompts["passage"]
    return prompts
