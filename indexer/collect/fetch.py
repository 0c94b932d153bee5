"""A polite HTTP client for government sites: robots.txt, one request at a time per host with a
delay between them, a User-Agent naming nianbao, timeouts, and retries with backoff.

Requests are made one after another (the collector never runs two at once), so "one connection per
host" holds by construction; the per-host clock below spaces them. Redirects are followed here,
hop by hop, so each hop waits its turn too and is checked against robots.txt.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urljoin, urlsplit

import httpx
from charset_normalizer import from_bytes
from protego import Protego
from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential


def _version() -> str:
    try:
        return version("nianbao")
    except PackageNotFoundError:
        return "0"


USER_AGENT = f"nianbao/{_version()} (+https://github.com/nianbao/nianbao; annual-report collector)"
ROBOTS_AGENT = "nianbao"
MAX_REDIRECTS = 5


class FetchError(Exception):
    """A URL that could not be retrieved; the message is the one-line reason."""


@dataclass
class Fetched:
    url: str  # as asked for
    final_url: str  # after redirects
    status: int  # 200, 304 (not modified), 404, 410 …
    content: bytes
    headers: httpx.Headers
    retrieved: str  # ISO 8601, UTC

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class _Retryable(Exception):
    """A 5xx or 429 answer, worth another try after a pause."""


@dataclass
class PoliteClient:
    delay: float = 1.0  # seconds between two requests to one host (robots.txt's Crawl-delay if longer)
    timeout: float = 30.0
    retries: int = 2  # further tries after a timeout, a dropped connection or a 5xx
    backoff: float = 2.0  # the first pause before a retry; it doubles
    _client: httpx.Client = field(init=False, repr=False)
    _robots: dict[str, Protego | None] = field(default_factory=dict, init=False, repr=False)
    _last: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._client = httpx.Client(headers={"User-Agent": USER_AGENT}, timeout=self.timeout, follow_redirects=False,
                                    limits=httpx.Limits(max_connections=1))

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "PoliteClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def allowed(self, url: str) -> bool:
        """What the site's robots.txt says about this URL (no robots.txt: allowed)."""
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        if host not in self._robots:
            try:
                answer = self._request(f"{host}/robots.txt", {})
                text = answer.text if answer.status_code == 200 else ""
            except FetchError:
                text = ""
            self._robots[host] = Protego.parse(text) if text.strip() else None
        robots = self._robots[host]
        return robots is None or robots.can_fetch(url, ROBOTS_AGENT)

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """GET with redirects; a conditional request when the last copy's ETag or Last-Modified is given."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if not self.allowed(current):
                raise FetchError(f"robots.txt of {urlsplit(current).netloc} forbids {current}")
            response = self._request(current, headers)
            if response.is_redirect and "location" in response.headers:
                current = urljoin(current, response.headers["location"])
                continue
            return Fetched(url, current, response.status_code, response.content, response.headers,
                           datetime.now(timezone.utc).isoformat(timespec="seconds"))
        raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}")

    def _request(self, url: str, headers: dict[str, str]) -> httpx.Response:
        def attempt() -> httpx.Response:
            self._wait_turn(url)
            try:
                response = self._client.get(url, headers=headers)
            finally:
                self._last[urlsplit(url).netloc] = time.monotonic()
            if response.status_code >= 500 or response.status_code == 429:
                raise _Retryable(f"HTTP {response.status_code}")
            return response

        retrying = Retrying(stop=stop_after_attempt(self.retries + 1),
                            wait=wait_exponential(multiplier=self.backoff, max=60),
                            retry=retry_if_exception(lambda e: isinstance(e, (httpx.TransportError, _Retryable))),
                            reraise=False)
        try:
            return retrying(attempt)
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            kind = "timed out" if isinstance(cause, httpx.TimeoutException) else str(cause) or type(cause).__name__
            raise FetchError(f"{url}: {kind} after {self.retries + 1} tries") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: {exc}") from None

    def _wait_turn(self, url: str) -> None:
        host = urlsplit(url).netloc
        robots = self._robots.get(f"{urlsplit(url).scheme}://{host}")
        delay = max(self.delay, (robots.crawl_delay(ROBOTS_AGENT) or 0) if robots else 0)
        last = self._last.get(host)
        if last is not None:
            pause = last + delay - time.monotonic()
            if pause > 0:
                time.sleep(pause)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
# GB2312 and GBK pages routinely hold characters only GB18030 (their superset) names.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030"}


def decode_page(content: bytes, content_type_header: str = "") -> str:
    """A page's text: the charset the server or the page declares, else the one the bytes suggest."""
    declared = None
    match = re.search(r"charset\s*=\s*[\"']?([\w-]+)", content_type_header, re.IGNORECASE)
    if match:
        declared = match.group(1)
    else:
        meta = _META_CHARSET.search(content[:4096])
        declared = meta.group(1).decode("ascii") if meta else None
    if declared:
        encoding = _SUPERSETS.get(declared.lower(), declared)
        try:
            return content.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            pass
    best = from_bytes(content).best()
    if best is not None:
        return str(best)
    return content.decode("utf-8", errors="replace")
