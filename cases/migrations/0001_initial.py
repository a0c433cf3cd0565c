"""Cases and their timeline; the sequence that numbers them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import fieldservice.clock


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("assets", "0003_defaults_from_business_clock"),
        ("contracts", "0004_account_task_emailed_at"),
        ("tickets", "0006_part_price_from_the_office_event_flag_reason"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE cases_case_number_seq", reverse_sql="DROP SEQUENCE cases_case_number_seq"
        ),
        migrations.CreateModel(
            name="Case",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=fieldservice.clock.now, editable=False, verbose_name="created at"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                ("number", models.CharField(max_length=20, unique=True, verbose_name="number")),
                (
                    "kind",
                    models.CharField(
                        choices=[("complaint", "Complaint"), ("enquiry", "Enquiry"), ("request", "Request")],
                        max_length=16,
                        verbose_name="kind",
                    ),
                ),
                (
                    "severity",
                    models.PositiveSmallIntegerField(
                        choices=[(1, "1 – high"), (2, "2 – medium"), (3, "3 – low")], verbose_name="severity"
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("phone", "Phone"),
                            ("email", "Email"),
                            ("portal", "Portal"),
                            ("survey", "Survey"),
                        ],
                        max_length=16,
                        verbose_name="channel",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("received", "Received"),
                            ("acknowledged", "Acknowledged"),
                            ("in_progress", "In progress"),
                            ("resolved", "Resolved"),
                            ("confirmed", "Confirmed by the customer"),
                            ("closed_unconfirmed", "Closed unconfirmed"),
                        ],
                        default="received",
                        max_length=20,
                        verbose_name="status",
                    ),
                ),
                ("title", models.CharField(max_length=200, verbose_name="title")),
                ("description", models.TextField(blank=True, verbose_name="description")),
                ("response_due", models.DateTimeField(verbose_name="response due")),
                ("resolution_due", models.DateTimeField(verbose_name="resolution due")),
                (
                    "clock_source",
                    models.CharField(
                        choices=[("contract", "Contract"), ("default", "Default")],
                        max_length=10,
                        verbose_name="clock source",
                    ),
                ),
                (
                    "acknowledged_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="acknowledged at"),
                ),
                ("resolved_at", models.DateTimeField(blank=True, null=True, verbose_name="resolved at")),
                ("closed_at", models.DateTimeField(blank=True, null=True, verbose_name="closed at")),
                ("resolution", models.TextField(blank=True, verbose_name="resolution")),
                ("reopened_count", models.PositiveIntegerField(default=0, verbose_name="times re-opened")),
                ("version", models.PositiveIntegerField(default=1)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="assets.account",
                        verbose_name="account",
                    ),
                ),
                (
                    "contact",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="cases",
                        to="assets.contact",
                        verbose_name="contact",
                    ),
                ),
                (
                    "contract",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="contracts.servicecontract",
                        verbose_name="contract",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="owned_cases",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner",
                    ),
                ),
                (
                    "survey",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="case",
                        to="tickets.survey",
                        verbose_name="survey",
                    ),
                ),
                (
                    "work_orders",
                    models.ManyToManyField(
                        blank=True, related_name="cases", to="tickets.workorder", verbose_name="work orders"
                    ),
                ),
            ],
            options={
                "verbose_name": "case",
                "verbose_name_plural": "cases",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="CaseEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "type",
                    models.CharField(
                        choices=[
                            ("created", "Opened"),
                            ("status_changed", "Status changed"),
                            ("note", "Note"),
                            ("escalated", "Escalated"),
                            ("customer_answer", "Customer's answer"),
                        ],
                        max_length=20,
                        verbose_name="type",
                    ),
                ),
                ("from_status", models.CharField(blank=True, max_length=20, verbose_name="from status")),
                ("to_status", models.CharField(blank=True, max_length=20, verbose_name="to status")),
                ("at", models.DateTimeField(verbose_name="at")),
                ("text", models.TextField(blank=True, verbose_name="text")),
                (
                    "customer_visible",
                    models.BooleanField(default=False, verbose_name="visible to the customer"),
                ),
                ("payload", models.JSONField(blank=True, default=dict, verbose_name="details")),
                ("dedupe_key", models.CharField(blank=True, max_length=100, null=True, unique=True)),
                ("emailed_at", models.DateTimeField(blank=True, null=True, verbose_name="emailed at")),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="cases.case",
                        verbose_name="case",
                    ),
                ),
            ],
            options={
                "verbose_name": "case event",
                "verbose_name_plural": "case events",
                "ordering": ["case", "at", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["account", "created_at"], name="case_account_idx"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["owner", "status"], name="case_owner_status_idx"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("status__in", ["received", "acknowledged", "in_progress"])),
                fields=["resolution_due"],
                name="case_open_due_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("status", "resolved")), fields=["resolved_at"], name="case_resolved_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(("severity__range", (1, 3))), name="case_severity_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(("version__gte", 1)), name="case_version_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(("resolution_due__gte", models.F("response_due"))),
                name="case_resolution_after_response",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("clock_source", "contract"), ("contract__isnull", False)),
                    models.Q(("clock_source", "default"), ("contract__isnull", True)),
                    _connector="OR",
                ),
                name="case_clock_source_contract",
            ),
        ),
        migrations.AddIndex(
            model_name="caseevent",
            index=models.Index(fields=["case", "at"], name="case_event_timeline_idx"),
        ),
        migrations.AddIndex(
            model_name="caseevent",
            index=models.Index(
                condition=models.Q(("emailed_at__isnull", True), ("type", "escalated")),
                fields=["id"],
                name="case_event_unsent_idx",
            ),
        ),
    ]
