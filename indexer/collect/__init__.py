"""Collecting reports from government sites: a polite client (`fetch`), which links lead to
reports (`links`), reading a report page (`page`), and the crawl with its provenance (`crawl`)."""

from .crawl import STATUSES, CollectSummary, Result, collect, downloads_dir
from .fetch import USER_AGENT, FetchError, PoliteClient

__all__ = ["STATUSES", "USER_AGENT", "CollectSummary", "FetchError", "PoliteClient", "Result", "collect",
           "downloads_dir"]
