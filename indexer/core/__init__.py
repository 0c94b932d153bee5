"""What every layer of nianbao shares, and nothing else: no SQL, no engine, no I/O beyond settings.

ingest, parse, store, the engines (fulltext, semantic), the query layer and the app import from
here; this package imports nothing else of nianbao, so it can never close an import cycle.
"""
