"""`nianbao collect`: from report and listing pages to an indexed corpus that remembers where each
report came from, and, run again, which reports changed or disappeared.

One pass walks the pages breadth first (depth = link hops from the given addresses), saves every
report document under the index folder by its content hash, records a version per new content,
then indexes the folder through `index_paths`. A journal beside the store lets an interrupted run
resume where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..indexing import ProgressFn, index_paths
from ..store import Store
from . import page
from .fetch import Fetched, FetchError, PoliteClient, decode_page
from .links import REPORT_WORDS, anchor_texts, is_attachment, report_links, suffix

DOWNLOADS = "collected"  # under the index folder; every file named by its content hash
JOURNAL = "collect-journal.json"
STATUSES = ("new", "unchanged", "changed", "removed", "failed")
GONE = (404, 410)
_TYPES = {"application/pdf": ".pdf", "application/msword": ".doc",
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx"}


@dataclass
class Result:
    url: str
    status: str  # one of STATUSES
    report_id: str | None = None
    previous_report_id: str | None = None
    reason: str | None = None


@dataclass
class CollectSummary:
    results: list[Result] = field(default_factory=list)
    reports: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.results) for s in STATUSES}

    def as_json(self) -> dict:
        return {"results": [asdict(r) for r in self.results]}


def downloads_dir(index_dir: Path) -> Path:
    return Path(index_dir) / DOWNLOADS


class _Journal:
    """The run's queue and what it has done, saved after every page: a killed run resumes from it."""

    def __init__(self, index_dir: Path, start: list[str], depth: int) -> None:
        self.path = Path(index_dir) / JOURNAL
        saved = json.loads(self.path.read_text()) if self.path.exists() else None
        if saved and saved["start"] == start and saved["depth"] == depth:
            self.queue = deque(saved["queue"])
            self.done: set[str] = set(saved["done"])
            self.results = [Result(**r) for r in saved["results"]]
            self.pages: dict[str, list[str]] = saved["pages"]
            self.resumed = True
        else:
            self.queue = deque({"url": u, "linked_from": None, "depth": depth, "published": None} for u in start)
            self.done, self.results, self.pages, self.resumed = set(), [], {}, False
        self.start, self.depth = start, depth

    def save(self) -> None:
        data = {"start": self.start, "depth": self.depth, "queue": list(self.queue), "done": sorted(self.done),
                "results": [asdict(r) for r in self.results], "pages": self.pages}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False))
        os.replace(tmp, self.path)

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)


def collect(urls: list[str], index_dir: Path, *, depth: int = 3, client: PoliteClient | None = None,
            progress: ProgressFn | None = None, embed: bool = False, model: str | None = None) -> CollectSummary:
    """Collect the annual reports reachable from `urls`, index them, and say what happened to each."""
    started = time.monotonic()
    index_dir = Path(index_dir)
    own_client = client is None
    client = client or PoliteClient()
    folder = downloads_dir(index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with Store(index_dir) as store:
            journal = _Journal(index_dir, list(urls), depth)
            _crawl(journal, store, client, folder, progress)
            _mark_unlinked(journal, store)
            summary = CollectSummary(results=journal.results)
        indexed = index_paths([folder], index_dir, progress=progress, embed=embed, model=model)
        with Store(index_dir) as store:
            store.link_versions({f.path: f.report_id for f in indexed.files if f.status != "removed"})
            skipped = {f.path: f.reason for f in indexed.files if f.status == "skipped"}
            _settle(summary.results, store, skipped)
        summary.reports = indexed.reports
        journal.finish()
    finally:
        if own_client:
            client.close()
    summary.seconds = time.monotonic() - started
    return summary


def _crawl(journal: _Journal, store: Store, client: PoliteClient, folder: Path, progress: ProgressFn | None) -> None:
    while journal.queue:
        item = journal.queue.popleft()
        if item["url"] in journal.done:
            continue
        journal.done.add(item["url"])
        result = _visit(item, journal, store, client, folder)
        if result is not None:
            journal.results.append(result)
        journal.save()
        if progress:
            progress("collect", len(journal.done), len(journal.done) + len(journal.queue))


def _visit(item: dict, journal: _Journal, store: Store, client: PoliteClient, folder: Path) -> Result | None:
    """Fetch one address; a report document gets a Result, a page only linking to reports None."""
    url = item["url"]
    known = store.versions(url)
    latest = known[-1] if known else None
    try:
        fetched = client.get(url, etag=latest and latest["etag"], last_modified=latest and latest["last_modified"])
    except FetchError as exc:
        return _record(store, item, "failed", str(exc))
    if fetched.status in GONE:
        if latest:
            return _record(store, item, "removed", f"HTTP {fetched.status}")
        return _record(store, item, "failed", f"HTTP {fetched.status}")
    if fetched.status == 304 and latest:
        return _record(store, item, "unchanged", None)
    if fetched.status != 200:
        return _record(store, item, "failed", f"HTTP {fetched.status}")

    doc_suffix = _TYPES.get(fetched.content_type) or (suffix(fetched.final_url) if is_attachment(fetched.final_url) else None)
    if doc_suffix:
        return _save(store, item, fetched, fetched.content, doc_suffix, folder, latest, title=None,
                     published=item["published"])
    if "html" not in fetched.content_type and fetched.content_type:
        return _record(store, item, "failed", f"not a report document ({fetched.content_type})")

    html = decode_page(fetched.content, fetched.headers.get("content-type", ""))
    whole = page.whole_page_text(html)
    main = page.main_text(html)
    title = page.title(html)
    stated = page.published(whole)
    is_report = page.is_report(main, anchor_texts(html))
    # A page about one report (its text, or a title and a pointer to the attachment) has its
    # attachments followed; a listing, which names many reports, only its reports' links.
    named = report_links(html, fetched.final_url, page_is_about_a_report=False)
    about_one = is_report or (bool(REPORT_WORDS.search(title or "")) and sum(l.kind == "report" for l in named) < 2)
    followed = report_links(html, fetched.final_url, page_is_about_a_report=True) if about_one else named
    journal.pages[url] = [link.url for link in followed if link.kind == "report"]
    if item["depth"] > 0:
        for link in followed:
            if link.url not in journal.done:
                journal.queue.append({"url": link.url, "linked_from": url, "depth": item["depth"] - 1,
                                      "published": link.date or stated})
    if not is_report:
        return None
    return _save(store, item, fetched, main.encode("utf-8"), ".txt", folder, latest, title=title,
                 published=stated or item["published"])


def _save(store: Store, item: dict, fetched: Fetched, content: bytes, doc_suffix: str, folder: Path,
          latest: dict | None, *, title: str | None, published: str | None) -> Result:
    """Keep a report document: a new version when its content is new, both versions' files kept.

    The hash of an HTML page is that of its main text: counters and dates in the furniture change
    on every visit and must not make a report 'changed'.
    """
    sha = hashlib.sha256(content).hexdigest()
    if latest and latest["sha256"] == sha:
        return _record(store, item, "unchanged", None)
    path = folder / f"{sha[:16]}{doc_suffix}"
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(content)
        os.replace(tmp, path)
    status = "changed" if latest else "new"
    result = _record(store, item, status, None)
    store.add_version(item["url"], fetched.retrieved, final_url=fetched.final_url,
                      last_modified=fetched.headers.get("last-modified"), etag=fetched.headers.get("etag"),
                      published=published, title=title, sha256=sha, path=str(path.resolve()))
    return result


def _record(store: Store, item: dict, status: str, reason: str | None) -> Result:
    store.record_source(item["url"], item["linked_from"], status, reason, _now())
    return Result(item["url"], status, reason=reason)


def _mark_unlinked(journal: _Journal, store: Store) -> None:
    """A known report no longer linked from the page that linked it (itself read this run) is removed."""
    reached = {r.url for r in journal.results}
    for url in store.sources_linked_from(journal.pages):
        source = store.source(url)
        if url in reached or source["status"] == "removed" or url in journal.pages.get(source["linked_from"], []):
            continue
        journal.results.append(_record(store, {"url": url, "linked_from": None}, "removed",
                                       f"no longer linked from {source['linked_from']}"))


def _settle(results: list[Result], store: Store, skipped: dict[str, str | None]) -> None:
    """Fill in report ids; a document that could not be read as a report becomes 'failed' with the reason."""
    for result in results:
        versions = store.versions(result.url)
        if not versions:
            continue
        result.report_id = versions[-1]["report_id"]
        if result.status == "changed" and len(versions) > 1:
            result.previous_report_id = versions[-2]["report_id"]
        if result.report_id is None and result.status in ("new", "changed", "unchanged"):
            result.status = "failed"
            result.reason = skipped.get(versions[-1]["path"]) or "could not be read as a report"
            store.record_source(result.url, None, "failed", result.reason, _now())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
