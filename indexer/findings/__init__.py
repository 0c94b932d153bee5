"""Findings across the corpus: derived rates and their rankings, report completeness, and the
themes of the problems sections. Pure functions over the store; printing lives in the CLI/app."""
