"""A customer with two sites and a contact of each kind, another customer, and a mail outbox."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from assets.models import Account, Contact, Equipment, Site
from portal.models import PortalAccess
from portal.signin import portal_access_ensure
from tests import factories
from tests.conftest import own_cache_keys


@dataclass
class Customer:
    account: Account
    site: Site
    other_site: Site
    contact: Contact
    unit: Equipment
    other_site_unit: Equipment


def customer() -> Customer:
    account = factories.account()
    site = factories.site(account=account)
    other_site = factories.site(account=account)
    return Customer(
        account=account,
        site=site,
        other_site=other_site,
        contact=factories.contact(site=site, language="en"),
        unit=factories.equipment(site=site),
        other_site_unit=factories.equipment(site=other_site),
    )


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Any) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "http://testserver"
    with own_cache_keys(settings, "portal"):
        yield


@pytest.fixture
def mine(db: None) -> Customer:
    return customer()


@pytest.fixture
def theirs(db: None) -> Customer:
    return customer()


def signed_in(contact: Contact, *, site_only: bool = False) -> Client:
    access: PortalAccess = portal_access_ensure(contact=contact, site_only=site_only)
    client = Client()
    client.force_login(access.user)
    return client


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(out, format="JPEG")
    return out.getvalue()
