"""The documentation stays true: the CLI reference is what the commands print, the README's two
commands are there verbatim, and every relative link in README and docs/ leads to a file."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"

TWO_COMMANDS = [
    'pip install torch==2.13.0 && pip install -e . && nianbao app',
    'pip install torch==2.13.0 && pip install -e ".[test]" && python -m pytest -q',
]


def gen_cli():
    spec = importlib.util.spec_from_file_location("gen_cli", DOCS / "gen_cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_what_the_commands_print():
    written = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert written == gen_cli().render(), (
        "docs/cli.md is stale: a command's options or help changed. Regenerate it with "
        "`python docs/gen_cli.py --write` and commit the result.")


def test_cli_reference_has_every_command():
    written = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name in ("index", "search", "app", "stats", "check", "doctor"):
        assert f"## nianbao {name}\n" in written
        assert f"Usage: nianbao {name} [OPTIONS]" in written


def test_readme_has_the_two_commands_verbatim():
    text = README.read_text(encoding="utf-8")
    for command in TWO_COMMANDS:
        assert f"\n{command}\n" in text, f"the README lost the command, or changed it: {command}"


def test_readme_shows_how_to_start_on_its_first_screen():
    first_screen = README.read_text(encoding="utf-8").splitlines()[:40]
    assert any(TWO_COMMANDS[0] in line for line in first_screen)


def test_relative_links_lead_to_files():
    link = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
    pages = [README, *sorted(DOCS.glob("*.md"))]
    missing = [f"{page.relative_to(ROOT)}: {target}"
               for page in pages for target in link.findall(page.read_text(encoding="utf-8"))
               if "://" not in target and not (page.parent / target).exists()]
    assert not missing, "links to files that do not exist:\n" + "\n".join(missing)
