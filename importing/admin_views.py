"""The back-office page for CSV imports: pick the kind, upload, read the report, import.

For admins only (the role, not just staff: dispatchers and account managers are staff too,
and an import rewrites what they only view). The page runs the same service as the
`import_csv` command. A checked file waits in the cache (not on disk: nothing to clean up)
so the admin can import it after reading the report without uploading it again.
"""

from __future__ import annotations

import csv
import secrets
from typing import Any

from django import forms
from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice import roles
from importing.kinds import KINDS
from importing.reading import MAX_FILE_BYTES
from importing.report import ImportReport
from importing.services import csv_import

# How long a checked file (and a report to download) waits for the admin.
KEEP_SECONDS = 60 * 60
# The page lists this many problems; the downloadable report has them all.
PROBLEMS_ON_PAGE = 1000


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=())
    file = forms.FileField(label=gettext_lazy("CSV file (UTF-8)"), required=False)
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: check the file and count, write nothing"), required=False, initial=True
    )
    partial = forms.BooleanField(
        label=gettext_lazy("Write the good rows only, skipping the bad ones"), required=False
    )
    # The checked file waiting in the cache, when importing after a dry run.
    upload = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # the checkboxes' labels follow them
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(name, kind.label) for name, kind in KINDS.items()]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        if upload is None and not cleaned.get("upload"):
            raise forms.ValidationError(_("Choose a file."))
        if upload is not None and upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB; split it.")
                % {"limit": MAX_FILE_BYTES // (1024 * 1024)}
            )
        return cleaned


def _cache_key(request: HttpRequest, token: str, what: str) -> str:
    # The user's id in the key: a token seen by someone else opens nothing for them.
    return f"assets-import:{what}:{request.user.pk}:{token}"


def _require_admin(request: HttpRequest) -> None:
    if not roles.has_role(request.user, roles.ADMIN):
        raise PermissionDenied(_("Imports are for admins."))


def import_view(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    report: ImportReport | None = None
    next_form: ImportForm | None = None
    report_token = ""
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = _file_data(request, form)
            if data is not None:
                options = form.cleaned_data
                report = csv_import(
                    kind=options["kind"],
                    data=data,
                    by=request.user,
                    dry_run=options["dry_run"],
                    partial=options["partial"],
                )
                if options["dry_run"] and not report.file_problems:
                    token = secrets.token_urlsafe(16)
                    cache.set(_cache_key(request, token, "file"), data, KEEP_SECONDS)
                    # Its own element ids: the upload form for another file is on the same page.
                    next_form = ImportForm(
                        auto_id="next_%s",
                        initial={"kind": options["kind"], "upload": token, "partial": options["partial"]},
                    )
                    next_form.fields["kind"].widget = forms.HiddenInput()
                elif not options["dry_run"] and options["upload"]:
                    cache.delete(_cache_key(request, options["upload"], "file"))
                if report.problems:
                    report_token = secrets.token_urlsafe(16)
                    rows = [(p.line or "", p.column or "", p.reason) for p in report.problems]
                    cache.set(_cache_key(request, report_token, "report"), rows, KEEP_SECONDS)
    else:
        form = ImportForm()
    context = {
        **admin.site.each_context(request),
        "title": _("Import from CSV"),
        "form": form,
        "next_form": next_form,
        "report": report,
        "problems": report.problems[:PROBLEMS_ON_PAGE] if report else [],
        "problems_hidden": max(0, len(report.problems) - PROBLEMS_ON_PAGE) if report else 0,
        "report_token": report_token,
        "kinds": [(kind.label, kind.columns) for kind in KINDS.values()],
    }
    return TemplateResponse(request, "admin/assets/import_csv.html", context)


def _file_data(request: HttpRequest, form: ImportForm) -> bytes | None:
    upload = form.cleaned_data["file"]
    if upload is not None:
        return b"".join(upload.chunks())
    data = cache.get(_cache_key(request, form.cleaned_data["upload"], "file"))
    if data is None:
        form.add_error(None, _("The checked file is no longer kept (after an hour); upload it again."))
    return data


def import_report_view(request: HttpRequest, token: str) -> HttpResponse:
    """Every problem of a report, as CSV (the page shows the first ones only)."""
    _require_admin(request)
    rows = cache.get(_cache_key(request, token, "report"))
    if rows is None:
        return HttpResponse(_("This report is no longer kept; run the check again."), status=404)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="import-report.csv"'
    response.write("\ufeff")  # Excel reads UTF-8 only with the mark
    writer = csv.writer(response)
    writer.writerow(["line", "column", "reason"])
    writer.writerows(rows)
    return response
