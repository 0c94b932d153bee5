"""zlib's format, written and read by ISA-L (the `isal` package) where its wheel installs.

The store deflates every report's texts in the build's workers and the gram index every
segment's arrays in its single writing process. ISA-L deflates 3-5x faster than zlib's fastest
level at the same size (texts: 0.25 → 0.09 ms a report, 0.44 of their UTF-8 either way; a
400-report gram segment: 53 → 10 ms) and inflates twice as fast (bench/deflate.py). The
format is zlib's, so a store or index written by either library reads back with the other and
nothing stored changes (docs/performance.md, Build speed, fourth pass). Without `isal`, zlib at
its fastest level does the job.
"""

from __future__ import annotations

try:
    from isal import isal_zlib as _codec

    LEVEL = 3  # zlib level 1's size; ISA-L's level 1 is ~20 % faster for 3 % more bytes
except ImportError:  # no wheel for this platform
    import zlib as _codec

    LEVEL = 1


def deflate(data: bytes | memoryview) -> bytes:
    return _codec.compress(data, LEVEL)


def inflate(data: bytes | memoryview) -> bytes:
    return _codec.decompress(data)
