"""Search filters and when a report's field counts as unknown (未识别): what the engines, the
statistics, the findings and the app all filter reports by, in the `reports --json` shape.

A field the parser could not read is unknown, never guessed: a filter value 未识别 selects those
reports, and a filter on values says how many it left out for not knowing the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial

from .kinds import wants_unknown
from .querylang import QueryError, section_kind

FILTER_FIELDS = ("year", "province", "city", "county", "agency", "template")
"""The metadata fields a report is filtered on (sections are filtered apart: they are inside it)."""

# Levels (as the parser names them) above a city or a county: there such a field is not unknown,
# it does not apply (a ministry has no province, a province's report no city).
_ABOVE = {
    "province": ("national", "national-ministry"),
    "city": ("national", "national-ministry", "province", "department-province"),
    "county": ("national", "national-ministry", "province", "department-province", "city", "department-city"),
}


def value_of(report: Mapping, name: str) -> object:
    """A field of a report in the `reports --json` shape (places are under `region`)."""
    if name in ("province", "city", "county"):
        return report["region"][name]
    return report.get(name)


def is_unknown(report: Mapping, name: str) -> bool:
    """The field is empty where the report should have one (not where its level has none)."""
    if value_of(report, name) not in (None, ""):
        return False
    return report.get("level") not in _ABOVE.get(name, ())


@dataclass
class SearchFilters:
    """Filters from the command line or the app; merged with field filters written in the query."""

    # A value, or several (the app's facets) of which a report must match one. A year is "2020"
    # or "2018-2020"; a place or agency matches by part of its name.
    year: str | list[str] | None = None
    sections: list[str] = field(default_factory=list)
    province: str | list[str] | None = None
    city: str | list[str] | None = None
    county: str | list[str] | None = None
    agency: str | list[str] | None = None
    template: str | None = None

    def merged(self, query_filters: dict[str, list[str]]) -> "SearchFilters":
        out = replace(self, sections=[section_kind(s) for s in self.sections])
        for name, values in query_filters.items():
            if name == "section":
                out.sections = sorted(set(out.sections) | set(values))
            else:
                setattr(out, name, values[-1])
        return out

    def replaced_by(self, query_filters: dict[str, list[str]]) -> dict[str, tuple[str, str]]:
        """The filters that field filters written in the query replace (the query's win in `merged`):
        name → (this filter's value, the query's). Sections are not replaced but added."""
        return {name: (getattr(self, name), values[-1]) for name, values in query_filters.items()
                if name != "section" and getattr(self, name) and _values(getattr(self, name)) != [values[-1]]}

    def years(self) -> list[tuple[int, int]]:
        """(first, last) of each year or range asked for; empty for any year. Raises QueryError."""
        return [_year_span(year) for year in _values(self.year) if not wants_unknown(year)]

    def accepts(self, report: dict) -> bool:
        for test in self._made()[1]:
            if not test(report):
                return False
        return True

    def field_values(self) -> tuple[tuple[str, ...], ...]:
        """Each filter's values in FILTER_FIELDS order."""
        return tuple(tuple(_values(getattr(self, name))) for name in FILTER_FIELDS)

    def value_filters(self) -> tuple[str, ...]:
        """The fields filtered on by values alone (none of them 未识别, which lets the unknown in)."""
        return _value_filters(self.field_values())

    def _made(self) -> tuple[tuple[tuple[str, ...], ...], list[Callable[[dict], bool]]]:
        """(`field_values`, the tests `accepts` runs), made once for these filter values: both are
        asked for every report."""
        key = (self.year, self.province, self.city, self.county, self.agency, self.template)
        made = self.__dict__.get("_made_for")
        if made is None or made[0] != key:
            values = self.field_values()
            made = self.__dict__["_made_for"] = (key, values, _tests(values))
        return made[1], made[2]

    def left_out_unknown(self, report: dict) -> list[str]:
        """The filtered fields this report does not know, when it passes every filter on the fields
        it does know: the filters left it out only for not knowing those."""
        values = self._made()[0]
        unknown = [name for name in _value_filters(values) if is_unknown(report, name)]
        if not unknown:
            return []
        known = tuple(() if name in unknown else value for name, value in zip(FILTER_FIELDS, values))
        return unknown if all(test(report) for test in _tests(known)) else []


@lru_cache(maxsize=64)
def _value_filters(values: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    return tuple(name for name, wanted in zip(FILTER_FIELDS, values)
                 if wanted and not any(map(wants_unknown, wanted)))


@lru_cache(maxsize=64)
def _tests(values: tuple[tuple[str, ...], ...]) -> list[Callable[[dict], bool]]:
    """One test per filtered field, passing a report that matches one of its values."""
    tests = []
    for name, wanted in zip(FILTER_FIELDS, values):
        if wanted:
            each = [_test(name, value) for value in wanted]
            tests.append(each[0] if len(each) == 1 else lambda r, each=each: any(t(r) for t in each))
    return tests


def _test(name: str, wanted: str) -> Callable[[dict], bool]:
    """One filter value: a year or range, a template exactly, a place or agency by part of its
    name, or 未识别 for the reports that do not know the field."""
    if wants_unknown(wanted):
        return partial(is_unknown, name=name)
    if name == "year":
        first, last = _year_span(wanted)
        return lambda r: r["year"] is not None and first <= r["year"] <= last
    if name == "template":
        return lambda r: r["template"] == wanted
    if name == "agency":
        return lambda r: bool(r["agency"]) and wanted in r["agency"]
    return lambda r: bool(r["region"][name]) and wanted in r["region"][name]


def _values(value: str | list[str] | None) -> list[str]:
    """A filter's values: one from the command line, several from the app's facets."""
    if not value:
        return []
    return [value] if isinstance(value, str) else [v for v in value if v]


@lru_cache(maxsize=64)
def _year_span(year: str) -> tuple[int, int]:
    """(first, last) of "2020" or "2018-2020" (or "2020-2018", read forwards); parsed once, as
    `accepts` asks for every report."""
    if not re.fullmatch(r"\d{4}(-\d{4})?", year):
        raise QueryError(f"year {year!r} is not a year or a range like 2018-2020")
    first, _, last = year.partition("-")
    return tuple(sorted((int(first), int(last or first))))
