"""Files sent to ``POST /api/v1/import/{table}``: size-capped, kept in a private folder under
their own name (import messages name the file), turned into a ``triage import`` command line."""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from pathlib import Path

from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Message

from triage_core.errors import TriageError
from triage_core.server.api import Problem, flag
from triage_core.store.mapping import PRESETS

_SAFE = re.compile(r"[^A-Za-z0-9._ -]")
MAPPING_NAME = (f"mapping must name a saved mapping or a preset ({', '.join(PRESETS)}; 'triage "
                "mapping list' lists them), not a file or a mapping's text: save a mapping file "
                "first with 'triage mapping save NAME FILE'")
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
        try:  # one file part per field at most: a field other than 'file' sent as a file is
            # named below (the body's size is capped above)
            form = await Request(request.scope, _Closed(request).receive).form(
                max_files=len(_FIELDS), max_fields=len(_FIELDS) + 50)
        except HTTPException as exc:  # Starlette's refusal of a malformed multipart body
            raise Problem(400, f"the upload cannot be read: {_reason(exc)}") from None
        try:
            return await self._argv(form, table)
        finally:  # its files, also when refused
            await form.close()

    async def _argv(self, form: FormData, table: str) -> tuple[list[str], Path]:
        unknown = sorted(set(form) - set(_FIELDS))
        if unknown:
            raise Problem(422, f"unknown field {unknown[0]!r} (fields: {', '.join(_FIELDS)})")
        files = [v for v in form.getlist("file") if isinstance(v, UploadFile)]
        if len(files) > 1:
            raise Problem(422, f"send one file (the multipart field 'file'), not {len(files)}")
        for name in _FIELDS[1:]:
            if any(isinstance(v, UploadFile) for v in form.getlist(name)):
                raise Problem(422, MAPPING_NAME if name == "mapping"
                              else f"{name} must be a text field, not a file")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Problem(422, "send the file as the multipart field 'file'")
        options = []
        preset = form.get("preset")
        if preset:
            if preset not in PRESETS:
                raise Problem(422, f"unknown preset {preset!r}; choose one of "
                              f"{', '.join(PRESETS)}")
            options += ["--preset", str(preset)]
        mapping = str(form.get("mapping") or "")
        if mapping:
            options += ["--mapping", _mapping_name(mapping)]
        for pair in form.getlist("map"):
            options += ["--map", str(pair)]
        if flag(form.get("create_missing"), "create_missing"):
            options.append("--create-missing")
        path = await self._keep(upload)  # once the options are valid: nothing left behind
        return ["import", table, str(path), "--json", *options], path.parent

    async def _keep(self, upload: UploadFile) -> Path:
        name = file_name(upload.filename)
        folder = self.folder / uuid.uuid4().hex
        folder.mkdir()
        path = folder / name
        with path.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                out.write(chunk)
        return path


class _Closed:
    """A request's ``receive`` that refuses a multipart body ending without its closing
    boundary: python-multipart keeps the parts it read of a body cut short (a dropped
    connection), so the upload was refused for a missing file (422), or imported in part.
    Raised as the parser's own exception, so Starlette closes the files it opened."""

    KEEP = 4096  # the body's last bytes: room for an epilogue after the closing boundary

    def __init__(self, request: Request) -> None:
        self._receive = request.receive
        self._tail = b""
        _kind, options = parse_options_header(request.headers.get("content-type", ""))
        boundary = options.get(b"boundary", b"")
        self._end = b"--" + boundary + b"--" if boundary else b""

    async def receive(self) -> Message:
        message = await self._receive()
        if message.get("type") == "http.request" and self._end:
            self._tail = (self._tail + message.get("body", b""))[-self.KEEP:]
            if not message.get("more_body", False) and self._end not in self._tail:
                raise MultiPartException("it ends before the multipart body's closing"
                                         " boundary (cut short?)")
        return message


def file_name(sent: str | None) -> str:
    """The name an upload is kept under (import messages name it): the last part of the name
    it was sent with, characters other than letters, digits and ``._ -`` replaced, at most 120
    long with its suffix, never hidden (``.x`` -> ``upload.x``), ``.`` or ``..``: it cannot
    leave its folder."""
    name = _SAFE.sub("_", re.split(r"[\\/]", sent or "")[-1]).strip()
    if not name.strip("."):
        return "upload.csv"
    name = f"upload{name}" if name.startswith(".") else name
    if len(name) > 120:
        stem, dot, suffix = name.rpartition(".")
        name = f"{stem[:100]}.{suffix[:19]}" if dot else name[:120]
    return name


def _mapping_name(sent: str) -> str:
    """The saved mapping or preset that ``mapping`` names; 422 for anything else (a path or a
    file of the server's machine, a mapping's text)."""
    from triage_core.store.saved_mappings import check_name

    try:
        name = check_name(sent)
    except TriageError:
        raise Problem(422, MAPPING_NAME) from None
    if name.lower().endswith(".toml") or Path(name).exists():  # `triage import` reads files
        raise Problem(422, MAPPING_NAME)
    return name


def _reason(exc: HTTPException) -> str:
    """Starlette's message for a malformed multipart body, with python-multipart's reason."""
    detail = str(exc.detail).rstrip(".")
    cause = exc.__context__.__cause__ if exc.__context__ else None
    return f"{detail} ({str(cause).splitlines()[0]})" if cause and str(cause) else detail
