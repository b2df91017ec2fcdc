"""Register imports that run beside the pages: the uploaded-file store and the background task.

An upload becomes an `ImportJob`, kept under MEDIA_ROOT/imports/ with no model:

- `<sha256>.<ext>`: the uploaded file, kept between the check and the import;
- `<key>.json`: who uploaded it, for which area (key = "<sha256>-<area id>");
- `<key>.<phase>.json` for phase "check" (the dry run) and "import": created with
  O_EXCL when the phase starts, so a second click finds it and starts nothing;
  it holds the background task's id when there is one;
- `<key>.<phase>.state.json`: written only by whoever runs the phase: progress,
  then the report or the error.

Files up to INLINE_MAX_ROWS rows are checked and imported within the request;
bigger ones by `register_import_task` on the task worker while the page polls.
Files over QUICK_CHECK_MAX_BYTES are not even opened in the request (reading a
100,000-row workbook takes seconds): they go to the worker unread, and a file
that turns out not to be a register is reported on the status page.
A fresh upload of the same file to the same area starts over.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import TaskResultStatus, task

from baogong.areas.importer import register_import
from baogong.areas.models import Area
from baogong.core.errors import DomainError, NotFound

if TYPE_CHECKING:
    from baogong.accounts.models import User

INLINE_MAX_ROWS = 2000
QUICK_CHECK_MAX_BYTES = 512 * 1024  # well above 2,000 rows in any format
REPORT_ROW_LIMIT = 1000  # rows listed on the page; rejected ones first
PHASES = ("check", "import")
_KEY = re.compile(r"[0-9a-f]{64}-\d{1,18}")
_EXTENSIONS = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt"}


def imports_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` atomically, so a poll never reads half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False)
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


class ImportJob:
    """One uploaded register file for one target area."""

    def __init__(self, key: str, meta: dict[str, Any]) -> None:
        self.key = key
        self.meta = meta

    # --- creating and finding ------------------------------------------------------
    @classmethod
    def create(cls, data: bytes, *, filename: str, into: Area, by: User | None,
               rows: int | None) -> ImportJob:
        """Store an upload for `into`; a fresh upload of the same file starts over.

        `rows` is the number of data rows, or None when the file was not read yet.
        """
        sha = hashlib.sha256(data).hexdigest()
        key = f"{sha}-{into.pk}"
        suffix = Path(filename).suffix.lower()
        suffix = suffix if suffix in _EXTENSIONS else ".bin"
        folder = imports_dir()
        upload = folder / f"{sha}{suffix}"
        if not upload.exists():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, upload)
        job = cls(key, {"key": key, "file": upload.name, "filename": filename,
                        "into": into.pk, "by": by.pk if by is not None else None,
                        "rows": rows, "uploaded_at": time.time()})
        if not job.running():
            for phase in PHASES:
                for path in (job._claim_path(phase), job._state_path(phase)):
                    path.unlink(missing_ok=True)
            _write_json(folder / f"{key}.json", job.meta)
        return job

    @classmethod
    def load(cls, key: str) -> ImportJob:
        """Return the job stored under `key`; raise NotFound for anything else."""
        if not _KEY.fullmatch(key or ""):
            raise NotFound()
        meta = _read_json(imports_dir() / f"{key}.json")
        if meta is None:
            raise NotFound()
        return cls(key, meta)

    @property
    def into_id(self) -> int:
        return int(self.meta["into"])

    @property
    def filename(self) -> str:
        return str(self.meta["filename"])

    @property
    def runs_inline(self) -> bool:
        rows = self.meta["rows"]
        return rows is not None and rows <= INLINE_MAX_ROWS

    def data(self) -> bytes:
        return (imports_dir() / self.meta["file"]).read_bytes()

    # --- phases ---------------------------------------------------------------------
    def _claim_path(self, phase: str) -> Path:
        return imports_dir() / f"{self.key}.{phase}.json"

    def _state_path(self, phase: str) -> Path:
        return imports_dir() / f"{self.key}.{phase}.state.json"

    def claim(self, phase: str) -> bool:
        """Mark `phase` as started; False if it already was (a double click, a retry)."""
        try:
            fd = os.open(self._claim_path(phase), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"started_at": time.time()}, out)
        return True

    def set_task(self, phase: str, task_id: str) -> None:
        _write_json(self._claim_path(phase), {"started_at": time.time(), "task_id": task_id})

    def state(self, phase: str) -> dict[str, Any] | None:
        """Return the phase's state: None (not started), running, done or failed."""
        claim = _read_json(self._claim_path(phase))
        if claim is None:
            return None
        state = _read_json(self._state_path(phase)) or {"state": "queued"}
        if state["state"] in ("queued", "running") and claim.get("task_id"):
            # A worker that died mid-task never writes its end; the task result knows.
            with contextlib.suppress(Exception):
                result = register_import_task.get_result(claim["task_id"])
                if result.status == TaskResultStatus.FAILED:
                    return {"state": "failed", "error": _("The import stopped with an "
                                                          "error. Try again.")}
        return state

    def running(self) -> bool:
        return any((self.state(phase) or {}).get("state") in ("queued", "running")
                   for phase in PHASES)

    def run(self, phase: str, *, by: User | None) -> dict[str, Any]:
        """Run a claimed phase here and now; record progress and the outcome; return the state."""
        into = Area.objects.get(pk=self.into_id)
        path = self._state_path(phase)
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if time.monotonic() - last[0] >= 1:  # a poll every 2 s needs no more
                last[0] = time.monotonic()
                _write_json(path, {"state": "running", "done": done, "total": total})

        _write_json(path, {"state": "running", "done": 0, "total": self.meta["rows"] or 0})
        try:
            report = register_import(self.data(), filename=self.filename, into=into, by=by,
                                     dry_run=phase == "check", progress=progress)
        except DomainError as error:
            state = {"state": "failed", "error": error.message}
        except Exception:
            _write_json(path, {"state": "failed",
                               "error": _("The import stopped with an error. Try again.")})
            raise
        else:
            state = {"state": "done", "report": report.as_dict(limit=REPORT_ROW_LIMIT)}
            if phase == "import":
                (imports_dir() / self.meta["file"]).unlink(missing_ok=True)
        _write_json(path, state)
        return state


def start_phase(job: ImportJob, phase: str, *, by: User | None) -> None:
    """Start `phase` of `job` unless it already started: inline when small, else as a task."""
    if not job.claim(phase):
        return
    if job.runs_inline:
        job.run(phase, by=by)
        return
    result = register_import_task.enqueue(job.key, phase, by.pk if by is not None else None,
                                          translation.get_language() or settings.LANGUAGE_CODE)
    job.set_task(phase, result.id)


@task()
def register_import_task(key: str, phase: str, by_id: int | None,
                         language: str) -> dict[str, Any]:
    """Check or import a stored register file on the task worker; return the counts."""
    from baogong.accounts.models import User

    job = ImportJob.load(key)
    by = User.objects.get(pk=by_id) if by_id is not None else None
    with translation.override(language):
        state = job.run(phase, by=by)
    return {"state": state["state"], "counts": state.get("report", {}).get("counts")}
