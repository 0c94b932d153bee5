"""Saved searches (`nianbao watch`): a query and its filters that report what is new since they last ran.

A watch remembers how many occurrences each report had when it last ran; a report it has not
seen, or one with more occurrences, is news. Only exact search is watched: its counts are exact.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from .core.filters import SearchFilters
from .query import Engine, parse_query
from .store import Store


class WatchError(Exception):
    """A watch that cannot be added or found; the message is the one-line reason."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _counts(engine: Engine, query: str, filters: dict) -> dict[str, int]:
    result = engine.fulltext.run(query, SearchFilters(**filters), limit=None, snippets=False)
    return {r["report_id"]: r["count"] for r in result["results"]}


def add_watch(index_dir: Path, query: str, filters: SearchFilters | None = None, name: str | None = None) -> dict:
    """Save a search; what it finds now is its starting point, so its first run shows only news."""
    parse_query(query)  # a bad query fails here, with QueryError's message, not at every run
    name = name or query
    filters_dict = asdict(filters or SearchFilters())
    with Store(index_dir, create=False) as store:
        if any(w["name"] == name for w in store.watches()):
            raise WatchError(f"a watch named '{name}' exists already (see `nianbao watch list`)")
        engine = Engine(index_dir)
        try:
            seen = _counts(engine, query, filters_dict)
        finally:
            engine.close()
        now = _now()
        store.add_watch(name, query, filters_dict, now)
        store.watch_ran(name, seen, now)
    return {"name": name, "query": query, "filters": filters_dict, "reports": len(seen)}


def remove_watch(index_dir: Path, name: str) -> None:
    with Store(index_dir, create=False) as store:
        if not store.remove_watch(name):
            raise WatchError(f"no watch named '{name}' (see `nianbao watch list`)")


def list_watches(index_dir: Path) -> list[dict]:
    with Store(index_dir, create=False) as store:
        return [{k: w[k] for k in ("name", "query", "filters", "created", "last_run")} | {"reports": len(w["seen"])}
                for w in store.watches()]


def run_watches(index_dir: Path, *, mark: bool = True) -> list[dict]:
    """Each watch with the reports new to it and their new occurrences; `mark` makes them seen."""
    out = []
    with Store(index_dir, create=False) as store:
        watches = store.watches()
        if not watches:
            return []
        engine = Engine(index_dir)
        try:
            for watch in watches:
                counts = _counts(engine, watch["query"], watch["filters"])
                seen = watch["seen"]
                new = [{"report_id": rid, "count": count - seen.get(rid, 0)}
                       for rid, count in counts.items() if count > seen.get(rid, 0)]
                out.append({"name": watch["name"], "query": watch["query"], "last_run": watch["last_run"],
                            "new": sorted(new, key=lambda n: -n["count"])})
                if mark:
                    store.watch_ran(watch["name"], counts, _now())
        finally:
            engine.close()
    return out
