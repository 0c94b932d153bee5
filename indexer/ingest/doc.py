"""Old Word .doc (the binary format many agency sites still attach) through LibreOffice headless.

No Python library reads .doc well; LibreOffice converts it to .docx, which the .docx reader then
lays out like any other (tables tab-separated). Without LibreOffice the file is skipped with the
reason and the fix in one line.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from . import docx
from .base import Extracted, IngestError

CONVERT_TIMEOUT_S = 120


def soffice() -> str | None:
    """The LibreOffice program, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def read(data: bytes) -> Extracted:
    program = soffice()
    if program is None:
        raise IngestError("old Word .doc needs LibreOffice, which is not installed "
                          "(apt install libreoffice-writer-nogui, or save the file as .docx)")
    with tempfile.TemporaryDirectory(prefix="nianbao-doc-") as tmp:
        source = Path(tmp) / "report.doc"
        source.write_bytes(data)
        # A private profile: a user's running LibreOffice would otherwise take the job and lock it.
        command = [program, f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}", "--headless", "--norestore",
                   "--convert-to", "docx", "--outdir", tmp, str(source)]
        try:
            subprocess.run(command, capture_output=True, timeout=CONVERT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise IngestError(f"LibreOffice took over {CONVERT_TIMEOUT_S} s to convert this .doc file") from None
        converted = Path(tmp) / "report.docx"
        if not converted.exists():
            raise IngestError("LibreOffice could not convert this .doc file")
        return docx.read(converted.read_bytes())
