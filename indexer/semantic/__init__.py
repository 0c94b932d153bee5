"""Semantic (embedding) search: an offline sentence-embedding model and the code that uses it.

The hub is unreachable, so the default model is rebuilt from weights that ship inside a
registry package (see :mod:`indexer.semantic.model`).
"""

import os

# OpenMP threads (torch's, faiss's) sleep while they wait for work instead of spinning. OpenMP
# reads this when torch loads, so it is set before anything in this package imports torch. On
# 2 cores shared with other processes torch bf16 embedded 39-49 texts/s so against 5-13 spinning
# (docs/performance.md). A value already in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
