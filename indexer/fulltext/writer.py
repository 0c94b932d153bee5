"""Writing the Whoosh words index: Whoosh's own segment format, written a block at a time.

Whoosh's writer handles every posting in Python several times over: through the field's
analyzer, into its posting pool as a tuple, through a sort of all of them, and a call per
posting into the block writer. At ~1,100 word postings and ~140 metadata postings a report,
that was the largest single cost of a build's writer (~9 ms a report). `SectionWriter` keeps
each section's counted words and metadata terms aside and, at commit, hands Whoosh's block
writer a whole block of postings at a time. The blocks, term statistics, stored fields and
lengths are the ones Whoosh writes itself (tests/test_keyword_ranking.py compares them).
"""

from __future__ import annotations

from array import array
from itertools import repeat

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

from .analysis import CountedWords
from .ranking import length_bytes

_LENGTH_OF_BYTE = [None] + [byte_to_length(b) for b in range(1, 256)]  # a 0 byte: no length (Whoosh's None)
_LENGTHS = np.array([0] + _LENGTH_OF_BYTE[1:], dtype=np.int64)
_NO_LENGTH = np.iinfo(np.int64).max


class WritingCodec(W3Codec):
    """Whoosh's own codec, except that a commit reads the new segment's field lengths in one piece.

    Writing the postings, Whoosh looks up each one's field length in the length column it has
    just written, a seek and a read per posting. The segments record a plain W3Codec, so the
    index holds nothing of this.
    """

    def new_segment(self, storage, indexname):
        return W3Codec().new_segment(storage, indexname)

    def per_document_reader(self, storage, segment):
        return _LengthsAtOnce(storage, segment)


class _LengthsAtOnce(W3PerDocReader):
    def doc_field_length_reader(self, fieldname, default=0):
        codes = length_bytes(self, fieldname)
        if codes is None:
            return lambda docnum: default
        return [_LENGTH_OF_BYTE[b] for b in codes].__getitem__


class SectionWriter(SegmentWriter):
    """A Whoosh segment writer for documents of keyword fields plus one field of counted terms.

    Whoosh's `add_document` runs every field value through its analyzer and every posting
    through its pool. Here a value's terms are looked up once (a report's sections share most
    values), and every field's postings wait for the commit, to be written a block at a time.
    """

    def __init__(self, ix, field: str, **kwargs) -> None:
        super().__init__(ix, codec=WritingCodec(), **kwargs)
        self.counted_field = field
        self._counted: list[tuple[int, CountedWords]] = []
        self._keywords: list[tuple[int, list[tuple[str, list]]]] = []  # (docnum, [(field, index items)])
        self._items: dict[tuple[str, object], list] = {}  # (field, value) → Whoosh's index items
        # Columns, vectors and spelling words are add_document's to write: a schema with any of
        # them takes that road.
        self._plain = not any(f.column_type or f.vector or f.separate_spelling() for _, f in self.schema.items())

    def add_counted(self, counts: CountedWords, **fields) -> None:
        """`add_document(**fields)` plus the counted field, whose terms and occurrences are `counts`."""
        if not self._plain:
            self.add_document(**{self.counted_field: counts}, **fields)
            return
        self._check_state()
        schema, perdoc, docnum = self.schema, self.perdocwriter, self.docnum
        perdoc.start_doc(docnum)
        indexed = []
        for name in sorted(fields):
            value = fields[name]
            if value is None:
                continue
            field = schema[name]
            if field.indexed:
                items = self._items.get((name, value))
                if items is None:
                    items = self._items[name, value] = list(field.index(value))
                indexed.append((name, items))
            perdoc.add_field(name, field, value if field.stored else None, 0)
        perdoc.add_field(self.counted_field, schema[self.counted_field], None, sum(counts.counts))
        perdoc.finish_doc()
        self._keywords.append((docnum, indexed))
        self._counted.append((docnum, counts))
        self.docnum += 1
        self._added = True

    def _flush_segment(self) -> None:
        if self.pool.fieldnames:
            # A merge brought other segments' postings through the pool: ours join them there
            # and Whoosh writes them all (a small, incremental commit).
            self._pool_postings()
        if not self._counted:
            super()._flush_segment()
            return
        self.perdocwriter.close()
        lengths = self.per_document_reader()
        fields: dict[str, tuple[list, list, list]] = {}
        for docnum, indexed in self._keywords:
            for name, items in indexed:
                terms, docs, counts = fields.setdefault(name, ([], [], []))
                for term, count, _, _ in items:
                    terms.append(term)
                    docs.append(docnum)
                    counts.append(count)
        terms, docs, counts = fields.setdefault(self.counted_field, ([], [], []))
        for docnum, section in self._counted:
            terms.extend(section.split())
            counts.extend(section.counts)
            docs.extend(repeat(docnum, len(section.counts)))
        self._keywords.clear()
        self._counted.clear()
        for name in sorted(fields):
            self._write_field(name, *fields.pop(name), length_bytes(lengths, name))
        self.fieldwriter.close()
        lengths.close()

    def _pool_postings(self) -> None:
        boost = self.schema[self.counted_field].format.field_boost
        for docnum, indexed in self._keywords:
            for name, items in indexed:
                for term, _, weight, value in items:
                    self.pool.add((name, term, docnum, weight, value))
        for docnum, counts in self._counted:
            for term, count in counts.items():
                self.pool.add((self.counted_field, term.encode(), docnum, count * boost, pack_uint(count)))
        self._keywords.clear()
        self._counted.clear()

    def _write_field(self, name: str, terms: list, docs: list[int], counts: list[int],
                     length_codes: bytes | None) -> None:
        """One field's postings (term, doc, occurrences), a term at a time in byte order, in
        blocks as Whoosh cuts them. Each block's statistics are computed for all blocks at once;
        Whoosh's block writer then gets each block whole, where add_posting took one posting."""
        if not terms:
            return  # Whoosh starts no field without postings
        vocabulary = sorted(set(terms))  # str: code-point order is UTF-8 byte order, Whoosh's
        rank = {term: i for i, term in enumerate(vocabulary)}
        term_ids = np.fromiter(map(rank.__getitem__, terms), dtype=np.int64, count=len(terms))
        order = np.argsort(term_ids, kind="stable")  # within a term, documents stay in order
        doc_arr = np.array(docs, dtype=np.uint32)[order]
        count_arr = np.array(counts, dtype=np.int64)[order]
        lengths = _LENGTHS[np.frombuffer(length_codes or bytes(self.docnum), dtype=np.uint8)][doc_arr]

        field = self.schema[name]
        fw = self.fieldwriter
        fw.start_field(name, field)
        writer = fw._postwriter  # Whoosh's block writer for this field
        limit = writer._blocklimit
        df = np.bincount(term_ids, minlength=len(vocabulary))
        blocks = -(-df // limit)
        block_term = np.repeat(np.arange(len(vocabulary)), blocks)
        first_block = np.cumsum(blocks) - blocks
        block_number = np.arange(block_term.size) - first_block[block_term]  # within its term
        starts = (np.cumsum(df) - df)[block_term] + block_number * limit
        ends = np.append(starts[1:], doc_arr.size)
        max_counts = np.maximum.reduceat(count_arr, starts).tolist()
        min_lengths = np.minimum.reduceat(np.where(lengths == 0, _NO_LENGTH, lengths), starts).tolist()
        max_lengths = np.maximum.reduceat(lengths, starts).tolist()

        boost = field.format.field_boost
        id_bytes = doc_arr.tobytes()
        weight_bytes = (count_arr * boost).astype(np.float32).tobytes()
        value_bytes = count_arr.astype(">u4").tobytes()  # Frequency's pack_uint of each count; Existence keeps none
        for block, (term, number, start, end) in enumerate(zip(block_term.tolist(), block_number.tolist(),
                                                               starts.tolist(), ends.tolist())):
            if number:
                writer._write_block()
            else:
                if block:
                    fw.finish_term()
                text = vocabulary[term]
                fw.start_term(text.encode() if isinstance(text, str) else text)
            writer._ids = array("I", id_bytes[4 * start:4 * end])
            writer._weights = array("f", weight_bytes[4 * start:4 * end])
            writer._values = [value_bytes[4 * start:4 * end]]  # joined as one, as Whoosh joins them
            writer._maxweight = max_counts[block] * boost
            writer._minlength = None if min_lengths[block] == _NO_LENGTH else min_lengths[block]
            writer._maxlength = max_lengths[block]
        fw.finish_term()
        fw.finish_field()
