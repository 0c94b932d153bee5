"""A report's metadata fields as people see them: which can be corrected and how a correction is
checked, and facet counts that show the unknown (when a field is unknown, 未识别, is
`indexer.core.filters.is_unknown`).

Trust first: a field the parser could not read is shown and counted as unknown, never guessed,
and a filter says how many reports it left out for not knowing the field.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache

from .core.filters import is_unknown, value_of
from .core.kinds import UNKNOWN
from .store import EDITABLE, Store


class FieldError(ValueError):
    """A correction that cannot be right; the message names the field."""


def facet_counts(reports: Iterable[Mapping], name: str) -> Counter:
    """Reports per value of one field, with the unknown ones counted under `UNKNOWN`; reports
    where the field does not apply are not counted."""
    counts: Counter = Counter()
    for report in reports:
        value = value_of(report, name)
        if value not in (None, ""):
            counts[str(value)] += 1
        elif is_unknown(report, name):
            counts[UNKNOWN] += 1
    return counts


@lru_cache(maxsize=1)
def provinces() -> tuple[str, ...]:
    """Province-level divisions in cpca's table (the same gazetteer the parser uses)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cpca imports pkg_resources
        import cpca
    return tuple(sorted({a.name for a in cpca.ad_2_addr_dict.values() if a.rank == a.RANK_PROVINCE}))


def validate(name: str, value: str) -> str:
    """A correction's value as stored; FieldError naming the field when it cannot be right."""
    if name not in EDITABLE:
        raise FieldError(f"{name}: not a field that can be corrected (one of: {', '.join(EDITABLE)})")
    value = value.strip()
    if not value:
        raise FieldError(f"{name}: empty value (to mark it unknown, clear it)")
    if name == "year":
        if not re.fullmatch(r"\d{4}", value) or not 1990 <= int(value) <= date.today().year:
            raise FieldError(f"year: {value!r} is not a year between 1990 and {date.today().year}")
    elif name == "province":
        found = [p for p in provinces() if p == value] or [p for p in provinces() if p.startswith(value)]
        if len(found) != 1:
            raise FieldError(f"province: {value!r} is not a province-level division (e.g. 浙江省, 北京市, 广西壮族自治区)")
        value = found[0]
    elif name == "published":
        try:
            date.fromisoformat(value)
        except ValueError:
            raise FieldError(f"published: {value!r} is not a date like 2021-01-31") from None
    return value


def edit_report(store: Store, report_id: str, values: Mapping[str, str], clear: Iterable[str] = (),
                reset: Iterable[str] = ()) -> dict:
    """Correct a report (an id or a unique prefix): `values` set fields, `clear` marks fields
    unknown, `reset` drops corrections so the derived value shows again. Every value is checked
    before anything is written. Returns the report as read afterwards."""
    full_id = store.resolve_id(report_id)
    if full_id is None:
        raise FieldError(f"no report with id {report_id!r} (an id or a unique prefix, see `nianbao reports`)")
    changes: dict[str, str | None] = {name: validate(name, value) for name, value in values.items()}
    for name in [*clear, *reset]:
        if name not in EDITABLE:
            raise FieldError(f"{name}: not a field that can be corrected (one of: {', '.join(EDITABLE)})")
    changes.update((name, None) for name in clear)
    store.set_corrections(full_id, changes, reset)
    return store.report(full_id)
