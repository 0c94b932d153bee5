"""What changed between two versions of a collected report: a line diff of their texts."""

from __future__ import annotations

import difflib

from ..store import Store


class NoVersionsError(Exception):
    """The address has fewer than two readable versions."""


def version_diff(store: Store, url: str, context: int = 2) -> list[str]:
    """The unified diff, line by line, from the previous version of `url` to its latest one."""
    versions = [v for v in store.versions(url) if v["report_id"]]
    if len(versions) < 2:
        raise NoVersionsError(f"{url}: {len(versions)} readable version(s) collected; a diff needs two")
    old, new = versions[-2], versions[-1]
    texts = store.texts([old["report_id"], new["report_id"]])
    return list(difflib.unified_diff(
        texts[old["report_id"]][0].splitlines(), texts[new["report_id"]][0].splitlines(),
        fromfile=f"{old['report_id']} ({old['retrieved']})", tofile=f"{new['report_id']} ({new['retrieved']})",
        n=context, lineterm=""))
