"""Files sent to ``POST /api/v1/import/{table}``: size-capped, kept in a private folder under
their own name (import messages name the file), turned into a ``triage import`` command line."""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.requests import Request

from triage_core.server.api import Problem, flag
from triage_core.store.mapping import PRESETS

_SAFE = re.compile(r"[^A-Za-z0-9._ -]")
_FIELDS = ("file", "preset", "mapping", "map", "create_missing")
CHUNK = 1 << 20


class Uploads:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.folder = Path(tempfile.mkdtemp(prefix="triage-uploads-"))

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    async def import_argv(self, request: Request, table: str) -> tuple[list[str], Path]:
        """The ``triage import`` command line for an upload (multipart field ``file`` and the
        options ``preset``, ``mapping`` (a saved mapping or preset name), ``map`` (repeatable
        SOURCE=TARGET) and ``create_missing``), and the folder that holds the file."""
        declared = request.headers.get("content-length", "")
        if not declared.isdigit():
            raise Problem(411, "send the file with a Content-Length")
        if int(declared) > self.max_bytes:
            raise Problem(413, f"the file is larger than {self.max_bytes / 2**20:g} MB (the "
                          "server's [server] max_upload_mb)")
        form = await request.form(max_files=1, max_fields=len(_FIELDS) + 50)
        unknown = sorted(set(form) - set(_FIELDS))
        if unknown:
            raise Problem(422, f"unknown field {unknown[0]!r} (fields: {', '.join(_FIELDS)})")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Problem(422, "send the file as the multipart field 'file'")
        path = await self._keep(upload)
        argv = ["import", table, str(path), "--json"]
        preset = form.get("preset")
        if preset:
            if preset not in PRESETS:
                raise Problem(422, f"unknown preset {preset!r}; choose one of "
                              f"{', '.join(PRESETS)}")
            argv += ["--preset", str(preset)]
        mapping = str(form.get("mapping") or "")
        if mapping:
            if mapping.lower().endswith(".toml") or "/" in mapping or "\\" in mapping \
                    or Path(mapping).exists():
                raise Problem(422, "mapping must name a saved mapping or a preset (see "
                              "'triage mapping list'), not a file")
            argv += ["--mapping", mapping]
        for pair in form.getlist("map"):
            argv += ["--map", str(pair)]
        if flag(form.get("create_missing"), "create_missing"):
            argv.append("--create-missing")
        return argv, path.parent

    async def _keep(self, upload: UploadFile) -> Path:
        name = _SAFE.sub("_", Path(upload.filename or "upload.csv").name)[:120] or "upload.csv"
        folder = self.folder / uuid.uuid4().hex
        folder.mkdir()
        path = folder / name
        with path.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                out.write(chunk)
        await upload.close()
        return path
