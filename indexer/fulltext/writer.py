"""Writing the Whoosh words index: Whoosh's own segment format, written a term at a time.

Whoosh's writer handles every posting in Python several times over: into its posting pool
as a tuple, through a sort of all of them, and a call per posting into the block writer.
At ~1,100 postings a report that was the largest single cost of a build (~8 ms a report).
`SectionWriter` keeps each section's counted words aside and, at commit, hands Whoosh's
block writer a whole block of postings at a time. The blocks, term statistics and files
are the ones Whoosh writes itself (tests/test_keyword_ranking.py compares them).
"""

from __future__ import annotations

from array import array
from itertools import repeat

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

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
    """A Whoosh segment writer that takes one field's terms already counted, per document."""

    def __init__(self, ix, field: str, **kwargs) -> None:
        super().__init__(ix, codec=WritingCodec(), **kwargs)
        self.counted_field = field
        self._counted: list[tuple[int, dict[str, int]]] = []  # (docnum, {term: occurrences})

    def add_counted(self, counts: dict[str, int], **fields) -> None:
        """`add_document(**fields)` plus the counted field, whose postings wait for the commit."""
        docnum = self.docnum
        self.add_document(**fields)
        length = sum(counts.values())
        if length:
            # The per-document writer still points at the document just added: its length goes
            # into the length column and the field's total as add_document would have put them.
            self.perdocwriter.add_field(self.counted_field, self.schema[self.counted_field], None, length)
        self._counted.append((docnum, counts))

    def _flush_segment(self) -> None:
        field = self.counted_field
        if field in self.pool.fieldnames:
            # A merge brought in other segments' postings of the field through the pool: ours
            # join them there and Whoosh writes them all (a small, incremental commit).
            boost = self.schema[field].format.field_boost
            for docnum, counts in self._counted:
                for term, count in counts.items():
                    self.pool.add((field, term.encode(), docnum, count * boost, pack_uint(count)))
            self._counted.clear()
        if not self._counted:
            super()._flush_segment()
            return
        self.perdocwriter.close()
        lengths = self.per_document_reader()
        postings = iter(self.pool.iter_postings())
        after: list = []

        def before_field():
            for posting in postings:
                if posting[0] > field:
                    after.append(posting)
                    return
                yield posting

        self.fieldwriter.add_postings(self.schema, lengths, before_field())
        self._write_counted(length_bytes(lengths, field))
        self.fieldwriter.add_postings(self.schema, lengths, (*after, *postings))
        self.fieldwriter.close()
        lengths.close()

    def _write_counted(self, length_codes: bytes | None) -> None:
        """The counted field's postings, a term at a time in byte order, in blocks as Whoosh cuts them.

        Postings are gathered in arrays and each block's statistics computed at once; Whoosh's
        block writer then gets each block whole, where add_posting took one posting a call.
        """
        field = self.counted_field
        terms: list[str] = []
        docs: list[int] = []
        counts: list[int] = []
        for docnum, section in self._counted:
            terms.extend(section)
            counts.extend(section.values())
            docs.extend(repeat(docnum, len(section)))
        self._counted.clear()
        vocabulary = sorted(set(terms))  # code-point order is UTF-8 byte order, Whoosh's
        rank = {term: i for i, term in enumerate(vocabulary)}
        term_ids = np.fromiter(map(rank.__getitem__, terms), dtype=np.int64, count=len(terms))
        order = np.argsort(term_ids, kind="stable")  # within a term, documents stay in order
        doc_arr = np.array(docs, dtype=np.uint32)[order]
        count_arr = np.array(counts, dtype=np.int64)[order]
        lengths = _LENGTHS[np.frombuffer(length_codes or bytes(self.docnum), dtype=np.uint8)][doc_arr]

        fw = self.fieldwriter
        fw.start_field(field, self.schema[field])
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

        boost = self.schema[field].format.field_boost
        id_bytes = doc_arr.tobytes()
        weight_bytes = (count_arr * boost).astype(np.float32).tobytes()
        value_bytes = count_arr.astype(">u4").tobytes()  # Whoosh's pack_uint of each count
        for block, (term, number, start, end) in enumerate(zip(block_term.tolist(), block_number.tolist(),
                                                               starts.tolist(), ends.tolist())):
            if number:
                writer._write_block()
            else:
                if block:
                    fw.finish_term()
                fw.start_term(vocabulary[term].encode())
            writer._ids = array("I", id_bytes[4 * start:4 * end])
            writer._weights = array("f", weight_bytes[4 * start:4 * end])
            writer._values = [value_bytes[4 * start:4 * end]]  # joined as one, as Whoosh joins them
            writer._maxweight = max_counts[block] * boost
            writer._minlength = None if min_lengths[block] == _NO_LENGTH else min_lengths[block]
            writer._maxlength = max_lengths[block]
        if block_term.size:
            fw.finish_term()
        fw.finish_field()
