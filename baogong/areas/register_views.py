"""Pages for importing and exporting the household register.

Upload → check (a dry run, shown row by row) → confirm → import. Small files are
checked and imported within the request; big ones on the task worker while the
status page polls with htmx (see baogong/areas/tasks.py for the file store).
"""

from __future__ import annotations

import tempfile
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from baogong.accounts.scoping import HOUSEHOLD_ROLES, REGISTER_ROLES, Scope, scope_for
from baogong.areas import exporter, tasks
from baogong.areas.importer import CHANGE_LABELS, read_register_for
from baogong.areas.models import Area
from baogong.areas.tasks import ImportJob, start_phase
from baogong.core.errors import DomainError, NotAllowed, NotFound

IMPORT_TARGET_KINDS = (Area.Kind.STREET, Area.Kind.COMMUNITY, Area.Kind.COMPOUND)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    into = forms.ModelChoiceField(label=gettext_lazy("Import into"), queryset=Area.objects.none(),
                                  help_text=gettext_lazy("A compound, or a community or street "
                                                         "if the file has a 小区 column."))
    file = forms.FileField(label=gettext_lazy("Register file (.xlsx or .csv)"))

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["into"]
        field.queryset = scope.areas(REGISTER_ROLES).filter(kind__in=IMPORT_TARGET_KINDS)
        top = min((_depth(a) for a in field.queryset.only("path")), default=0)
        field.label_from_instance = lambda area: _area_label(area, indent=_depth(area) - top)
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.xls,.ods,.csv"

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s; files up to %(limit)s can be imported."),
                params={"size": filesizeformat(upload.size),
                        "limit": filesizeformat(settings.IMPORT_MAX_BYTES)})
        return upload


def _depth(area: Area) -> int:
    return area.path.count("/")


def _area_label(area: Area, *, indent: int) -> str:
    """"— 小区a (compound)": options indented under their community, as in the tree."""
    return f"{'— ' * indent}{area.name} ({area.kind_label})"


def _register_scope(request: HttpRequest) -> Scope:
    scope = scope_for(request.user)
    if not scope.has_any(REGISTER_ROLES):
        raise PermissionDenied
    return scope


def _job_for(scope: Scope, key: str) -> tuple[ImportJob, Area]:
    """The job and its area, if the user keeps that area's register; else 404."""
    try:
        job = ImportJob.load(key)
        area = Area.objects.get(pk=job.into_id)
    except (NotFound, Area.DoesNotExist):
        raise Http404 from None
    if not scope.can_edit_area(area):
        raise Http404
    return job, area


@login_required
@require_http_methods(["GET", "POST"])
def register_import(request: HttpRequest) -> HttpResponse:
    """Upload a register file and start its check (dry run)."""
    scope = _register_scope(request)
    form = UploadForm(request.POST or None, request.FILES or None, scope=scope,
                      initial={"into": request.GET.get("into")})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            rows = _quick_row_count(data, upload.name, form.cleaned_data["into"])
        except DomainError as error:
            form.add_error("file", error.message)
        else:
            job = ImportJob.create(data, filename=upload.name, into=form.cleaned_data["into"],
                                   by=request.user, rows=rows)
            start_phase(job, "check", by=request.user)
            return redirect("areas:import_status", key=job.key)
    status = 400 if form.errors else 200
    return render(request, "areas/register_import.html", {"form": form}, status=status)


def _quick_row_count(data: bytes, filename: str, into: Area) -> int | None:
    """Read a small file now, so that a wrong file is refused on the form; None for big ones."""
    if len(data) > tasks.QUICK_CHECK_MAX_BYTES:
        return None
    return len(read_register_for(data, filename=filename, into=into).rows)


@login_required
@require_http_methods(["GET", "POST"])
def register_import_status(request: HttpRequest, key: str) -> HttpResponse:
    """Show a job's check and import; POST confirms the import (once, however often sent)."""
    scope = _register_scope(request)
    job, area = _job_for(scope, key)
    if request.method == "POST":
        check = job.state("check") or {}
        if check.get("state") == "done":
            start_phase(job, "import", by=request.user)
        return redirect("areas:import_status", key=job.key)
    context = _status_context(job, area)
    template = ("areas/_register_status.html" if request.headers.get("HX-Request") == "true"
                else "areas/register_status.html")
    return render(request, template, context)


def _status_context(job: ImportJob, area: Area) -> dict[str, Any]:
    check, done = job.state("check"), job.state("import")
    current = done or check or {}
    report = current.get("report")
    if report:
        for row in report["rows"]:
            row["change_labels"] = [str(CHANGE_LABELS.get(c, c)) for c in row["changes"]]
    return {
        "job": job, "area": area, "check": check, "imported": done, "report": report,
        "polling": current.get("state") in ("queued", "running"),
        "can_confirm": bool(check and check.get("state") == "done" and done is None
                            and check["report"]["counts"]["created"]
                            + check["report"]["counts"]["updated"] > 0),
    }


@login_required
@require_GET
def register_template(request: HttpRequest) -> HttpResponse:
    """Download the empty register template."""
    _register_scope(request)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    exporter.write_template(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=_("register-template") + ".xlsx",
                        content_type=XLSX)


@login_required
@require_GET
def register_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Download the register of an area; `?personal=0` leaves out names, phones and notes.

    With personal data it is for those who keep the register; without, for
    everyone who works with the area's households.
    """
    personal = request.GET.get("personal") != "0"
    scope = scope_for(request.user)
    roles = REGISTER_ROLES if personal else HOUSEHOLD_ROLES
    try:
        scope.require(roles)
        area = scope.area(pk, roles=roles)
    except NotFound:
        raise Http404 from None
    except NotAllowed:
        raise PermissionDenied from None
    households = scope.households(roles).filter(building__path__startswith=area.path)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    exporter.write_register(out, households, area=area, personal=personal)
    out.seek(0)
    stamp = timezone.localdate().isoformat()
    suffix = "" if personal else "-" + _("no-personal-data")
    return FileResponse(out, as_attachment=True, content_type=XLSX,
                        filename=f"{area.name}-{stamp}{suffix}.xlsx")
