"""The back office: an admin sees every model with its filters and search."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"fieldservice", "assets", "contracts", "tickets", "scheduling"}


@pytest.fixture
def some_data() -> None:
    unit = factories.equipment()
    factories.contract(account=unit.site.account, covers=[unit])
    factories.work_order(site=unit.site, equipment=unit)
    factories.technician()


def project_models() -> list[type[Model]]:
    return [model for model in admin.site._registry if model._meta.app_label in PROJECT_APPS]


def test_every_project_model_is_in_the_admin() -> None:
    from django.apps import apps

    registered = set(admin.site._registry)
    missing = [
        model._meta.label
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
        if model not in registered
    ]
    assert missing == []


@pytest.mark.usefixtures("some_data")
def test_admin_lists_search_and_filter_every_model(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    for model in project_models():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
        model_admin = admin.site._registry[model]
        if model_admin.search_fields:
            assert client.get(url, {"q": "苏州"}).status_code == 200, url
        assert model_admin.list_filter or model_admin.search_fields, f"{url} has neither filters nor search"


@pytest.mark.usefixtures("some_data")
def test_admin_opens_each_change_form(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    for model in project_models():
        obj = model._default_manager.first()
        if obj is None:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        assert client.get(url).status_code == 200, url


def test_admin_login_page_serves(client: Client) -> None:
    assert client.get("/admin/login/").status_code == 200


def test_technician_cannot_enter_the_admin(client: Client, tech_a: User) -> None:
    client.force_login(tech_a)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
