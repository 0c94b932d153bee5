"""The `nianbao` command: parse arguments, call the library, print. Nothing else lives here."""

from __future__ import annotations

import csv
import json
import os
import sys
import textwrap
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import click

from .core import settings
from .core.filters import SearchFilters, is_unknown, value_of
from .core.kinds import SECTION_KINDS, UNKNOWN
from .core.querylang import MODES, SORTS, QueryError
from .ingest import DEFAULT_MAX_BYTES
from .semantic.model import ModelUnavailableError
from .store import Store, StoreError


class CliError(Exception):
    """A runtime failure reported as one line, exit code 1."""


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _echo_json_items(items: Iterable[object]) -> int:
    """A JSON array, as `_echo_json` writes it, one item at a time: `check --json` held 5.9 GB
    as one string at 20,000 synthetic reports. Returns the number of items."""
    count = 0
    for count, item in enumerate(items, 1):
        click.echo(("[\n" if count == 1 else ",\n") + textwrap.indent(json.dumps(item, ensure_ascii=False, indent=2), "  "),
                   nl=False)
    click.echo("\n]" if count else "[]")
    return count


def _store(ctx: click.Context) -> Store:
    try:
        return Store(ctx.obj["index_dir"], create=False)
    except StoreError as exc:
        raise CliError(str(exc)) from None


# How the CLI's Chinese lines name a report's fields.
FIELD_LABELS = {"year": "年份", "province": "省份", "city": "城市", "county": "区县", "agency": "机关",
                "template": "模板", "level": "层级", "edition": "版本", "published": "发布日期"}


def _shown(report: dict, name: str) -> str:
    """A field for text output: 未识别 when unknown, - where it does not apply, a * after a
    corrected value."""
    value = value_of(report, name)
    if value in (None, ""):
        value = UNKNOWN if is_unknown(report, name) else "-"
    return f"{value}{'*' if name in report['corrected'] else ''}"


def _mark(text: str, start: int, end: int) -> str:
    if sys.stdout.isatty():
        return f"{text[:start]}\x1b[1;31m{text[start:end]}\x1b[0m{text[end:]}"
    return f"{text[:start]}【{text[start:end]}】{text[end:]}"


report_filter_options = [
    click.option("--year", help="A year (2020) or a range (2018-2020)."),
    click.option("--province"), click.option("--city"), click.option("--county"), click.option("--agency"),
]
section_option = click.option("--section", "sections", multiple=True,
                              help="Only this section kind: " + ", ".join(SECTION_KINDS))


def with_filters(fn):
    """The search filters: a report's metadata and the section kinds."""
    return section_option(with_report_filters(fn))


def with_report_filters(fn):
    """The filters on a report's metadata (statistics are per report, not per section)."""
    for option in reversed(report_filter_options):
        fn = option(fn)
    return fn


def _private_folders(ctx: click.Context) -> None:
    """Create the index and cache folders private, and refuse world-writable ones, before writing:
    anyone could otherwise swap the model or the index under us (`UnsafeDirError`)."""
    settings.private_dir(ctx.obj["index_dir"])
    settings.cache_dir()


def _filters(kw: dict) -> SearchFilters:
    return SearchFilters(year=kw.pop("year"), sections=list(kw.pop("sections", ())), province=kw.pop("province"),
                         city=kw.pop("city"), county=kw.pop("county"), agency=kw.pop("agency"))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index-dir", type=click.Path(file_okay=False), help=f"Index directory (default: ${settings.HOME_ENV} or the user data dir).")
@click.pass_context
def cli(ctx: click.Context, index_dir: str | None) -> None:
    """nianbao (年报): search Chinese government information-disclosure annual reports."""
    ctx.obj = {"index_dir": settings.index_dir(index_dir)}


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--max-size", default=DEFAULT_MAX_BYTES // (1024 * 1024), show_default=True, help="Skip files larger than this many MB.")
@click.option("--workers", type=int, help="Parser processes (default: up to 4).")
@click.option("--wait", default=0.0, help="Seconds to wait for another running `index` to finish.")
@click.option("--embed/--no-embed", default=True, show_default=True, help="Also compute paragraph embeddings.")
@click.option("--model", envvar=settings.MODEL_ENV, help="sentence-transformers model name or path.")
@click.option("--cluster", envvar=settings.CLUSTER_ENV, metavar="ADDRESS",
              help="Embed on the workers of this Dask scheduler (tcp://host:8786); needs nianbao[cluster].")
@click.option("--force", is_flag=True, help="Also add files that do not look like 政府信息公开工作年度报告.")
@click.option("--ocr/--no-ocr", default=True, show_default=True,
              help="Read PDF pages without a text layer (scans) by OCR, a few seconds a page.")
@click.option("--quiet", "-q", is_flag=True, help="Only the summary line.")
@click.pass_context
def index(ctx: click.Context, paths: tuple[Path, ...], max_size: int, workers: int | None, wait: float,
          embed: bool, model: str | None, cluster: str | None, force: bool, ocr: bool, quiet: bool) -> None:
    """Index report files and folders (.txt .pdf .docx .html); re-runs only read what changed.

    Every run first derives again, from the stored text, the reports an older nianbao parsed;
    with no PATHS it does only that."""
    from .indexing import IndexLockedError, index_paths
    from .progress import cli_progress
    from .semantic.cluster import ClusterError

    if not paths:
        _store(ctx).close()  # deriving stale reports again needs an index; say so if there is none
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise click.BadParameter(f"no such file or folder: {', '.join(missing)}", param_hint="PATHS")
    _private_folders(ctx)
    try:
        with cli_progress(enabled=not quiet) as progress:
            summary = index_paths(paths, ctx.obj["index_dir"], max_bytes=max_size * 1024 * 1024, workers=workers,
                                  wait=wait, progress=progress, embed=embed, model=model, force=force,
                                  ocr=ocr, cluster=cluster)
    except (IndexLockedError, ClusterError) as exc:
        raise CliError(str(exc)) from None
    if not quiet:
        for result in summary.files:
            if result.status in ("skipped", "duplicate"):
                click.echo(f"{result.status} {result.path}: {result.reason}", err=True)
    for failure in summary.rederive_failed:
        click.echo(f"could not derive again (stored as before, left out of search): {failure}", err=True)
    counts = summary.counts()
    rederived = f"{summary.rederived} derived again by this version, " if summary.rederived else ""
    click.echo(rederived + ", ".join(f"{v} {k}" for k, v in counts.items())
               + f"; {summary.reports} reports in {ctx.obj['index_dir']} ({summary.seconds:.1f} s)")
    if counts.get("added") or counts.get("updated"):
        _echo_watch_news(ctx.obj["index_dir"])
    if paths and not summary.files:
        raise CliError("no report files (.txt .pdf .docx .html) found in " + ", ".join(map(str, paths)))
    if summary.nothing_readable():
        raise CliError("none of the files could be read as an annual report (reasons above; --force adds "
                       "the ones that do not look like one)")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def reports(ctx: click.Context, as_json: bool) -> None:
    """List the indexed reports."""
    with _store(ctx) as store, store.snapshot():
        rows = store.reports()
        if as_json:
            extras = store.report_extras(r["id"] for r in rows)
    if as_json:
        _echo_json([{**r, **extras[r["id"]]} for r in rows])
        return
    for r in rows:
        region = "/".join(_shown(r, name) for name, value in r["region"].items() if value or name in r["corrected"]) or "-"
        click.echo(f"{r['id']}  {_shown(r, 'year')}  {r['template'] or '-':3}  {_shown(r, 'agency')}  [{region}]  {r['source']}")
    if any(r["corrected"] for r in rows):
        click.echo("* corrected by hand (`nianbao edit`)")


@cli.command()
@click.argument("report_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, report_id: str, as_json: bool) -> None:
    """Show one report (an id or a unique id prefix) with its sections."""
    with _store(ctx) as store, store.snapshot():
        report = store.report(report_id)
    if report is None:
        raise CliError(f"no report with id '{report_id}' (see `nianbao reports`)")
    if as_json:
        _echo_json(report)
        return
    region = " ".join(_shown(report, name) for name in ("province", "city", "county"))
    click.echo(f"{report['title']}\n{_shown(report, 'agency')} · {_shown(report, 'year')} · {region} · "
               f"{report['template']} · {report['source']}")
    if report["corrected"]:
        click.echo(f"* corrected by hand: {', '.join(report['corrected'])}")
    for section in report["sections"]:
        click.echo(f"\n== [{section['kind']}] {section['heading']}\n{section['text'].strip()}")


@cli.command()
@click.argument("report_id")
@click.option("--agency")
@click.option("--year")
@click.option("--province")
@click.option("--city")
@click.option("--county")
@click.option("--level")
@click.option("--edition")
@click.option("--published", help="Publication date, e.g. 2021-01-31.")
@click.option("--clear", "clear", multiple=True, metavar="FIELD", help="Mark a field unknown (repeatable).")
@click.option("--reset", "reset", multiple=True, metavar="FIELD", help="Drop a correction: show the derived value again.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def edit(ctx: click.Context, report_id: str, clear: tuple[str, ...], reset: tuple[str, ...], as_json: bool,
         **values: str | None) -> None:
    """Correct a report's metadata (an id or a unique prefix); corrections survive re-indexing."""
    from .fields import FieldError, edit_report

    given = {name: value for name, value in values.items() if value is not None}
    if not (given or clear or reset):
        raise click.UsageError("give at least one field to correct, --clear FIELD or --reset FIELD")
    try:
        with _store(ctx) as store:
            report = edit_report(store, report_id, given, clear, reset)
    except FieldError as exc:
        raise CliError(str(exc)) from None
    if as_json:
        _echo_json({k: v for k, v in report.items() if k != "sections"})
        return
    fields = ", ".join(f"{name}={_shown(report, name)}" for name in report["corrected"]) or "none"
    click.echo(f"{report['id']}: corrected fields now {fields}")


@cli.command()
@click.argument("query", required=False)
@with_filters
@click.option("--mode", type=click.Choice(MODES), default="exact", show_default=True)
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True)
@click.option("--batch", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="File of queries, one a line: term × report counts.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="With --batch: write the table here.")
@click.option("--model", envvar=settings.MODEL_ENV, help="Embedding model for semantic and hybrid modes.")
@click.pass_context
def search(ctx: click.Context, query: str | None, mode: str, sort: str, limit: int, as_json: bool,
           batch: Path | None, csv_path: Path | None, model: str | None, **kw) -> None:
    """Search the reports. Terms are ANDed; OR, NOT/-term, ( ), "quoted", year:2020 section:problems."""
    from .query import Engine, batch_counts, parse_query

    filters = _filters(kw)
    _store(ctx).close()
    if batch:
        queries = [line.strip() for line in batch.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
        reports, table = batch_counts(ctx.obj["index_dir"], queries, filters)
        _write_batch(reports, queries, table, csv_path)
        return
    if query is None:
        raise click.UsageError("give a QUERY or --batch FILE")
    from .semantic.vectors import VectorsError

    parsed = parse_query(query)
    for name, (given, written) in filters.replaced_by(parsed.filters).items():
        click.echo(f"note: the query's {name}:{written} replaces --{name} {given}", err=True)

    with closing(Engine(ctx.obj["index_dir"], model=model)) as engine:
        try:
            result = engine.search(parsed, filters, mode=mode, sort=sort, limit=limit)
        except VectorsError as exc:
            raise CliError(str(exc)) from None
        in_text = engine.inside_words(parsed, filters, result["total_reports"]) if mode == "keyword" else 0
    if as_json:
        _echo_json(result)
    elif mode in ("semantic", "hybrid"):
        click.echo(_relevance_line(result["relevance"], len(result["results"])))
        for r in result["results"]:
            where = f"{r['score']:.3f}" if mode == "semantic" else \
                f"keyword #{r['keyword_rank'] or '-'} semantic #{r['semantic_rank'] or '-'}"
            click.echo(f"{where}  {r['agency']} {r['year']} [{r['section_kind']}] {r['report_id']}\n    {r['text'][:200]}")
    else:
        click.echo(f"{result['total_reports']} reports, {result['total_occurrences']} occurrences")
        if in_text:
            click.echo(f"note: keyword mode counts whole words; the text holds the query in {in_text} reports "
                       "(inside longer words too): --mode exact lists them all")
        for name, count in result.get("excluded_unknown", {}).items():
            if count:
                click.echo(f"另有 {count} 份报告{FIELD_LABELS[name]}未识别，未计入筛选")
        for r in result["results"]:
            click.echo(f"\n{r['count']:>4}  {r['agency']} {r['year']}  {r['source']}  {r['report_id']}  sections: {', '.join(r['sections'])}")
            for s in r["snippets"]:
                page = f" 第{s['page']}页" if s.get("page") else ""
                click.echo(f"      [{s['section_kind']}]{page} …{_mark(s['text'], s['match_start'], s['match_end'])}…")


def _relevance_line(relevance: dict, shown: int) -> str:
    """What the passages printed are: above the relevance line, or the closest few when none is."""
    drawn = f"max(floor {relevance['floor']}, typical {relevance['typical']} + {relevance['margin']})" \
        if relevance.get("floor") is not None else f"typical {relevance['typical']} + {relevance['margin']}"
    if relevance["weak"]:
        return f"nothing above the relevance line {relevance['line']:.3f} = {drawn}; the {shown} closest, weak:"
    passed = relevance["passed"]
    return (f"{passed if passed is not None else 'at least ' + str(shown)} of {relevance['searched']} passages "
            f"above the relevance line {relevance['line']:.3f} = {drawn}; {shown} shown")


@cli.command()
@click.argument("target", metavar="REPORT_ID|FILE")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def similar(ctx: click.Context, target: str, limit: int, as_json: bool) -> None:
    """Reports ranked by similarity to one report (an id or prefix) or to a file, which is not added."""
    from .ingest import IngestError
    from .semantic.similar import UnknownReportError, similar as similar_reports, similar_file
    from .semantic.vectors import VectorsError

    try:
        with _store(ctx) as store:
            if Path(target).is_file():
                found = similar_file(store, Path(target), limit=limit)
            else:
                found = similar_reports(store, target, limit=limit)
    except (UnknownReportError, VectorsError, IngestError) as exc:
        raise CliError(f"{target}: {exc}" if isinstance(exc, IngestError) else str(exc)) from None
    if as_json:
        _echo_json(found)
        return
    r = found["report"]
    click.echo(f"similar to {r['agency'] or '-'} {r['year'] or '----'} {r['source']} {r['id']}")
    click.echo(f"(n%: more similar than n% of {found.get('scale_pairs', 0)} sampled report pairs)")
    for res in found["results"]:
        pairs = ", ".join(f"{p['section_kind']}↔{p['other_section_kind']} {_share(p.get('percentile'))}"
                          for p in res["section_pairs"][:3])
        click.echo(f"{_share(res.get('percentile')):>5}  {res['agency'] or '-'} {res['year'] or '----'}  {res['source']}  "
                   f"{res['report_id']}\n        {pairs}")


def _share(percentile: float | None) -> str:
    """A similarity as its place among the corpus's report pairs (raw cosines can be negative and
    mean nothing to a reader)."""
    return "-" if percentile is None else f"{percentile:.0f}%"


@cli.command()
@click.option("--section", "kind", required=True, type=click.Choice(list(SECTION_KINDS)), help="The section kind to compare.")
@click.option("--report", "ids", multiple=True, help="A report id or prefix (repeatable; default: every report having that section).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def compare(ctx: click.Context, kind: str, ids: tuple[str, ...], as_json: bool) -> None:
    """One section kind of several reports, each paragraph with its closest counterparts in the others."""
    from .semantic.compare import compare as compare_sections
    from .semantic.vectors import VectorsError

    try:
        with _store(ctx) as store:
            unknown = [i for i in ids if store.resolve_id(i) is None]
            if unknown:
                raise click.BadParameter(f"no report with id {', '.join(unknown)} (see `nianbao reports`)",
                                         param_hint="--report")
            found = compare_sections(store, list(ids), kind)
    except VectorsError as exc:
        raise CliError(str(exc)) from None
    if as_json:
        _echo_json(found)
        return
    names = {r["report_id"]: f"{r['agency'] or r['source']} {r['year'] or ''}".strip() for r in found["reports"]}
    if not found["reports"]:
        click.echo(f"no report has a {kind} section")
    for r in found["reports"]:
        click.echo(f"\n== {names[r['report_id']]}  [{kind}]  {r['source']}  {r['report_id']}")
        for p in r["paragraphs"]:
            click.echo(f"  {p['text']}")
            for c in p["counterparts"]:
                click.echo(f"      ≈ {c['score']:.3f} {names.get(c['report_id'], c['report_id'])}: {c['text'][:80]}")


@cli.command()
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Address to serve on (0.0.0.0: every interface; needs --password-file or st.login).")
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535))
@click.option("--allow-folders", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Let the desk index folders on this machine, this one and below only (default: uploads only).")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Ask every visitor for the password whose hash this file holds.")
@click.option("--set-password", is_flag=True, help="Prompt for a password, store its hash in --password-file, exit.")
@click.pass_context
def app(ctx: click.Context, address: str, port: int, allow_folders: Path | None, password_file: Path | None,
        set_password: bool) -> None:
    """Open the search desk (Streamlit) in the browser; an empty index first gets the bundled corpus/."""
    from .app_launch import LaunchError, launch
    from .passwords import PasswordFileError, read_password_file, write_password_file

    if set_password:
        if password_file is None:
            raise click.BadParameter("--set-password needs --password-file FILE to store the hash in",
                                     param_hint="--set-password")
        try:
            write_password_file(password_file, click.prompt("Password", hide_input=True, confirmation_prompt=True))
        except PasswordFileError as exc:
            raise CliError(str(exc)) from None
        click.echo(f"password hash stored in {password_file}; start with: nianbao app --password-file {password_file}")
        return
    try:
        if password_file is not None:
            read_password_file(password_file)
        _private_folders(ctx)
        launch(ctx.obj["index_dir"], address, port, allow_folders, password_file)
    except (LaunchError, PasswordFileError) as exc:
        raise CliError(str(exc)) from None


@cli.command()
@click.option("--repair", "do_repair", is_flag=True, help="Re-derive from the store whatever disagrees with it.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--wait", default=0.0, help="Seconds to wait for a running `index` to finish.")
@click.pass_context
def doctor(ctx: click.Context, do_repair: bool, as_json: bool, wait: float) -> None:
    """Check that the store, full-text index and vectors agree; --repair fixes what it can."""
    from dataclasses import asdict

    from .doctor import check, repair
    from .indexing import IndexLockedError

    try:
        repaired = repair(ctx.obj["index_dir"], wait) if do_repair else []
        problems = check(ctx.obj["index_dir"], wait)
    except IndexLockedError as exc:
        raise CliError(str(exc)) from None
    if as_json:
        _echo_json({"ok": not problems, "repaired": repaired, "problems": [asdict(p) for p in problems]})
    else:
        for line in repaired:
            click.echo(f"repaired: {line}")
        for p in problems:
            click.echo(f"{p.part}: {p.message}" + ("" if p.repairable else " (cannot be repaired automatically)"))
        if not problems:
            from .semantic.vectors import has_vectors

            agree = "store, full-text index and vectors agree" if has_vectors(ctx.obj["index_dir"]) else \
                "store and full-text index agree; no vectors (indexed with --no-embed: meaning search needs them)"
            click.echo(f"ok: {agree} ({ctx.obj['index_dir']})")
    if problems:
        hint = "; run `nianbao doctor --repair`" if any(p.repairable for p in problems) and not do_repair else ""
        raise CliError(f"{len(problems)} problem(s) found in {ctx.obj['index_dir']}{hint}")


@cli.command()
@with_report_filters
@click.option("--json", "as_json", is_flag=True, help="One object per report with its indicators.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write one row per report here.")
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path), help="Write an Excel workbook here.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool, csv_path: Path | None, xlsx_path: Path | None, **kw) -> None:
    """The statistics tables: one row per report, one column per indicator."""
    from .stats.export import write_csv, write_xlsx
    from .findings.stored import describe, export_context, stats_rows

    filters = _filters(kw)
    with _store(ctx) as store, closing(stats_rows(store, filters)) as rows:
        if csv_path or xlsx_path:
            from .findings.stored import with_completeness

            rows = with_completeness(store, list(rows))  # the columns are those of every row
            context = export_context(store, len(rows), describe(filters))
        if csv_path:
            write_csv(rows, csv_path, **context)
            click.echo(f"{len(rows)} reports written to {csv_path}")
        if xlsx_path:
            write_xlsx(rows, xlsx_path, **context)
            click.echo(f"{len(rows)} reports written to {xlsx_path}")
        if as_json:
            _echo_json_items(rows)
        elif not (csv_path or xlsx_path):
            for row in rows:
                read = [i for i in row["indicators"] if i["value"] is not None]
                click.echo(f"{row['report_id']}  {row['year'] or '----'}  {row['agency'] or '-'}  "
                           f"{row['template'] or '-'}: {len(read)} of {len(row['indicators'])} indicators read")


@cli.command()
@with_report_filters
@click.option("--json", "as_json", is_flag=True)
@click.option("--completeness", "with_completeness", is_flag=True,
              help="Instead: what each report's edition requires and the report lacks.")
@click.pass_context
def check(ctx: click.Context, as_json: bool, with_completeness: bool, **kw) -> None:
    """Every failed consistency check (勾稽关系) of the statistics tables, report by report."""
    from .findings.stored import check_rows

    if with_completeness:
        _completeness(ctx, as_json, _filters(kw))
        return
    with _store(ctx) as store, closing(check_rows(store, _filters(kw))) as failures:
        if as_json:
            _echo_json_items(failures)
            return
        count = 0
        for count, failure in enumerate(failures, 1):
            click.echo(f"{failure['report_id']}  {failure['source']}  [{failure['check']}] {failure['message']}")
    click.echo(f"{count} failed checks")


@cli.command()
@click.option("--min-chars", default=30, show_default=True, type=click.IntRange(1),
              help="Only passages sharing at least this many characters.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def copies(ctx: click.Context, min_chars: int, as_json: bool) -> None:
    """Passages copied between reports of different agencies (text most reports share is left out)."""
    from .semantic.copies import copies as find_copies

    with _store(ctx) as store:
        result = find_copies(store, min_chars=min_chars)
    if as_json:
        _echo_json(result)
        return
    for r in result["results"]:
        a, b = r["a"], r["b"]
        click.echo(f"\n{r['chars']} chars, similarity {r['similarity']:.2f}\n"
                   f"  {a['agency']} {a['year']} [{a['section_kind']}] {a['report_id']}\n"
                   f"  {b['agency']} {b['year']} [{b['section_kind']}] {b['report_id']}\n    {r['text']}")
    click.echo(f"{len(result['results'])} copied passages of at least {min_chars} characters")


# --- findings: rates, completeness, themes ------------------------------------------------

@cli.command()
@with_report_filters
@click.option("--by", type=click.Choice(["province", "city", "level", "year", "agency"]), help="Group reports by this.")
@click.option("--rate", "keys", multiple=True, help="Only this rate (repeatable; default: all). See `nianbao rates --list`.")
@click.option("--min-denominator", default=30, show_default=True, type=click.IntRange(1),
              help="Groups with a smaller denominator get their value but no rank.")
@click.option("--list", "list_rates", is_flag=True, help="List the rates with their formulas.")
@click.option("--cells", "with_cells", is_flag=True, help="With --json: each report's cells behind each group's numbers.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def rates(ctx: click.Context, by: str | None, keys: tuple[str, ...], min_denominator: int, list_rates: bool,
          with_cells: bool, as_json: bool, **kw) -> None:
    """Derived rates (公开率, 纠错率 …) over groups of reports, ranked where the sample allows."""
    from .findings.rates import RATES
    from .findings.stored import rates as compute_rates

    if list_rates:
        for rate in RATES:
            click.echo(f"{rate.key}  {rate.label}\n    {rate.formula_text()}")
        return
    with _store(ctx) as store:
        try:
            result = compute_rates(store, _filters(kw), by, keys, min_denominator, with_cells)
        except KeyError as exc:
            raise click.BadParameter(exc.args[0], param_hint="--rate") from None
    if as_json:
        _echo_json(result)
        return
    for rate in result["rates"]:
        click.echo(f"\n== {rate['label']} [{rate['key']}]\n   公式：{rate['formula']}\n"
                   f"   排名只计分母不少于 {min_denominator} 的组；{rate['reports_without_cells']} 份报告缺少所需单元格未计入")
        for g in rate["by"]:
            rank = f"{g['rank']:>3}" if g["rank"] else "  -"
            value = "—" if g["value"] is None else f"{g['value']:.1%}"
            small = "" if g["rank"] or g["value"] is None else "  （样本不足，不排名）"
            click.echo(f"  {rank}  {g['group']}  {value}  ({g['numerator']}/{g['denominator']}, {g['reports']} 份报告){small}")


def _completeness(ctx: click.Context, as_json: bool, filters: SearchFilters) -> None:
    from .findings.completeness import LABELS
    from .findings.stored import completeness_rows

    with _store(ctx) as store:
        results = completeness_rows(store, filters)
        names = {r["id"]: f"{r['agency'] or r['source']} {r['year'] or ''}".strip() for r in store.reports()}
    if as_json:
        _echo_json({"results": results})
        return
    for r in results:
        gaps = [f"缺{LABELS.get(m, m)}" for m in r["missing"]] + [f"{LABELS.get(m, m)}为空" for m in r["empty"]]
        if gaps or r["notes"]:
            click.echo(f"{r['report_id']}  {names.get(r['report_id'], '')}  [{r['edition'] or '?'}]  "
                       + "；".join(gaps + r["notes"]))
    complete = sum(not r["missing"] and not r["empty"] for r in results)
    click.echo(f"{complete} of {len(results)} reports complete")


@cli.command()
@with_report_filters
@click.option("--section", "kind", default="problems", show_default=True, type=click.Choice(list(SECTION_KINDS)))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def themes(ctx: click.Context, kind: str, as_json: bool, **kw) -> None:
    """Themes of one section kind across the corpus (default: the problems agencies report)."""
    from .findings.themes import corpus_themes
    from .semantic.vectors import VectorsError

    try:
        with _store(ctx) as store:
            result = corpus_themes(store, kind, _filters(kw))
    except VectorsError as exc:
        raise CliError(str(exc)) from None
    if as_json:
        _echo_json(result)
        return
    for theme in result["themes"]:
        years = "  ".join(f"{y}:{n}" for y, n in theme["by_year"].items())
        click.echo(f"\n[{theme['id']}] {theme['label']}\n    {theme['size']} 段，{len(theme['reports'])} 份报告；"
                   f"关键词：{'、'.join(theme['words'])}\n    按年份：{years}")
        for example in theme["examples"][:3]:
            click.echo(f"    - {example['text'][:90]}  ({example['report_id']})")
    click.echo(f"\n{len(result['themes'])} themes over {result['paragraphs']} paragraphs "
               f"({result['unassigned']} in no theme)")


# --- collecting from government sites, and saved searches (issue #24) -----------------------

@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--from", "from_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file of addresses, one a line.")
@click.option("--depth", default=3, show_default=True, type=click.IntRange(0),
              help="Link hops to follow from each address (listing → report page → attachment).")
@click.option("--delay", default=1.0, show_default=True, type=click.FloatRange(0),
              help="Seconds between two requests to one site (robots.txt's Crawl-delay if longer).")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(0.1), help="Seconds per request.")
@click.option("--retries", default=2, show_default=True, type=click.IntRange(0), help="Further tries after a failure.")
@click.option("--embed/--no-embed", default=True, show_default=True, help="Also compute paragraph embeddings.")
@click.option("--model", envvar=settings.MODEL_ENV, help="sentence-transformers model name or path.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def collect(ctx: click.Context, urls: tuple[str, ...], from_file: Path | None, depth: int, delay: float,
            timeout: float, retries: int, embed: bool, model: str | None, as_json: bool) -> None:
    """Collect annual reports from report or listing pages (政府信息公开年报), index them, keep their provenance."""
    from .collect import PoliteClient, collect as collect_reports
    from .indexing import IndexLockedError
    from .progress import cli_progress

    addresses = list(urls) + ([line.strip() for line in from_file.read_text(encoding="utf-8-sig").splitlines()
                               if line.strip() and not line.startswith("#")] if from_file else [])
    bad = [u for u in addresses if not u.startswith(("http://", "https://"))]
    if bad:
        raise click.BadParameter(f"not a web address: {', '.join(bad)}", param_hint="URLS")
    if not addresses:
        raise click.UsageError("give a URL or --from FILE")
    _private_folders(ctx)
    try:
        with PoliteClient(delay=delay, timeout=timeout, retries=retries) as client, \
                cli_progress(enabled=not as_json) as progress:
            summary = collect_reports(addresses, ctx.obj["index_dir"], depth=depth, client=client,
                                      progress=progress, embed=embed, model=model)
    except IndexLockedError as exc:
        raise CliError(str(exc)) from None
    if as_json:
        _echo_json(summary.as_json())
    else:
        for r in summary.results:
            click.echo(f"{r.status:9}  {r.url}  {r.report_id or '-'}" + (f"  ({r.reason})" if r.reason else ""))
        click.echo(", ".join(f"{v} {k}" for k, v in summary.counts().items())
                   + f"; {summary.reports} reports in {ctx.obj['index_dir']} ({summary.seconds:.1f} s)")
        _echo_watch_news(ctx.obj["index_dir"])
    if not summary.results:
        raise CliError("no annual reports found at " + ", ".join(addresses))
    if all(r.status == "failed" for r in summary.results):
        raise CliError("none of the reports could be collected")


def _echo_watch_news(index_dir: Path) -> None:
    """One line per saved search with new matches (they stay new until `watch run`)."""
    from .watch import run_watches

    for w in run_watches(index_dir, mark=False):
        if w["new"]:
            click.echo(f"watch '{w['name']}': {len(w['new'])} new report(s); see `nianbao watch run`")


@cli.command()
@click.option("--status", type=click.Choice(["new", "unchanged", "changed", "removed", "failed"]),
              help="Only sources whose last check gave this status (changed, removed: 已撤下).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sources(ctx: click.Context, status: str | None, as_json: bool) -> None:
    """The addresses reports were collected from, with their last status and number of versions."""
    with _store(ctx) as store:
        rows = store.sources(status)
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        mark = "  已撤下" if r["status"] == "removed" else ""
        click.echo(f"{r['status']:9}  {r['n_versions']} version(s)  {r['report_id'] or '-'}  {r['url']}{mark}")


@cli.command()
@click.argument("url")
@click.pass_context
def diff(ctx: click.Context, url: str) -> None:
    """What changed in a collected report: its previous version against its latest."""
    from .collect.changes import NoVersionsError, version_diff

    with _store(ctx) as store:
        if store.source(url) is None:
            raise CliError(f"{url} was never collected (see `nianbao sources`)")
        try:
            lines = version_diff(store, url)
        except NoVersionsError as exc:
            raise CliError(str(exc)) from None
    click.echo("\n".join(lines) if lines else "the two versions' texts are the same")


@cli.group()
def watch() -> None:
    """Saved searches that report new matching reports after each `index` or `collect`."""


@watch.command("add")
@click.argument("query")
@with_filters
@click.option("--name", help="A short name (default: the query).")
@click.pass_context
def watch_add(ctx: click.Context, query: str, name: str | None, **kw) -> None:
    """Save a search; `watch run` then lists what is new since."""
    from .watch import WatchError, add_watch

    _store(ctx).close()
    try:
        added = add_watch(ctx.obj["index_dir"], query, _filters(kw), name)
    except WatchError as exc:
        raise CliError(str(exc)) from None
    click.echo(f"watching '{added['name']}': {added['reports']} reports match now")


@watch.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def watch_list(ctx: click.Context, as_json: bool) -> None:
    """The saved searches."""
    from .watch import list_watches

    _store(ctx).close()
    found = list_watches(ctx.obj["index_dir"])
    if as_json:
        _echo_json({"watches": found})
        return
    for w in found:
        click.echo(f"{w['name']}  \"{w['query']}\"  {w['reports']} reports  last run {w['last_run']}")


@watch.command("remove")
@click.argument("name")
@click.pass_context
def watch_remove(ctx: click.Context, name: str) -> None:
    """Forget a saved search."""
    from .watch import WatchError, remove_watch

    _store(ctx).close()
    try:
        remove_watch(ctx.obj["index_dir"], name)
    except WatchError as exc:
        raise CliError(str(exc)) from None
    click.echo(f"removed '{name}'")


@watch.command("run")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def watch_run(ctx: click.Context, as_json: bool) -> None:
    """Each saved search's reports and occurrences new since it last ran."""
    from .watch import run_watches

    _store(ctx).close()
    found = run_watches(ctx.obj["index_dir"])
    if as_json:
        _echo_json({"watches": [{k: w[k] for k in ("name", "query", "new")} for w in found]})
        return
    for w in found:
        click.echo(f"{w['name']}: {len(w['new'])} new report(s)")
        for n in w["new"]:
            click.echo(f"  {n['report_id']}  +{n['count']}")


# --- one agency across the years (indexer.agencies, indexer.history) ------------------------


@contextmanager
def _agency_errors() -> Iterator[None]:
    """An unknown or ambiguous agency or report id as a one-line error."""
    from .agencies import AgencyError

    try:
        yield
    except (AgencyError, LookupError) as exc:
        raise CliError(str(exc.args[0] if isinstance(exc, LookupError) else exc)) from None


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def agencies(ctx: click.Context, as_json: bool) -> None:
    """List the agencies (one key per agency across years) with the years they cover."""
    from .agencies import agencies as all_agencies

    with _store(ctx) as store:
        found = sorted(all_agencies(store).values(), key=lambda a: a.key)
        unnamed = store.count_reports() - sum(len(a.reports) for a in found)
    if as_json:
        _echo_json([a.to_json() for a in found])
        return
    for a in found:
        years = ",".join(map(str, a.years())) or "----"
        click.echo(f"{a.key}  {a.name}  {years}" + (f"  (aliases: {', '.join(a.keys[1:])})" if a.keys[1:] else ""))
    click.echo(f"{len(found)} agencies" + (f"; {unnamed} reports name no agency and are not listed" if unnamed else ""))


@cli.group()
def agency() -> None:
    """Join renamed or merged agencies (aliases are kept across re-indexing)."""


@agency.command("alias")
@click.argument("target", metavar="KEY_OR_NAME")
@click.argument("other", metavar="OTHER")
@click.pass_context
def agency_alias(ctx: click.Context, target: str, other: str) -> None:
    """Treat agency OTHER (a key, name or report id) as the same agency as KEY_OR_NAME."""
    from .agencies import add_alias

    with _store(ctx) as store, _agency_errors():
        into, joined = add_alias(store, target, other)
    click.echo(f"{joined.key} ({joined.name}) is now part of {into.key} ({into.name})")


@agency.command("unalias")
@click.argument("key")
@click.pass_context
def agency_unalias(ctx: click.Context, key: str) -> None:
    """Make an aliased agency KEY its own agency again."""
    from .agencies import remove_alias

    with _store(ctx) as store, _agency_errors():
        remove_alias(store, key)
    click.echo(f"{key} is its own agency again")


def _rate(rate: float | None) -> str:
    return "  -  " if rate is None else f"{rate:5.0%}"


@cli.command()
@click.argument("name", metavar="AGENCY|REPORT_ID")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def history(ctx: click.Context, name: str, as_json: bool) -> None:
    """One agency's years: text repeated from the year before, numbers that do not carry over."""
    from .history import history as agency_history

    with _store(ctx) as store, _agency_errors():
        found = agency_history(store, name)
    if as_json:
        _echo_json(found)
        return
    a = found["agency"]
    click.echo(f"{a['name']}  {a['key']}  {len(found['years'])} years")
    for y in found["years"]:
        click.echo(f"\n{y['year']}  repeated {_rate(y['repeat_rate'])} of {y['previous_year'] or '-'}  {y['report_id']}  {y['title'] or ''}")
        for s in y["sections"]:
            click.echo(f"    [{s['kind']}] same {s['same_chars']}, added {s['added_chars']}, removed {s['removed_chars']}")
        for c in y["cross_year_checks"]:
            if c["status"] != "ok":
                click.echo(f"    {c['status']}: {c['label']} — {c['message']}")
    if found["undated_reports"]:
        click.echo(f"\nundated: {', '.join(found['undated_reports'])}")


@cli.command()
@click.argument("old_id", metavar="OLD_REPORT_ID")
@click.argument("new_id", metavar="NEW_REPORT_ID")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def yeardiff(ctx: click.Context, old_id: str, new_id: str, as_json: bool) -> None:
    """Two reports (one agency's years) section by section: - removed, + added, ~ other numbers."""
    from .history import diff as report_diff

    with _store(ctx) as store, _agency_errors():
        found = report_diff(store, old_id, new_id)
    if as_json:
        _echo_json(found)
        return
    old, new = found["old"], found["new"]
    click.echo(f"- {old['agency']} {old['year']} {old['report_id']}\n+ {new['agency']} {new['year']} {new['report_id']}"
               f"\nrepeated: {_rate(found['repeat_rate'])}")
    for s in found["sections"]:
        click.echo(f"\n== [{s['kind']}] same {s['same_chars']}, added {s['added_chars']}, removed {s['removed_chars']}")
        for p in s["passages"]:
            if p["op"] == "same" and "old_text" in p:
                click.echo(f"  ~ {p['old_text']}\n    → {p['text']}")
            elif p["op"] != "same":
                click.echo(f"  {'+' if p['op'] == 'added' else '-'} {p['text']}")


@cli.command()
@click.option("--min", "min_rate", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="Only reports repeating at least this share of their narrative from the previous year.")
@with_report_filters
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def repeats(ctx: click.Context, min_rate: float, as_json: bool, **kw) -> None:
    """Reports that repeat the previous year's report, most repetitive first (template text left out)."""
    from .history import repeats as find_repeats

    filters = _filters(kw)
    if filters.year:
        filters.years()  # a malformed year is a bad query, before the corpus is read
    with _store(ctx) as store:
        found = find_repeats(store, min_rate, filters)
    if as_json:
        _echo_json(found)
        return
    for r in found["results"]:
        click.echo(f"{r['repeat_rate']:5.0%}  {r['agency']} {r['year']} ← {r['previous_year']}  {r['report_id']} ← {r['previous_report_id']}")
    click.echo(f"{len(found['results'])} reports repeat at least {min_rate:.0%} of the previous year's narrative")


def _write_batch(reports: list[dict], queries: list[str], table: dict, csv_path: Path | None) -> None:
    header = ["report_id", "source", "agency", "year"] + queries
    rows = [[r["id"], r["source"], r["agency"], r["year"]] + [table[q].get(r["id"], 0) for q in queries] for r in reports]
    if csv_path:
        with open(csv_path, "w", newline="", encoding="utf-8-sig") as f:
            csv.writer(f).writerows([header] + rows)
        click.echo(f"{len(rows)} reports × {len(queries)} queries written to {csv_path}")
        return
    writer = csv.writer(sys.stdout, delimiter="\t")
    writer.writerows([header] + rows)


def main() -> None:
    """Entry point: one-line errors, exit 2 for bad arguments and 1 for failures, never a traceback."""
    try:
        cli.main(standalone_mode=False, prog_name="nianbao")
    except click.exceptions.Abort:
        click.echo("nianbao: aborted", err=True)
        sys.exit(1)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except click.ClickException as exc:
        click.echo(f"nianbao: {' '.join(exc.format_message().split())}", err=True)  # click lists choices on lines
        sys.exit(exc.exit_code)
    except QueryError as exc:
        click.echo(f"nianbao: bad query: {exc}", err=True)
        sys.exit(2)
    except (CliError, StoreError, ModelUnavailableError, settings.UnsafeDirError) as exc:
        click.echo(f"nianbao: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("nianbao: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        # The reader stopped early (`| head`): stop quietly, and keep Python from complaining
        # about the unflushed output at exit (as the Python docs on SIGPIPE advise).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except Exception as exc:
        if os.environ.get(settings.DEBUG_ENV):
            raise
        click.echo(f"nianbao: internal error: {type(exc).__name__}: {exc} (set {settings.DEBUG_ENV}=1 for details)", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
