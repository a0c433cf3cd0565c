from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from fieldservice import clock
from fieldservice.errors import Conflict, Invalid, NotFound
from tests import factories
from tickets.models import Survey, WorkOrder
from tickets.survey import survey_submit, survey_token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def job() -> WorkOrder:
    return factories.work_order(status=WorkOrder.Status.COMPLETED)


def _url(token: str) -> str:
    return reverse("survey", args=[token])


def test_the_signed_link_opens_the_form_without_login(client: Client, job) -> None:
    response = client.get(_url(survey_token_for(job)))

    assert response.status_code == 200
    page = response.content.decode()
    assert job.number in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert page.count('type="radio" name="csat"') == 5
    assert page.count('type="radio" name="nps"') == 11
    assert "您对本次服务的满意度如何" in page  # bilingual
    assert '<label for="id_comment">' in page


def test_posting_the_form_stores_the_answer(client: Client, job) -> None:
    response = client.post(_url(survey_token_for(job)), {"csat": "5", "nps": "9", "comment": "准时，专业。"})

    assert response.status_code == 200
    assert "Thank you for your feedback" in response.content.decode()
    survey = Survey.objects.get(work_order=job)
    assert (survey.csat, survey.nps, survey.comment) == (5, 9, "准时，专业。")
    assert survey.submitted_at is not None


def test_the_form_is_csrf_protected(job) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(_url(survey_token_for(job)), {"csat": "5", "nps": "9"})
    assert response.status_code == 403
    assert not Survey.objects.exists()


def test_a_tampered_token_is_404(client: Client, job) -> None:
    token = survey_token_for(job)
    other = factories.work_order(status=WorkOrder.Status.COMPLETED)
    # Swap in another work order's id but keep the signature.
    forged = survey_token_for(other).split(":")[0] + ":" + token.split(":", 1)[1]

    for bad in (forged, token[:-1] + ("A" if token[-1] != "A" else "B"), "nonsense"):
        response = client.get(_url(bad))
        assert response.status_code == 404
        assert "invalid or has expired" in response.content.decode()
        assert client.post(_url(bad), {"csat": "5", "nps": "9"}).status_code == 404
    assert not Survey.objects.exists()


def test_an_expired_token_is_404(client: Client, job, settings) -> None:
    settings.SURVEY_LINK_MAX_AGE_DAYS = 60
    with time_machine.travel(clock.now() - dt.timedelta(days=61)):
        old = survey_token_for(job)
    with time_machine.travel(clock.now() - dt.timedelta(days=59)):
        recent = survey_token_for(job)

    assert client.get(_url(old)).status_code == 404
    assert client.post(_url(old), {"csat": "4", "nps": "8"}).status_code == 404
    assert client.get(_url(recent)).status_code == 200
    with pytest.raises(NotFound):
        survey_submit(token=old, csat=4, nps=8, comment="")


def test_a_score_out_of_range_is_a_form_error(client: Client, job) -> None:
    response = client.post(_url(survey_token_for(job)), {"csat": "6", "nps": "9"})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="csat-error"' in page and "1 到 5" in page
    assert 'aria-describedby="csat-error"' in page
    assert not Survey.objects.exists()
    with pytest.raises(Invalid) as refused:
        survey_submit(token=survey_token_for(job), csat=6, nps=11, comment="")
    assert set(refused.value.details) == {"csat", "nps"}


def test_a_second_answer_does_not_overwrite_the_first(client: Client, job) -> None:
    url = _url(survey_token_for(job))
    client.post(url, {"csat": "2", "nps": "3", "comment": "first"})

    response = client.post(url, {"csat": "5", "nps": "10", "comment": "second"})
    assert response.status_code == 200
    assert "already been answered" in response.content.decode()
    assert "already been answered" in client.get(url).content.decode()
    survey = Survey.objects.get(work_order=job)
    assert (survey.csat, survey.nps, survey.comment) == (2, 3, "first")
    with pytest.raises(Conflict) as refused:
        survey_submit(token=survey_token_for(job), csat=5, nps=10, comment="again")
    assert refused.value.code == "survey_already_answered"


def test_tokens_from_another_salt_are_refused(client: Client, job) -> None:
    from django.core import signing

    other_purpose = signing.dumps(job.pk, salt="contracts.quote")
    assert client.get(_url(other_purpose)).status_code == 404
