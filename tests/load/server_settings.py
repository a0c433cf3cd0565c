"""The settings of the gunicorn that the load tests start: the app's own, with the test
suite's password hasher (tests/conftest.py), so that the personas' passwords verify and
two dozen logins cost no seconds of CPU."""

from fieldservice.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
