"""Renewal milestones: the daily run that opens, reminds, quotes and renews or expires.

Each active contract has a *key date*: its end date, or for an auto-renewing contract its
notice deadline (end date − notice days). Milestones fall due settings.RENEWAL_MILESTONE_DAYS
days before it:

* T−120 open the RenewalOpportunity; snapshot the account's latest health (on or before today);
* T−90  reminder; a save-plan task if the account is red or yellow;
* T−60  draft the quote (PDF, uplifted value, valid RENEWAL_QUOTE_VALID_DAYS); a review task;
* T−30  reminder, escalated to the account manager's manager if the deal has not *moved*;
* T−7   last reminder;
* T0    auto-renew (contract_renew) or expire (contract_expire). T0 happens on the day
        *after* the key date: on the notice deadline the customer may still give notice,
        and on the end date the contract still covers its equipment.

**Moved.** Stage changes made by people set RenewalOpportunity.stage_changed_at; the
machine's own move to "quoted" at T−60 deliberately does not. The deal has moved when
stage_changed_at falls on or after the day T−120 was due. Otherwise (never changed, or
changed only before the renewal cycle began) it has not, and T−30 escalates, provided T−120
happened (on the run's date) before T−30 was due: a contract entered late has had no time to move.

**Exactly once.** A milestone happens in one transaction that first locks the contract,
then INSERTs its RenewalReminder row (unique on contract and milestone) and makes its
durable effects: opportunity, tasks, quote, renewal or expiry. A concurrent run waits on
the lock, then fails the insert and does nothing; a crash rolls all of it back, so the
rerun does it all. A contract entered late gets every due milestone in one run, in order.

**Email, at most once.** Emails go after commit, in a separate pass: one email per contract
per run for all its claimed-but-unsent reminders (T−90, T−60, T−30, T−7), so a late contract
gets one summary, not four stale reminders. Each reminder is claimed by a conditional UPDATE
(`sent_at IS NULL` → now, row count 1), committed before sending. If sending raises, the
claims are released and the next run (or a Celery retry) sends them; the failure is raised
at the end of the run, after the other contracts. The window that remains: a worker killed
between the claim and the end of the send leaves sent_at set and `recipients` empty; the
mail may or may not have gone, and it is not resent automatically. Such reminders are found
with `sent_at IS NOT NULL AND recipients = '[]'`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from contracts.models import AccountTask, RenewalOpportunity, RenewalReminder, ServiceContract
from contracts.services import contract_expire, contract_renew, contracts_close_renewed
from fieldservice import clock
from fieldservice.errors import Conflict
from fieldservice.people import escalation_recipients, staff_language
from retention.selectors import (
    health_latest,
    key_date,
    milestone_due_dates,
    milestone_schedule,
    renewal_candidates,
)

logger = logging.getLogger(__name__)

Milestone = RenewalReminder.Milestone
Kind = AccountTask.Kind
CLAIM_CONSTRAINT = "renewal_reminder_once_per_milestone"
# The milestones that tell the account manager something by email.
EMAIL_MILESTONES = (Milestone.T90, Milestone.T60, Milestone.T30, Milestone.T7)
AT_RISK_BANDS = ("red", "yellow")


class RenewalEmailsFailed(Exception):
    """Some reminder emails could not be sent; they stay unsent and go with the next run."""


@dataclass
class RenewalRun:
    today: dt.date
    happened: Counter[str] = field(default_factory=Counter)
    emails_sent: int = 0
    contracts_closed: int = 0
    contracts_expired: int = 0
    email_failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.happened.values())


# --- the milestones ---------------------------------------------------------------------------------


@dataclass
class _Step:
    contract: ServiceContract
    reminder: RenewalReminder
    today: dt.date
    due: dict[str, dt.date]

    @property
    def manager(self) -> User | None:
        return self.contract.account.account_manager


TITLES: dict[str, tuple[str, str]] = {
    Kind.RENEWAL_REMINDER: ("Renewal of {n}: contract ends {end}", "合同 {n} 续约：{end} 到期"),
    Kind.SAVE_PLAN: ("Save plan for {n}: account health is {band}", "合同 {n} 挽留计划：客户健康度 {band}"),
    Kind.QUOTE_REVIEW: ("Review the renewal quote for {n}", "审核合同 {n} 的续约报价"),
    Kind.ESCALATION: ("Renewal of {n} escalated: no progress since opening", "合同 {n} 续约已升级：无进展"),
}


def _task(step: _Step, kind: str, dedupe_key: str, **values: str) -> AccountTask:
    english, chinese = TITLES[kind]
    template = chinese if staff_language(step.manager) == "zh-hans" else english
    title = template.format(n=step.contract.number, end=step.contract.end_date.isoformat(), **values)
    # get_or_create on the unique dedupe_key: the save plan may also come from the health job.
    task, _ = AccountTask.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "account_id": step.contract.account_id,
            "contract": step.contract,
            "owner": step.manager,
            "kind": kind,
            "title": title[:300],
            "due_date": key_date(step.contract),  # the date that matters: end or notice deadline
        },
    )
    return task


def _opportunity(step: _Step) -> RenewalOpportunity:
    opportunity, _ = RenewalOpportunity.objects.get_or_create(
        contract=step.contract, defaults={"owner": step.manager}
    )
    return opportunity


def _open(step: _Step) -> dict[str, Any]:
    opportunity = _opportunity(step)
    health = health_latest(account_id=step.contract.account_id, on=step.today)
    if health is not None and opportunity.health_score_at_open is None:
        opportunity.health_score_at_open, opportunity.health_band_at_open = health.score, health.band
        opportunity.save(update_fields=["health_score_at_open", "health_band_at_open", "updated_at"])
    # The run's date, not the wall clock: "opened in time" (T−30) compares it with due dates.
    return {
        "opportunity": opportunity.pk,
        "health_band": health.band if health else None,
        "opened_on": str(step.today),
    }


def _remind(step: _Step) -> dict[str, Any]:
    # One open reminder per contract in the list: a later milestone (or a late contract's
    # several at once) reuses it rather than stacking copies of the same to-do.
    task = AccountTask.objects.filter(
        contract=step.contract, kind=Kind.RENEWAL_REMINDER, status=AccountTask.Status.OPEN
    ).first() or _task(step, Kind.RENEWAL_REMINDER, f"renewal:{step.contract.pk}:{step.reminder.milestone}")
    return {"tasks": [task.pk]}


def _remind_and_plan_save(step: _Step) -> dict[str, Any]:
    payload = _remind(step)
    health = health_latest(account_id=step.contract.account_id, on=step.today)
    if health is not None and health.band in AT_RISK_BANDS:
        task = _task(step, Kind.SAVE_PLAN, f"save-plan:{step.contract.pk}", band=health.band)
        payload["tasks"].append(task.pk)
        payload["save_plan_band"] = health.band
    return payload


def _quote(step: _Step) -> dict[str, Any]:
    from retention.quote import renewal_quote_draft  # WeasyPrint loads only where quotes are made

    opportunity = renewal_quote_draft(opportunity=_opportunity(step), today=step.today)
    task = _task(step, Kind.QUOTE_REVIEW, f"quote-review:{step.contract.pk}")
    return {
        "tasks": [task.pk],
        "proposed_value": str(opportunity.proposed_value),
        "valid_until": opportunity.quote_valid_until.isoformat() if opportunity.quote_valid_until else None,
    }


def opportunity_moved(opportunity: RenewalOpportunity, *, since: dt.date) -> bool:
    """Whether a person changed the deal's stage on or after `since` (see module docstring)."""
    changed = opportunity.stage_changed_at
    return changed is not None and timezone.localdate(changed) >= since


def _remind_or_escalate(step: _Step) -> dict[str, Any]:
    payload = _remind(step)
    opportunity = _opportunity(step)
    opening = (
        step.contract.reminders.filter(milestone=Milestone.T120).values_list("payload", flat=True).first()
    )
    opened_on = (opening or {}).get("opened_on")
    opened_in_time = opened_on is not None and dt.date.fromisoformat(opened_on) < step.due[Milestone.T30]
    if opened_in_time and not opportunity_moved(opportunity, since=step.due[Milestone.T120]):
        bosses = escalation_recipients(step.manager)
        task = _task(step, Kind.ESCALATION, f"escalation:{step.contract.pk}")
        payload["tasks"].append(task.pk)
        payload["escalate_to"] = [boss.pk for boss in bosses]
    return payload


def _conclude(step: _Step) -> dict[str, Any]:
    contract = step.contract
    if ServiceContract.objects.filter(predecessor=contract).exists():
        return {"outcome": "already renewed"}  # closed by contracts_close_renewed after its end
    if contract.auto_renew:
        stage = RenewalOpportunity.objects.filter(contract=contract).values_list("stage", flat=True).first()
        if stage == RenewalOpportunity.Stage.LOST:
            # The customer gave notice: it runs to its end date, then _expire_ended ends it.
            return {"outcome": "notice given"}
        successor = contract_renew(contract=contract, today=step.today)
        return {"outcome": "renewed", "successor": successor.pk}
    contract_expire(contract=contract, today=step.today)
    return {"outcome": "expired"}


HANDLERS: dict[str, Callable[[_Step], dict[str, Any]]] = {
    Milestone.T120: _open,
    Milestone.T90: _remind_and_plan_save,
    Milestone.T60: _quote,
    Milestone.T30: _remind_or_escalate,
    Milestone.T7: _remind,
    Milestone.T0: _conclude,
}


def _milestone_happen(*, contract_id: int, milestone: str, due: dict[str, dt.date], today: dt.date) -> bool:
    """Claim and carry out one milestone in one transaction. False if it had already
    happened (a concurrent or earlier run) or the contract is no longer active."""
    try:
        with transaction.atomic():
            # Race: two runs (two beat processes, a retry) on the same contract. The second
            # waits here until the first commits, then its INSERT below hits the unique
            # constraint and the whole transaction is abandoned. Also serialises with the
            # contract services, which lock the same row.
            contract = (
                ServiceContract.objects.select_for_update(of=("self",))
                .select_related("account__account_manager__profile")
                .get(pk=contract_id)
            )
            if contract.status != ServiceContract.Status.ACTIVE:
                return False  # cancelled or ended since the run listed it; nothing written
            reminder = RenewalReminder.objects.create(
                contract=contract, milestone=milestone, due_date=due[milestone]
            )
            step = _Step(contract=contract, reminder=reminder, today=today, due=due)
            reminder.payload = HANDLERS[milestone](step)
            reminder.save(update_fields=["payload"])
    except IntegrityError as error:
        if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) != CLAIM_CONSTRAINT:
            raise
        return False
    return True


def _contract_milestones(contract: ServiceContract, *, today: dt.date, run: RenewalRun) -> None:
    schedule = milestone_due_dates(contract)
    due = dict(schedule)
    done = {reminder.milestone for reminder in contract.reminders.all()}  # prefetched
    for milestone, due_date in schedule:
        if due_date > today:
            break
        if milestone not in done and _milestone_happen(
            contract_id=contract.pk, milestone=milestone, due=due, today=today
        ):
            run.happened[milestone] += 1


def _expire_ended(*, today: dt.date) -> int:
    """Expire auto-renewing contracts whose customer gave notice, once their end date has
    passed (T0 happened without renewing them)."""
    count = 0
    ended = ServiceContract.objects.filter(
        status=ServiceContract.Status.ACTIVE,
        end_date__lt=today,
        reminders__milestone=Milestone.T0,
        successor__isnull=True,
    ).order_by("pk")
    for contract in ended:
        try:
            contract_expire(contract=contract, today=today)
        except Conflict:
            # Race: a concurrent run (or a person) expired, renewed or cancelled it after we
            # listed it; contract_expire saw that under its lock and changed nothing.
            continue
        count += 1
    return count


# --- email -------------------------------------------------------------------------------------------


def _unsent() -> dict[int, list[RenewalReminder]]:
    """Claimed email milestones not sent yet, per active contract, oldest first."""
    rows = (
        RenewalReminder.objects.filter(
            sent_at__isnull=True,
            milestone__in=EMAIL_MILESTONES,
            contract__status=ServiceContract.Status.ACTIVE,
        )
        .select_related("contract__account__account_manager__profile__reports_to")
        .order_by("contract_id", "due_date", "pk")
    )
    by_contract: dict[int, list[RenewalReminder]] = {}
    for reminder in rows:
        by_contract.setdefault(reminder.contract_id, []).append(reminder)
    return by_contract


def _addresses(users: list[User]) -> list[str]:
    return list(dict.fromkeys(user.email for user in users if user.email))


def _message(contract: ServiceContract, reminders: list[RenewalReminder], *, today: dt.date) -> EmailMessage:
    manager = contract.account.account_manager
    to = _addresses([manager] if manager is not None else []) or _addresses(escalation_recipients(None))
    escalate_ids = {pk for r in reminders for pk in r.payload.get("escalate_to", [])}
    cc = [a for a in _addresses(list(User.objects.filter(pk__in=escalate_ids).order_by("pk"))) if a not in to]
    opportunity = RenewalOpportunity.objects.filter(contract=contract).first()
    language = staff_language(manager)
    milestones = [r.milestone for r in reminders]
    context = {
        "company_name": settings.COMPANY_NAME,
        "manager": manager,
        "contract": contract,
        "account": contract.account,
        "opportunity": opportunity,
        "milestones": milestones,
        "latest": reminders[-1].milestone,
        "days_left": (contract.end_date - today).days,
        "key_date": key_date(contract),
        "save_plan_band": next(
            (r.payload["save_plan_band"] for r in reminders if "save_plan_band" in r.payload), ""
        ),
        "escalated_to": cc,
    }
    with translation.override(language):
        subject = render_to_string(f"retention/email/renewal_reminder_subject.{language}.txt", context)
        body = render_to_string(f"retention/email/renewal_reminder_body.{language}.txt", context)
    message = EmailMessage(
        subject=" ".join(subject.split()), body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to, cc=cc
    )
    if Milestone.T60 in milestones and opportunity is not None and opportunity.quote_pdf:
        with opportunity.quote_pdf.open("rb") as stored:
            message.attach(f"{contract.number}-quote.pdf", stored.read(), "application/pdf")
    return message


def _reminders_send(contract: ServiceContract, unsent: list[RenewalReminder], *, today: dt.date) -> bool:
    """One email for the contract's unsent reminders; False if none was ours to send."""
    claimed_at = clock.now()
    # Claim each reminder. Race: two runs sending at once; PostgreSQL serialises the UPDATEs
    # of a row and the later one finds sent_at set, matches nothing, and leaves it out.
    # Autocommit: the claim is visible to the other run before we send.
    claimed = [
        r
        for r in unsent
        if RenewalReminder.objects.filter(pk=r.pk, sent_at__isnull=True).update(sent_at=claimed_at) == 1
    ]
    if not claimed:
        return False
    pks = [r.pk for r in claimed]
    try:
        message = _message(contract, claimed, today=today)
        if message.to:
            message.send()
    except Exception:
        # Not sent: give the claims back so the next run sends them, then report it.
        RenewalReminder.objects.filter(pk__in=pks, sent_at=claimed_at).update(sent_at=None)
        raise
    if not message.to:
        # The tasks are in the list; the email waits until someone has an address.
        RenewalReminder.objects.filter(pk__in=pks, sent_at=claimed_at).update(sent_at=None)
        logger.warning("Renewal reminders of %s not sent: no account manager or admin email", contract.number)
        return False
    RenewalReminder.objects.filter(pk__in=pks).update(recipients=[*message.to, *message.cc])
    return True


def reminders_email(*, run: RenewalRun) -> None:
    """Send every contract's unsent reminders, one email per contract; failures are noted
    on the run and the other contracts still get theirs."""
    for reminders in _unsent().values():
        contract = reminders[0].contract
        try:
            run.emails_sent += _reminders_send(contract, reminders, today=run.today)
        except Exception as error:  # reported: renewals_run_report raises after the loop
            logger.exception("Renewal reminders of %s not sent", contract.number)
            run.email_failures.append(f"{contract.number}: {error}")


def renewals_run_report(*, today: dt.date | None = None) -> RenewalRun:
    """The daily run with an account of what it did (for the command's summary)."""
    today = today or clock.today()
    run = RenewalRun(today=today)
    first_days = max(days for _, days in milestone_schedule())
    for contract in renewal_candidates(today=today, first_milestone_days=first_days):
        _contract_milestones(contract, today=today, run=run)
    run.contracts_closed = contracts_close_renewed(today=today)
    run.contracts_expired = _expire_ended(today=today)
    reminders_email(run=run)
    if run.email_failures:
        raise RenewalEmailsFailed(
            f"{len(run.email_failures)} renewal email(s) not sent, left for the next run: "
            + "; ".join(run.email_failures)
        )
    return run


def renewals_run(*, today: dt.date | None = None) -> int:
    """Every renewal milestone that has come due happens, once per contract. Returns how
    many milestones happened in this run."""
    return renewals_run_report(today=today).total
