"""Semantic (embedding) search: an offline sentence-embedding model and the code that uses it.

The hub is unreachable, so the default model is rebuilt from weights that ship inside a
registry package (see :mod:`indexer.semantic.model`).
"""
