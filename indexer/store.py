"""The document store: one SQLite database holding reports, sections, paragraphs and files.

Every index is derived from this store. Reports are written invisibly under the next
generation and made visible in one final transaction (`publish`), so a reader sees the
old corpus or the new one, never a mix, and a killed `index` leaves the last published
state intact. Readers take a snapshot (`with store.snapshot():`) for consistent reads.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import NamedTuple

from .core.deflate import deflate, inflate
from .ids import text_key

STORE_FILE = "store.sqlite"

# The schema as version 1 created it; later versions are the migrations below.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY,
    gen INTEGER NOT NULL,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    title TEXT, agency TEXT, year INTEGER,
    province TEXT, city TEXT, county TEXT, adcode TEXT, template TEXT,
    text TEXT NOT NULL,
    norm_text TEXT NOT NULL,
    added_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_gen ON reports (gen);
CREATE TABLE IF NOT EXISTS sections (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    kind TEXT NOT NULL, heading TEXT NOT NULL, number INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL,
    norm_start INTEGER NOT NULL, norm_end INTEGER NOT NULL,
    PRIMARY KEY (report_id, ord)
);
CREATE TABLE IF NOT EXISTS paragraphs (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    section_ord INTEGER NOT NULL,
    ord INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL,
    PRIMARY KEY (report_id, section_ord, ord)
);
CREATE TABLE IF NOT EXISTS indicators (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    key TEXT NOT NULL, label TEXT NOT NULL, unit TEXT, value REAL, note TEXT,
    PRIMARY KEY (report_id, key)
);
CREATE TABLE IF NOT EXISTS check_failures (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    check_key TEXT NOT NULL, cells TEXT NOT NULL, message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS check_failures_report ON check_failures (report_id);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL,
    report_id TEXT,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS files_report ON files (report_id);
"""

_COLLECT_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    url TEXT PRIMARY KEY,
    linked_from TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    first_seen TEXT NOT NULL,
    last_checked TEXT NOT NULL,
    removed_at TEXT
);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL REFERENCES sources (url),
    retrieved TEXT NOT NULL,
    final_url TEXT, last_modified TEXT, etag TEXT, published TEXT, title TEXT,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    report_id TEXT
);
CREATE INDEX IF NOT EXISTS versions_url ON versions (url);
CREATE INDEX IF NOT EXISTS versions_report ON versions (report_id);
CREATE TABLE IF NOT EXISTS watches (
    name TEXT PRIMARY KEY,
    query TEXT NOT NULL,
    filters TEXT NOT NULL,
    created TEXT NOT NULL,
    last_run TEXT,
    seen TEXT NOT NULL DEFAULT '{}'
);
"""

# Agency aliases (user data: kept across re-indexing, keyed by agency keys, not report ids), and the
# history layer's derived caches: the template sentences (per visible generation) and each report's
# sentence fingerprints (dropped with the report); reports by region, for one agency's reports.
_HISTORY_SCHEMA = """
CREATE TABLE IF NOT EXISTS agency_aliases (alias TEXT PRIMARY KEY, target TEXT NOT NULL, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS history_cache (name TEXT PRIMARY KEY, gen INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS reports_adcode ON reports (adcode);
CREATE TABLE IF NOT EXISTS history_prints (
    report_id TEXT PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
    prints BLOB NOT NULL, chars BLOB NOT NULL
);
"""

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = []
"""Schema changes in order; a store's `schema_version` in `meta` counts those applied to it."""
migration = MIGRATIONS.append


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT OR IGNORE INTO meta VALUES ('visible_gen', '0')")


@migration
def m002_pages(db: sqlite3.Connection) -> None:
    """Where each page starts in `text` and the pages read by OCR, as JSON; NULL for reports
    indexed before, until their file is read again."""
    db.execute("ALTER TABLE reports ADD COLUMN pages TEXT")
    db.execute("ALTER TABLE reports ADD COLUMN ocr_pages TEXT")


@migration
def m003_collect(db: sqlite3.Connection) -> None:
    """`nianbao collect`'s provenance (sources and their versions) and `nianbao watch`'s saved searches."""
    for statement in _COLLECT_SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


@migration
def m004_history(db: sqlite3.Connection) -> None:
    """Agency aliases (user data: kept across re-indexing, keyed by agency keys, not report ids) and
    the history layer's derived cache (`indexer.history`)."""
    for statement in _HISTORY_SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


@migration
def m005_report_metadata_and_corrections(db: sqlite3.Connection) -> None:
    """Metadata fields the parser may fill, the versions a report was derived with (NULL: before
    versions were kept, so stale), the key duplicates are found by, and corrections kept apart
    from what is derived."""
    have = {r[1] for r in db.execute("PRAGMA table_info(reports)")}  # a development build may have added some
    for column in ("level TEXT", "edition TEXT", "published TEXT", "evidence TEXT",
                   "parser_version INTEGER", "normalizer_version INTEGER", "text_key TEXT"):
        if column.split()[0] not in have:
            db.execute(f"ALTER TABLE reports ADD COLUMN {column}")
    db.create_function("text_key", 1, text_key, deterministic=True)
    db.execute("UPDATE reports SET text_key = text_key(text)")
    db.execute("CREATE INDEX IF NOT EXISTS reports_text_key ON reports (text_key)")
    db.execute("CREATE TABLE IF NOT EXISTS corrections (report_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT,"
               " edited_at REAL NOT NULL, PRIMARY KEY (report_id, field))")
    db.execute("INSERT OR IGNORE INTO meta VALUES ('edits', '0')")


def pack(text: str) -> bytes:
    """A text as the store keeps it: UTF-8, deflated (Chinese text takes under half the room).

    Deflated fast (core.deflate): the build's workers deflate every text. Any level and either
    library reads back the same, so stores written at zlib's level 6 or 1 stay valid."""
    return deflate(text.encode())


def unpack(blob: bytes) -> str:
    return inflate(blob).decode()


def paragraph_pieces(text: str, source: str) -> tuple[str | None, str | None]:
    """(text, pieces) as the store keeps a paragraph whose span of the report text is `source`:
    (None, None) where it is that span as it is (tables, most prose); else pieces, a JSON list of
    [from, to] spans of `source` and inserted strings, where that rebuilds it (prose whose lines
    the parser joined: the line breaks go, a space may come between two Latin words); else (or
    where the pieces are no shorter) the text itself."""
    if text == source:
        return None, None
    pieces: list = []
    i = j = 0
    while i < len(text):
        if j < len(source) and text[i] == source[j]:
            run = j
            while i < len(text) and j < len(source) and text[i] == source[j]:
                i, j = i + 1, j + 1
            pieces.append([run, j])
        elif j < len(source) and source[j].isspace():
            j += 1
        elif pieces and isinstance(pieces[-1], str):
            pieces[-1] += text[i]
            i += 1
        else:
            pieces.append(text[i])
            i += 1
    encoded = json.dumps(pieces, ensure_ascii=False, separators=(",", ":"))
    if _assemble(source, pieces) != text or len(encoded.encode()) >= len(text.encode()):
        return text, None
    return None, encoded


def _assemble(source: str, pieces: list) -> str:
    return "".join(p if isinstance(p, str) else source[p[0]:p[1]] for p in pieces)


class _ParagraphText:
    """The SQL function `paragraph_text(text, pieces, report text, start, end)`: a paragraph's text
    from what `paragraph_pieces` kept. A report's paragraphs are read together, so its inflated
    text is kept until the next report's comes."""

    def __init__(self) -> None:
        self._last: tuple[bytes, str] = (b"", "")

    def __call__(self, text: str | None, pieces: str | None, packed: bytes, start: int, end: int) -> str:
        if text is not None:
            return text
        last_packed, report_text = self._last
        if packed != last_packed:
            report_text = unpack(packed)
            self._last = (packed, report_text)
        source = report_text[start:end]
        return source if pieces is None else _assemble(source, json.loads(pieces))


_COMPACT_SCHEMA = """
CREATE TABLE paragraphs_compact (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    section_ord INTEGER NOT NULL,
    ord INTEGER NOT NULL,
    kind TEXT NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL,
    text TEXT, pieces TEXT,
    PRIMARY KEY (report_id, section_ord, ord)
) WITHOUT ROWID;
CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE indicators_compact (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    key_id INTEGER NOT NULL, label_id INTEGER NOT NULL, unit TEXT, value REAL, note TEXT,
    PRIMARY KEY (report_id, ord)
) WITHOUT ROWID;
CREATE TABLE check_failures_compact (
    report_id TEXT PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
    failures BLOB NOT NULL
)
"""


@migration
def m006_compact(db: sqlite3.Connection) -> None:
    """The store at a quarter of its size (113 KB a report at 20,000 synthetic reports before):
    a report's two texts deflated (`pack`; the columns keep their names and hold BLOBs);
    paragraphs as spans of the report text, with their text only where no span gives it
    (`paragraph_pieces`); indicators without a rowid, their keys and labels named once in
    `names`, in the order they were written (`ord`); a report's check failures as one deflated
    JSON list of [check key, cells, message]. Stores of every earlier version are converted in
    place; `Store` runs VACUUM afterwards to give the room back."""
    for statement in _COMPACT_SCHEMA.split(";"):
        db.execute(statement)
    for report_id, report_text in db.execute("SELECT id, text FROM reports"):  # one report's rows at a time
        db.executemany("INSERT INTO paragraphs_compact VALUES (?,?,?,?,?,?,?,?)", [
            (report_id, section_ord, ord_, kind, start, end, *paragraph_pieces(text, report_text[start:end]))
            for section_ord, ord_, kind, text, start, end in db.execute(
                "SELECT section_ord, ord, kind, text, start, end FROM paragraphs WHERE report_id = ?", (report_id,))])
    db.execute("INSERT OR IGNORE INTO names (name) SELECT key FROM indicators UNION SELECT label FROM indicators")
    db.execute("INSERT INTO indicators_compact SELECT i.report_id,"
               " row_number() OVER (PARTITION BY i.report_id ORDER BY i.rowid) - 1, k.id, l.id, i.unit, i.value, i.note"
               " FROM indicators i JOIN names k ON k.name = i.key JOIN names l ON l.name = i.label"
               " WHERE i.report_id IN (SELECT id FROM reports)")  # a damaged store may hold rows of no report
    rows = db.execute("SELECT report_id, check_key, cells, message FROM check_failures"
                      " WHERE report_id IN (SELECT id FROM reports) ORDER BY report_id, rowid")
    for report_id, failures in groupby(rows, key=lambda row: row[0]):
        db.execute("INSERT INTO check_failures_compact VALUES (?, ?)",
                   (report_id, _pack_failures([list(row[1:]) for row in failures])))
    for table in ("paragraphs", "indicators", "check_failures"):
        db.execute(f"DROP TABLE {table}")
        db.execute(f"ALTER TABLE {table}_compact RENAME TO {table}")
    db.create_function("pack", 1, pack, deterministic=True)
    db.execute("UPDATE reports SET text = pack(text), norm_text = pack(norm_text)")


def _pack_failures(failures: list) -> bytes:
    return pack(json.dumps(failures, ensure_ascii=False))


def _in_writing_order(indicators: list[tuple]) -> list[tuple]:
    """A report's indicator rows as the store kept them when a later row with a key replaced an
    earlier one: each key once, where it came last."""
    last = {row[1]: n for n, row in enumerate(indicators)}
    return [row for n, row in enumerate(indicators) if last[row[1]] == n]


@migration
def m007_files_parser_version(db: sqlite3.Connection) -> None:
    """The parser version that judged a skipped file (the gate, or a parse that failed): a later
    parser judges it again. NULL: skipped before versions were kept, so judged again."""
    db.execute("ALTER TABLE files ADD COLUMN parser_version INTEGER")


SCHEMA_VERSION = len(MIGRATIONS)
VACUUM_AFTER = 6
"""A store migrated across this version is vacuumed: the conversion leaves two thirds of the file free."""


# A paragraph's text, where its row is `p` and its report's `reports` (see `m006_compact`).
_PARAGRAPH_TEXT = "paragraph_text(p.text, p.pieces, reports.text, p.start, p.end) AS text"
# An indicator row as version 5 kept it, where the indicators are `i`.
_INDICATOR_COLUMNS = ("i.report_id, k.name AS key, l.name AS label, i.unit, i.value, i.note FROM indicators i"
                      " JOIN names k ON k.id = i.key_id JOIN names l ON l.id = i.label_id")
# Check failures, one row each (`f.value`: [check key, cells, message]; `f.key`: its place), of reports `c`.
_FAILURES = "check_failures c, json_each(unpack(c.failures)) f"

# Derived metadata columns, as `Metadata` names them; a field the parser does not fill is NULL.
METADATA_COLUMNS = ("title", "agency", "year", "province", "city", "county", "adcode", "template",
                    "level", "edition", "published", "evidence")
REPORT_FIELDS = ("id", "source", "sha256", "title", "agency", "year", "province", "city", "county",
                 "adcode", "template", "level", "edition", "published")
# The fields a person may correct (`nianbao edit`); their corrections win wherever reports are read.
EDITABLE = ("agency", "year", "province", "city", "county", "level", "edition", "published")


class StoreError(Exception):
    """The store cannot be opened or is from an incompatible version."""


MAX_VARIABLES = 900
"""Values bound in one statement: under the 999 that SQLite builds before 3.32 accept. Every
long `IN (...)` list is read in chunks that fit (`_chunks`), the one chunking rule of the store."""


def _chunks(items: Sequence, per_item: int = 1) -> Iterator[Sequence]:
    """`items` in slices whose values (`per_item` each) fit one statement."""
    size = max(1, MAX_VARIABLES // per_item)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _marks(items: Sized) -> str:
    """The `?,?,…` of an `IN (...)` list of `items`."""
    return ",".join("?" * len(items))


@dataclass
class FileRecord:
    path: str
    name: str
    size: int
    mtime_ns: int
    sha256: str
    report_id: str | None  # None for a file that was skipped
    reason: str | None = None
    parser_version: int | None = None  # of the parser that turned a skipped file away


def _file_record(row: sqlite3.Row) -> FileRecord:
    return FileRecord(row["path"], row["name"], row["size"], row["mtime_ns"], row["sha256"], row["report_id"], row["reason"],
                      row["parser_version"])


def effective_fields(row: sqlite3.Row | dict, corrections: dict[str, str | None] | None) -> dict:
    """A report's fields as everything reads them: the derived values with its corrections applied."""
    fields = {name: row[name] for name in REPORT_FIELDS}
    for name, value in (corrections or {}).items():
        fields[name] = int(value) if name == "year" and value is not None else value
    return fields


def report_json(row: sqlite3.Row | dict, corrections: dict[str, str | None] | None = None) -> dict:
    """The stable JSON shape of a report (`reports --json`), corrections applied and named."""
    fields = effective_fields(row, corrections)
    return {
        "id": fields["id"],
        "source": fields["source"],
        "sha256": fields["sha256"],
        "title": fields["title"],
        "agency": fields["agency"],
        "year": fields["year"],
        "region": {"province": fields["province"], "city": fields["city"], "county": fields["county"]},
        "adcode": fields["adcode"],
        "template": fields["template"],
        "level": fields["level"],
        "edition": fields["edition"],
        "published": fields["published"],
        "corrected": sorted(corrections or {}),
    }




# What deriving a report again from its stored text leaves as it was: its identity, its text and
# where the file's pages start (which only reading the file again can tell).
_KEPT_ON_REDERIVING = ("id", "source", "sha256", "text", "pages", "ocr_pages")


class ReportRows(NamedTuple):
    """One report's rows for the store's tables as the store keeps them (`of`), made in a parsing
    worker (`indexing.report_rows`): plain tuples (and the report's row as a dict, by column) cross
    to the writing process several times faster than the objects they come from, and deflating
    there keeps that work out of the one writing process."""

    report: dict  # the reports row without gen and added_at, by column; text and norm_text packed
    sections: list[tuple]
    paragraphs: list[tuple]  # (report id, section ord, ord, kind, start, end, text, pieces)
    indicators: list[tuple]  # (report id, ord, key, label, unit, value, note)
    failures: list[tuple]  # [(report id, its failures packed)], or none

    @classmethod
    def of(cls, report: dict, sections: list[tuple], paragraphs: list[tuple], indicators: list[tuple],
           failures: list[tuple]) -> "ReportRows":
        """The rows of a report in the store's layout (`m006_compact`) from its plain rows: `report`
        with its text and normalised text; paragraphs (report id, section ord, ord, kind, text,
        start, end); indicators (report id, key, label, unit, value, note), a key repeated
        replacing the earlier; failures (report id, check key, cells as JSON, message)."""
        text = report["text"]
        return cls(
            {**report, "text": pack(text), "norm_text": pack(report["norm_text"])},
            sections,
            [(report_id, section_ord, ord_, kind, start, end, *paragraph_pieces(p_text, text[start:end]))
             for report_id, section_ord, ord_, kind, p_text, start, end in paragraphs],
            [(report_id, n, *rest) for n, (report_id, *rest) in enumerate(_in_writing_order(indicators))],
            [(report["id"], _pack_failures([list(row[1:]) for row in failures]))] if failures else [],
        )

    def renamed(self, report_id: str) -> "ReportRows":
        """The same rows under another id (a stored report's, which never changes)."""
        return ReportRows({**self.report, "id": report_id},
                          *([(report_id, *row[1:]) for row in rows] for rows in self[1:]))


class Store:
    """One SQLite file; open it with `Store(index_dir)`."""

    def __init__(self, index_dir: Path, *, create: bool = True) -> None:
        self.index_dir = Path(index_dir)
        self.path = self.index_dir / STORE_FILE
        if not create and not self.path.exists():
            raise StoreError(f"no index at {self.index_dir} (run `nianbao index PATH` first)")
        self.index_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.create_function("unpack", 1, unpack, deterministic=True)
            self.db.create_function("paragraph_text", 5, _ParagraphText(), deterministic=True)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from None

    def _schema_version(self) -> int:
        if not self.db.execute("SELECT name FROM sqlite_master WHERE name='meta'").fetchone():
            return 0
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        """Apply the migrations this store lacks, each in its own transaction with its version."""
        if self._schema_version() > SCHEMA_VERSION:
            raise StoreError(f"the store {self.path} has schema version {self._schema_version()}, newer than this "
                             f"nianbao's {SCHEMA_VERSION}; upgrade nianbao")
        vacuum = 0 < self._schema_version() < VACUUM_AFTER <= SCHEMA_VERSION  # a fresh store has no room to give
        while self._schema_version() < SCHEMA_VERSION:
            with self.transaction() as db:
                version = self._schema_version()  # another process may have migrated meanwhile
                if version < SCHEMA_VERSION:
                    MIGRATIONS[version](db)
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(version + 1),))
        if vacuum:
            try:
                self.db.execute("VACUUM")
            except sqlite3.OperationalError:  # a reader holds the file: the room comes back at the next VACUUM
                pass

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator["Store"]:
        """All reads inside see one published state, even while `index` writes."""
        if self.db.in_transaction:
            yield self
            return
        self.db.execute("BEGIN")
        try:
            self.visible_gen()
            yield self
        finally:
            self.db.execute("COMMIT")

    def visible_gen(self) -> int:
        return int(self.db.execute("SELECT value FROM meta WHERE key='visible_gen'").fetchone()[0])

    def version(self) -> tuple[int, int]:
        """(visible generation, corrections made): what a reader's cached reports depend on."""
        rows = dict(self.db.execute("SELECT key, value FROM meta WHERE key IN ('visible_gen', 'edits')").fetchall())
        return int(rows["visible_gen"]), int(rows.get("edits", 0))

    # --- reading ------------------------------------------------------------------------
    #
    # Who sees what, in one place: a listing (every report, every section of a kind, every
    # paragraph) holds the published generation only (`_visible`); a lookup by report id reads
    # what the id names whatever its generation, because its caller got the id from a listing or
    # is writing that report now. Reports an older parser or normaliser derived (stale, see
    # `stale_report_ids`) are visible until derived again; duplicates never become reports
    # (`indexing` finds them by `text_key`). Long id lists are read in `_chunks`.

    def _visible(self, alias: str = "reports") -> str:
        return f"{alias}.gen <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key='visible_gen')"

    def report_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute(f"SELECT id FROM reports WHERE {self._visible()} ORDER BY id")]

    def count_reports(self) -> int:
        return self.db.execute(f"SELECT count(*) FROM reports WHERE {self._visible()}").fetchone()[0]

    def reports(self, ids: Iterable[str] | None = None) -> list[dict]:
        """Visible reports in the `reports --json` shape, corrections applied, by year then agency.

        Every reader of a report's metadata (filters, facets, search results, statistics) comes
        through here or `report`, so a correction shows everywhere."""
        sql = f"SELECT {', '.join(REPORT_FIELDS)} FROM reports WHERE {self._visible()}"
        if ids is None:
            rows = self.db.execute(sql).fetchall()
        else:
            ids = list(ids)
            rows = [r for part in _chunks(ids) for r in self.db.execute(sql + f" AND id IN ({_marks(part)})", part)]
        corrections = self.corrections()
        found = [report_json(r, corrections.get(r["id"])) for r in rows]
        return self._with_provenance(sorted(found, key=lambda r: (-(r["year"] or 0), r["agency"] or "", r["id"])))

    def report_extras(self, ids: Iterable[str]) -> dict[str, dict]:
        """report id → its page count (None: no pages) and the evidence of its fields, for
        `reports --json`; apart from `reports` so filters and facets do not parse them."""
        ids = list(ids)
        out: dict[str, dict] = {}
        for part in _chunks(ids):
            for row in self.db.execute(f"SELECT id, pages, evidence FROM reports WHERE id IN ({_marks(part)})", part):
                out[row["id"]] = {"pages": len(json.loads(row["pages"])) if row["pages"] else None,
                                  "evidence": json.loads(row["evidence"]) if row["evidence"] else None}
        return out

    def reports_in_regions(self, adcodes: Iterable[str | None]) -> list[dict]:
        """Visible reports whose adcode is one of `adcodes` (None: reports of unknown region), in the
        `reports --json` shape without the provenance fields (one agency's history needs none)."""
        adcodes = list(adcodes)
        codes = [c for c in adcodes if c is not None]
        where = [f"adcode IN ({_marks(codes)})"] if codes else []
        if None in adcodes:
            where.append("adcode IS NULL")
        if not where:
            return []
        sql = f"SELECT {', '.join(REPORT_FIELDS)} FROM reports WHERE {self._visible()} AND ({' OR '.join(where)})"
        return [report_json(r) for r in self.db.execute(sql + " ORDER BY year DESC, agency, id", codes)]

    def report(self, report_id: str) -> dict | None:
        """One report with its sections (`show --json`); a unique id prefix is accepted. `derived`
        holds the correctable fields as derived, before corrections; `evidence` what the parser
        read them from, where it says."""
        full_id = self.resolve_id(report_id)
        if full_id is None:
            return None
        row = self.db.execute("SELECT * FROM reports WHERE id=?", (full_id,)).fetchone()
        result = self._with_provenance([report_json(row, self.corrections().get(full_id))])[0]
        result["derived"] = {name: row[name] for name in EDITABLE}
        result["evidence"] = json.loads(row["evidence"]) if row["evidence"] else None
        text = unpack(row["text"])
        result["sources"] = [r[0] for r in self.db.execute(
            "SELECT path FROM files WHERE report_id=? ORDER BY path", (row["id"],))]
        result["sections"] = [
            {"kind": s["kind"], "heading": s["heading"], "text": text[s["start"]:s["end"]]}
            for s in self.db.execute("SELECT * FROM sections WHERE report_id=? ORDER BY ord", (row["id"],))
        ]
        result["pages"] = len(json.loads(row["pages"])) if row["pages"] else None
        result["ocr_pages"] = json.loads(row["ocr_pages"]) if row["ocr_pages"] else []
        return result

    def page_starts(self, ids: Iterable[str]) -> dict[str, list[int] | None]:
        """report id → where each of its pages starts in its text; None where pages are unknown."""
        ids = list(ids)
        out: dict[str, list[int] | None] = {}
        for part in _chunks(ids):
            for r in self.db.execute(f"SELECT id, pages FROM reports WHERE id IN ({_marks(part)})", part):
                out[r[0]] = json.loads(r[1]) if r[1] else None
        return out

    def source_files(self, report_id: str) -> list[FileRecord]:
        """The files a report was read from, by path."""
        return [_file_record(r) for r in self.db.execute("SELECT * FROM files WHERE report_id=? ORDER BY path", (report_id,))]

    def resolve_id(self, prefix: str) -> str | None:
        """The full id for an id or a unique prefix of one; None if unknown or ambiguous."""
        if not prefix:
            return None
        rows = self.db.execute(
            f"SELECT id FROM reports WHERE substr(id, 1, ?) = ? AND {self._visible()} LIMIT 2", (len(prefix), prefix)
        ).fetchall()
        return rows[0][0] if len(rows) == 1 else None

    def corrections(self) -> dict[str, dict[str, str | None]]:
        """report id → {field: corrected value (None: corrected to unknown)}."""
        out: dict[str, dict[str, str | None]] = {}
        for report_id, name, value in self.db.execute("SELECT report_id, field, value FROM corrections"):
            out.setdefault(report_id, {})[name] = value
        return out

    def stale_report_ids(self, versions: tuple[int, int]) -> list[str]:
        """Visible reports derived by another parser or normaliser version than `versions`."""
        return [r[0] for r in self.db.execute(
            f"SELECT id FROM reports WHERE {self._visible()} AND (parser_version IS NOT ? OR normalizer_version IS NOT ?)"
            " ORDER BY id", versions)]

    def report_sources(self, ids: Iterable[str]) -> dict[str, tuple[str, str, str]]:
        """report id → (source, file sha256, original text), for deriving it again."""
        ids = list(ids)
        out = {}
        for part in _chunks(ids):
            out.update((r[0], tuple(r[1:])) for r in self.db.execute(
                f"SELECT id, source, sha256, unpack(text) FROM reports WHERE id IN ({_marks(part)})", part))
        return out

    def legacy_ids(self) -> dict[str, str]:
        """text key → id of each report whose id an older rule gave (see `ids`): a new file with
        the same text is that report, not a second one."""
        return dict(self.db.execute("SELECT text_key, id FROM reports WHERE substr(text_key, 1, 16) != id").fetchall())

    def texts(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """report id → (original text, normalised text)."""
        ids = list(ids)
        out: dict[str, tuple[str, str]] = {}
        for part in _chunks(ids):
            for r in self.db.execute(f"SELECT id, unpack(text), unpack(norm_text) FROM reports WHERE id IN ({_marks(part)})",
                                     part):
                out[r[0]] = (r[1], r[2])
        return out

    def original_texts(self, ids: Iterable[str]) -> dict[str, str]:
        """report id → its original text (the normalised one left unread: a results page needs only this)."""
        ids = list(ids)
        return {r[0]: r[1] for part in _chunks(ids)
                for r in self.db.execute(f"SELECT id, unpack(text) FROM reports WHERE id IN ({_marks(part)})", part)}

    def norm_texts(self, ids: Iterable[str] | None = None) -> Iterator[tuple[str, str]]:
        """(report id, normalised text) of every visible report in storage order, or of `ids`
        (in no particular order), streamed."""
        if ids is None:
            yield from self.db.execute(f"SELECT id, unpack(norm_text) AS norm_text FROM reports WHERE {self._visible()}")
            return
        ids = list(ids)
        for part in _chunks(ids):
            yield from self.db.execute(f"SELECT id, unpack(norm_text) AS norm_text FROM reports WHERE id IN ({_marks(part)})",
                                       part)

    def sections(self, report_id: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM sections WHERE report_id=? ORDER BY ord", (report_id,)).fetchall()

    def section_bounds(self, ids: Iterable[str] | None = None) -> dict[str, list[tuple[int, int, str]]]:
        """report id → [(norm_start, norm_end, kind)] for every visible report, or for `ids`."""
        out: dict[str, list[tuple[int, int, str]]] = {}
        if ids is None:
            rows = self.db.execute(
                f"SELECT s.report_id, s.norm_start, s.norm_end, s.kind FROM sections s JOIN reports ON reports.id = s.report_id"
                f" WHERE {self._visible()} ORDER BY s.report_id, s.ord")
        else:
            ids = list(ids)
            rows = (r for part in _chunks(ids) for r in self.db.execute(
                f"SELECT report_id, norm_start, norm_end, kind FROM sections WHERE report_id IN ({_marks(part)})"
                f" ORDER BY report_id, ord", part))
        for r in rows:
            out.setdefault(r[0], []).append((r[1], r[2], r[3]))
        return out

    def paragraphs(self, report_ids: Iterable[str] | None = None, kind: str = "prose") -> list[sqlite3.Row]:
        """Paragraphs of `kind` of visible reports (or of those of `report_ids`) with their
        section kind (`section_kind`), in reading order, for the semantic layer."""
        sql = (f"SELECT p.report_id, p.section_ord, p.ord, p.kind, {_PARAGRAPH_TEXT}, s.kind AS section_kind"
               f" FROM paragraphs p JOIN sections s ON s.report_id = p.report_id AND s.ord = p.section_ord"
               f" JOIN reports ON reports.id = p.report_id WHERE {self._visible()} AND p.kind = ?")
        order = " ORDER BY p.report_id, p.section_ord, p.ord"
        if report_ids is None:
            return self.db.execute(sql + order, (kind,)).fetchall()
        ids = sorted(set(report_ids))  # sorted, so that chunk after chunk is reading order
        return [r for part in _chunks(ids)
                for r in self.db.execute(sql + f" AND p.report_id IN ({_marks(part)})" + order, [kind, *part])]

    def report_paragraphs(self, report_id: str) -> list[sqlite3.Row]:
        """Every paragraph of one report, prose and tables (section_ord, ord, kind, text), in reading order."""
        return self.db.execute(f"SELECT p.section_ord, p.ord, p.kind, {_PARAGRAPH_TEXT} FROM paragraphs p"
                               f" JOIN reports ON reports.id = p.report_id WHERE p.report_id=?"
                               f" ORDER BY p.section_ord, p.ord", (report_id,)).fetchall()

    def paragraph_runs(self, runs: Iterable[tuple[str, int, int, int]]) -> dict[tuple[str, int, int], tuple[str, str]]:
        """(report id, section ord, paragraph ord) → (paragraph kind, text) of each paragraph in the
        runs (report id, section ord, first paragraph ord, last paragraph ord), both ends included."""
        runs = sorted(set(runs))
        out: dict[tuple[str, int, int], tuple[str, str]] = {}
        for part in _chunks(runs, per_item=4):
            clause = " OR ".join("(p.report_id=? AND p.section_ord=? AND p.ord BETWEEN ? AND ?)" for _ in part)
            for r in self.db.execute(f"SELECT p.report_id, p.section_ord, p.ord, p.kind, {_PARAGRAPH_TEXT} FROM paragraphs p"
                                     f" JOIN reports ON reports.id = p.report_id WHERE {clause}",
                                     [v for run in part for v in run]):
                out[(r[0], r[1], r[2])] = (r[3], r[4])
        return out

    def section_headings(self) -> dict[tuple[str, int], str]:
        """(report id, section ord) → heading of every section of the visible reports."""
        return {(r[0], r[1]): r[2] for r in self.db.execute(
            f"SELECT s.report_id, s.ord, s.heading FROM sections s JOIN reports ON reports.id = s.report_id"
            f" WHERE {self._visible()}")}

    def section_counts(self) -> dict[str, int]:
        """report id → how many sections it has, for every visible report that has one."""
        return dict(self.db.execute(
            f"SELECT s.report_id, count(*) FROM sections s JOIN reports ON reports.id = s.report_id"
            f" WHERE {self._visible()} GROUP BY s.report_id").fetchall())

    def report_ids_with_section(self, kind: str) -> list[str]:
        """Visible reports having at least one section of `kind`, by id."""
        return [r[0] for r in self.db.execute(
            f"SELECT DISTINCT s.report_id FROM sections s JOIN reports ON reports.id = s.report_id"
            f" WHERE s.kind = ? AND {self._visible()} ORDER BY s.report_id", (kind,))]

    def indicators(self, report_id: str) -> list[sqlite3.Row]:
        """A report's indicators (report_id, key, label, unit, value, note) in the order they were read."""
        return self.db.execute(f"SELECT {_INDICATOR_COLUMNS} WHERE i.report_id=? ORDER BY i.ord", (report_id,)).fetchall()

    def indicator_values(self) -> Iterator[tuple[str, str, float | None]]:
        """(report id, indicator key, value) for every indicator of every visible report."""
        yield from self.db.execute(f"SELECT i.report_id, k.name AS key, i.value FROM indicators i"
                                   f" JOIN names k ON k.id = i.key_id"
                                   f" JOIN reports ON reports.id = i.report_id WHERE {self._visible()}")

    def failed_checks(self) -> list[tuple[str, str, str]]:
        """(report id, check key, message) of every visible report's failed checks, without their cells.

        Each report's list is parsed here, not by SQLite's `json_each`: at 20,000 reports 4.0 s
        of CPU through SQL against 2.8 s here (most of it is inflating and parsing the cells)."""
        rows = self.db.execute(f"SELECT c.report_id, c.failures FROM check_failures c"
                               f" JOIN reports ON reports.id = c.report_id WHERE {self._visible()}"
                               f" ORDER BY c.report_id")
        return [(report_id, key, message) for report_id, blob in rows for key, _, message in json.loads(unpack(blob))]

    def check_failures(self, report_id: str | None = None) -> list[sqlite3.Row]:
        """Failed checks (report_id, check_key, cells as JSON, message) of visible reports, or of one."""
        sql = (f"SELECT c.report_id, json_extract(f.value, '$[0]') AS check_key, json_extract(f.value, '$[1]') AS cells,"
               f" json_extract(f.value, '$[2]') AS message FROM {_FAILURES}"
               f" JOIN reports ON reports.id = c.report_id WHERE {self._visible()}")
        params: tuple = ()
        if report_id:
            sql += " AND c.report_id = ?"
            params = (report_id,)
        return self.db.execute(sql + " ORDER BY c.report_id, f.key", params).fetchall()

    def files(self) -> dict[str, FileRecord]:
        return {r["path"]: _file_record(r) for r in self.db.execute("SELECT * FROM files")}

    def prose_rows(self, report_ids: list[str] | None = None) -> Iterator[tuple[str, int, str, str]]:
        """(report id, section ord, section kind, text) of each prose paragraph of visible reports (or
        of `report_ids`), in reading order, streamed: every report's prose at once is too much to hold."""
        sql = (f"SELECT p.report_id, p.section_ord, s.kind, {_PARAGRAPH_TEXT} FROM paragraphs p"
               f" JOIN sections s ON s.report_id = p.report_id AND s.ord = p.section_ord"
               f" JOIN reports ON reports.id = p.report_id WHERE {self._visible()} AND p.kind = 'prose'")
        if report_ids is None:
            yield from self.db.execute(sql + " ORDER BY p.report_id, p.section_ord, p.ord")
            return
        for part in _chunks(sorted(set(report_ids))):  # sorted, so that chunk after chunk is reading order
            yield from self.db.execute(sql + f" AND p.report_id IN ({_marks(part)}) ORDER BY p.report_id, p.section_ord, p.ord",
                                       part)

    def agency_aliases(self) -> dict[str, str]:
        """Agency key → the agency key it is joined into (`nianbao agency alias`)."""
        return dict(self.db.execute("SELECT alias, target FROM agency_aliases").fetchall())

    def set_agency_alias(self, alias: str, target: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO agency_aliases VALUES (?,?,?)", (alias, target, time.time()))

    def remove_agency_alias(self, alias: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM agency_aliases WHERE alias=?", (alias,))

    def history_cache(self, name: str, gen: int) -> bytes | None:
        """A derived blob saved for generation `gen`; None when absent or saved for another one."""
        row = self.db.execute("SELECT data FROM history_cache WHERE name=? AND gen=?", (name, gen)).fetchone()
        return row[0] if row else None

    def save_history_cache(self, name: str, gen: int, data: bytes) -> None:
        """Save a derived blob; skipped inside a read snapshot, which cannot write (it is only a cache)."""
        if self.db.in_transaction:
            return
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO history_cache VALUES (?,?,?)", (name, gen, data))

    def drop_history_caches(self) -> None:
        """Forget the history layer's derived data (it is recomputed on demand)."""
        with self.transaction() as db:
            db.execute("DELETE FROM history_cache")
            db.execute("DELETE FROM history_prints")

    def history_prints(self, report_ids: list[str]) -> dict[str, tuple[bytes, bytes]]:
        """report id → its saved sentence fingerprints and lengths (`indexer.history`), where saved."""
        out: dict[str, tuple[bytes, bytes]] = {}
        for part in _chunks(report_ids):
            for r in self.db.execute(f"SELECT report_id, prints, chars FROM history_prints WHERE report_id IN ({_marks(part)})",
                                     part):
                out[r[0]] = (r[1], r[2])
        return out

    def save_history_prints(self, rows: list[tuple[str, bytes, bytes]]) -> None:
        """Save reports' fingerprints; skipped inside a read snapshot (it is only a cache)."""
        if self.db.in_transaction or not rows:
            return
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO history_prints SELECT ?, ?, ? WHERE EXISTS"
                           " (SELECT 1 FROM reports WHERE id = ?)", [(*row, row[0]) for row in rows])

    # --- checking (`nianbao doctor`) ------------------------------------------------------

    def integrity_check(self) -> list[str]:
        """SQLite's quick check of the file: `["ok"]`, else what is damaged (or why it cannot be checked)."""
        try:
            return [r[0] for r in self.db.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            return [str(exc)]

    def unpublished_ids(self) -> list[str]:
        """Reports written under a generation never published (a killed `index` leaves them), by id."""
        return [r[0] for r in self.db.execute(f"SELECT id FROM reports WHERE NOT ({self._visible()}) ORDER BY id")]

    def dangling_file_paths(self) -> list[str]:
        """Files recorded as read into a report the store does not hold, by path."""
        return [r[0] for r in self.db.execute(
            "SELECT path FROM files WHERE report_id IS NOT NULL AND report_id NOT IN (SELECT id FROM reports)"
            " ORDER BY path")]

    def orphan_report_ids(self) -> list[str]:
        """Published reports that no file refers to, by id."""
        return [r[0] for r in self.db.execute(
            f"SELECT id FROM reports WHERE {self._visible()} AND id NOT IN"
            f" (SELECT report_id FROM files WHERE report_id IS NOT NULL) ORDER BY id")]

    def forget(self, file_paths: Iterable[str] = (), report_ids: Iterable[str] = ()) -> None:
        """Drop file records and reports (their rows in every table go with them) in one transaction."""
        with self.transaction() as db:
            db.executemany("DELETE FROM files WHERE path=?", [(p,) for p in file_paths])
            db.executemany("DELETE FROM reports WHERE id=?", [(i,) for i in report_ids])

    # --- writing ------------------------------------------------------------------------

    def discard_unpublished(self) -> list[str]:
        """Drop reports a killed `index` wrote but never published; returns their ids."""
        with self.transaction() as db:
            gen = self.visible_gen()
            ids = [r[0] for r in db.execute("SELECT id FROM reports WHERE gen > ?", (gen,))]
            db.execute("DELETE FROM reports WHERE gen > ?", (gen,))
        return ids

    def add_reports(self, items: list[ReportRows], gen: int) -> None:
        """Insert reports' rows (from `indexing.report_rows`) invisibly under generation `gen`."""
        now = time.time()
        with self.transaction() as db:
            names = _names(db)
            for rows in items:
                if db.execute("SELECT 1 FROM reports WHERE id=?", (rows.report["id"],)).fetchone():
                    continue
                _insert(db, "reports", {**rows.report, "gen": gen, "added_at": now})
                _insert_derived(db, rows, names)

    def replace_derived(self, items: list[ReportRows]) -> None:
        """Put reports derived again from their stored text in place of what they were derived
        as before, in one transaction, keeping each report's id, generation, files and corrections;
        then bump the visible generation so that readers reload them."""
        with self.transaction() as db:
            names = _names(db)
            for rows in items:
                report_id = rows.report["id"]
                for table in ("sections", "paragraphs", "indicators", "check_failures"):
                    db.execute(f"DELETE FROM {table} WHERE report_id=?", (report_id,))
                derived = {k: v for k, v in rows.report.items() if k not in _KEPT_ON_REDERIVING}
                db.execute(f"UPDATE reports SET {', '.join(f'{k}=?' for k in derived)} WHERE id=?",
                           (*derived.values(), report_id))
                _insert_derived(db, rows, names)
            db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='visible_gen'")

    def set_corrections(self, report_id: str, values: dict[str, str | None], reset: Iterable[str] = ()) -> None:
        """Record corrections (None: the field is unknown) and drop those named in `reset`.
        They are kept apart from derived values, so indexing and re-deriving never touch them."""
        now = time.time()
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO corrections VALUES (?, ?, ?, ?)",
                           [(report_id, name, value, now) for name, value in values.items()])
            db.executemany("DELETE FROM corrections WHERE report_id=? AND field=?", [(report_id, n) for n in reset])
            db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='edits'")

    def publish(self, gen: int, files: list[FileRecord], gone_paths: list[str]) -> list[str]:
        """Make generation `gen` visible: record files, drop reports no file refers to. Returns removed ids."""
        with self.transaction() as db:
            db.executemany("DELETE FROM files WHERE path=?", [(p,) for p in gone_paths])
            db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?)",
                [(f.path, f.name, f.size, f.mtime_ns, f.sha256, f.report_id, f.reason, f.parser_version) for f in files],
            )
            orphans = [r[0] for r in db.execute(
                "SELECT id FROM reports WHERE id NOT IN (SELECT report_id FROM files WHERE report_id IS NOT NULL)")]
            db.executemany("DELETE FROM reports WHERE id=?", [(i,) for i in orphans])
            # A report's `source` names one of its files; keep it pointing at one that still exists.
            db.execute(
                "UPDATE reports SET source = (SELECT name FROM files WHERE files.report_id = reports.id ORDER BY path LIMIT 1)"
                " WHERE source NOT IN (SELECT name FROM files WHERE files.report_id = reports.id)"
            )
            db.execute("UPDATE meta SET value=? WHERE key='visible_gen'", (str(gen),))
        return orphans

    # --- collected sources and saved searches -------------------------------------------

    def _with_provenance(self, reports: list[dict]) -> list[dict]:
        """Each report with where it was collected from (`collect`); None and [] for a local file."""
        found = self.provenance([r["id"] for r in reports])
        for r in reports:
            p = found.get(r["id"], {})
            r.update(source_url=p.get("url"), source_status=p.get("status"), retrieved=p.get("retrieved"),
                     versions=p.get("versions", []))
            if "published" not in r["corrected"]:  # the source's date, else the one the text gives
                r["published"] = p.get("published") or r["published"]
        return reports

    def provenance(self, report_ids: Iterable[str]) -> dict[str, dict]:
        """report id → its source (url, status, retrieved, published) and every version of that source."""
        ids = list(report_ids)
        out: dict[str, dict] = {}
        for part in _chunks(ids):
            rows = self.db.execute(
                f"SELECT v.*, s.status, s.linked_from FROM versions v JOIN sources s ON s.url = v.url"
                f" WHERE v.report_id IN ({_marks(part)}) ORDER BY v.id", part).fetchall()
            for r in rows:  # the latest version holding the report wins
                out[r["report_id"]] = {"url": r["url"], "status": r["status"], "linked_from": r["linked_from"],
                                       "retrieved": r["retrieved"], "published": r["published"],
                                       "versions": self.versions(r["url"])}
        return out

    def versions(self, url: str) -> list[dict]:
        """Every version of a collected source, oldest first."""
        return [{"report_id": r["report_id"], "retrieved": r["retrieved"], "published": r["published"],
                 "title": r["title"], "sha256": r["sha256"], "last_modified": r["last_modified"], "etag": r["etag"],
                 "path": r["path"]}
                for r in self.db.execute("SELECT * FROM versions WHERE url=? ORDER BY id", (url,))]

    def source(self, url: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM sources WHERE url=?", (url,)).fetchone()

    def sources(self, status: str | None = None) -> list[dict]:
        """Collected sources with their latest version's report, optionally of one status."""
        sql = ("SELECT s.*, (SELECT report_id FROM versions v WHERE v.url = s.url ORDER BY id DESC LIMIT 1)"
               " AS report_id, (SELECT count(*) FROM versions v WHERE v.url = s.url) AS n_versions FROM sources s")
        params: tuple = ()
        if status:
            sql += " WHERE s.status = ?"
            params = (status,)
        return [dict(r) for r in self.db.execute(sql + " ORDER BY s.url", params)]

    def sources_linked_from(self, pages: Iterable[str]) -> list[str]:
        pages = list(pages)
        return [r[0] for part in _chunks(pages)
                for r in self.db.execute(f"SELECT url FROM sources WHERE linked_from IN ({_marks(part)})", part)]

    def record_source(self, url: str, linked_from: str | None, status: str, reason: str | None, now: str) -> None:
        """Insert or update a source's state after a check; `removed` keeps the time it was first found gone."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO sources (url, linked_from, status, reason, first_seen, last_checked, removed_at)"
                " VALUES (?,?,?,?,?,?,?) ON CONFLICT (url) DO UPDATE SET"
                " linked_from = coalesce(excluded.linked_from, linked_from), status = excluded.status,"
                " reason = excluded.reason, last_checked = excluded.last_checked,"
                " removed_at = CASE WHEN excluded.status = 'removed' THEN coalesce(removed_at, excluded.last_checked)"
                " ELSE NULL END",
                (url, linked_from, status, reason, now, now, now if status == "removed" else None))

    def add_version(self, url: str, retrieved: str, *, final_url: str | None, last_modified: str | None,
                    etag: str | None, published: str | None, title: str | None, sha256: str, path: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO versions (url, retrieved, final_url, last_modified, etag, published, title,"
                       " sha256, path) VALUES (?,?,?,?,?,?,?,?,?)",
                       (url, retrieved, final_url, last_modified, etag, published, title, sha256, path))

    def link_versions(self, report_by_path: dict[str, str | None]) -> None:
        """Give each downloaded version the report its file became once indexed."""
        with self.transaction() as db:
            db.executemany("UPDATE versions SET report_id=? WHERE path=?",
                           [(rid, path) for path, rid in report_by_path.items()])

    def add_watch(self, name: str, query: str, filters: dict, now: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO watches (name, query, filters, created) VALUES (?,?,?,?)",
                       (name, query, json.dumps(filters, ensure_ascii=False), now))

    def watches(self) -> list[dict]:
        return [{"name": r["name"], "query": r["query"], "filters": json.loads(r["filters"]), "created": r["created"],
                 "last_run": r["last_run"], "seen": json.loads(r["seen"])}
                for r in self.db.execute("SELECT * FROM watches ORDER BY created, name")]

    def remove_watch(self, name: str) -> bool:
        with self.transaction() as db:
            return db.execute("DELETE FROM watches WHERE name=?", (name,)).rowcount > 0

    def watch_ran(self, name: str, seen: dict[str, int], now: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE watches SET seen=?, last_run=? WHERE name=?", (json.dumps(seen), now, name))


class VectorCache:
    """The embedding cache beside the vectors (`indexer.semantic.vectors`), a SQLite file of its
    own: (model id, text key) → vector bytes. Each `save` commits, so a killed run keeps what it
    embedded; nothing here knows what the bytes hold."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, key BLOB NOT NULL,"
                        " vec BLOB NOT NULL, PRIMARY KEY (model, key)) WITHOUT ROWID")

    def find(self, model_id: str, keys: Sequence[bytes]) -> Iterator[tuple[bytes, bytes]]:
        """(key, vector bytes) of each of `keys` cached for `model_id`, in no particular order."""
        for part in _chunks(keys):
            yield from self.db.execute(f"SELECT key, vec FROM vectors WHERE model=? AND key IN ({_marks(part)})",
                                       [model_id, *part])

    def save(self, model_id: str, items: Iterable[tuple[bytes, bytes]]) -> None:
        """Cache (key, vector bytes) pairs for `model_id`, replacing any, in one transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?,?,?)",
                                [(model_id, key, blob) for key, blob in items])
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


def _insert(db: sqlite3.Connection, table: str, row: dict) -> None:
    db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({','.join('?' * len(row))})", tuple(row.values()))


def _names(db: sqlite3.Connection) -> dict[str, int]:
    """Every name of `names` with its id, read inside the writing transaction (no one else adds any)."""
    return dict(db.execute("SELECT name, id FROM names"))


def _insert_derived(db: sqlite3.Connection, rows: ReportRows, names: dict[str, int]) -> None:
    """A report's sections, paragraphs, indicators (their keys and labels named in `names`, which
    `names` holds as the table does: a name new to it is added there, in order of first use) and
    check failures. Looking ids up here, not in SQL, took a third of the store's writing time off."""
    db.executemany("INSERT INTO sections VALUES (?,?,?,?,?,?,?,?,?)", rows.sections)
    db.executemany("INSERT INTO paragraphs VALUES (?,?,?,?,?,?,?,?)", rows.paragraphs)
    for name in dict.fromkeys(n for row in rows.indicators for n in row[2:4]):
        if name not in names:
            names[name] = db.execute("INSERT INTO names (name) VALUES (?)", (name,)).lastrowid
    db.executemany("INSERT INTO indicators VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [(report_id, ord_, names[key], names[label], *rest)
                    for report_id, ord_, key, label, *rest in rows.indicators])
    db.executemany("INSERT INTO check_failures VALUES (?, ?)", rows.failures)
