"""Every portal page carries the Content-Security-Policy (tests/test_csp.py reads the templates
themselves for inline script and style)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from assets.labels import label_token
from tests.portal.conftest import Customer, signed_in
from tests.test_csp import assert_policy

pytestmark = pytest.mark.django_db


def test_every_portal_page_carries_the_policy(mine: Customer, dispatcher: User) -> None:
    contact = signed_in(mine.contact)
    office = Client()
    office.force_login(dispatcher)
    pages = [
        ("portal sign-in", Client(), "/portal/login/", 200),
        ("portal link refused", Client(), "/portal/login/nope/", 404),
        ("portal home", contact, "/portal/", 200),
        ("portal equipment", contact, "/portal/equipment/", 200),
        ("portal machine", contact, f"/portal/equipment/{mine.unit.pk}/", 200),
        ("portal work orders", contact, "/portal/work-orders/", 200),
        ("portal contracts", contact, "/portal/contracts/", 200),
        ("portal fault form", contact, "/portal/report/", 200),
        ("portal cases", contact, "/portal/cases/", 200),
        ("portal complaint form", contact, "/portal/cases/new/", 200),
        ("label page", Client(), f"/l/{label_token(mine.unit)}/", 200),
        ("label unknown", Client(), "/l/nope/", 404),
        ("label confirmation unknown", Client(), "/portal/confirm/nope/", 404),
        ("portal for staff", office, "/portal/", 403),
        ("label sheet", office, f"/portal/labels/site/{mine.site.pk}.pdf", 200),
    ]
    for what, client, url, status in pages:
        response = client.get(url)
        assert response.status_code == status, (what, url, response.status_code)
        assert_policy(response, what)
