"""No secret in the repository: private keys, service tokens, passwords or keys written into
settings-like assignments, credentials in URLs, .env files with values.

Scans every file git tracks, and every new file it would add (untracked, not ignored), so a
secret is caught before its first commit. A finding names the file and line. The few literal
values that look like secrets and are not are allowed below, each with its reason; the place
to put a real one is the environment (deploy/env.example), never a file in the repository.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
MAX_BYTES = 5 * 1024 * 1024

PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
SERVICE_TOKENS = {
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b"),
    "GitLab token": re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "Stripe key": re.compile(r"\b[sr]k_live_[0-9A-Za-z]{16,}\b"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
}
# What a secret is called in settings and configuration.
SENSITIVE_WORDS = "PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS"
SECRET_NAME = rf"[A-Za-z0-9_]*(?:{SENSITIVE_WORDS})[A-Za-z0-9_]*"
# NAME = "literal" (Python settings, shell), NAME: "literal" (YAML), "NAME": "literal" (dicts,
# JSON), ("NAME", "literal") (os.environ.setdefault and friends): upper-case names only in code,
# where lower-case ones are ordinary variables (a test's password="wrong").
ASSIGNED_IN_CODE = re.compile(
    rf"""(?x)
    (?:^|[\s,({{\[])["']?(?P<name>{SECRET_NAME.replace("A-Za-z", "A-Z")})["']?
    \s*(?:=|:|,)\s*
    (?P<quote>["'])(?P<value>[^"'\n]*)(?P=quote)
    """
)
# KEY=value and key: value lines of configuration files, any case, quoted or not.
ASSIGNED_IN_CONFIG = re.compile(
    rf"""(?xi)^\s*(?:export\s+)?(?P<name>{SECRET_NAME})\s*[=:]\s*(?P<value>["']?[^\s#"']+["']?)"""
)
CONFIG_SUFFIXES = {
    ".env",
    ".ini",
    ".cfg",
    ".conf",
    ".toml",
    ".yaml",
    ".yml",
    ".properties",
    ".service",
    ".example",
}
CREDENTIAL_URL = re.compile(
    r"\b[a-z][a-z0-9+.-]*://(?P<user>[^\s:/@'\"]+):(?P<password>[^\s@/'\"]+)@[^\s'\"]+"
)
# Values that only hold a place: empty, a variable, a template, a spelled-out stand-in.
PLACEHOLDER = re.compile(
    r"""(?x)^(?:
        | \$[A-Za-z_][A-Za-z0-9_]* | \$\{[^}]*\} | <[^>]*> | \{\{.*\}\} | %\(\w+\)s | \.\.\.|…
        | (?i:x{3,} | \*{3,} | pass(?:word)? | secret | user(?:name)? | changeme | change-me)
        | [A-Z][A-Z0-9_]* (?# an upper-case word: the name of a variable, as in USER:PASSWORD@HOST)
    )$"""
)


@dataclass(frozen=True)
class Allowed:
    path: str
    text: str  # a substring of the line
    why: str


ALLOWED = [
    Allowed(
        "tests/_env.py",
        "test-only-secret-key-not-for-production-use",
        "the test run's SECRET_KEY, named for what it is",
    ),
    Allowed(
        "fieldservice/settings.py",
        "dev-only-insecure-secret-key-change-me-in-production",
        "used only with DEBUG on; settings refuse to start with it when DEBUG is off",
    ),
    Allowed(
        "tests/test_settings.py",
        "a-production-secret-that-is-long-and-random",
        "a made-up key, to test the checks the settings make of a production key",
    ),
    Allowed(
        "tests/test_settings.py",
        "p%40ss@db.internal:6543",
        "a made-up URL, to test that a percent-encoded password is decoded",
    ),
]
# The demo logins' password (published in the README), wherever the demo or a test uses it.
ALLOWED_VALUES = {"demo"}


def repository_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return sorted({ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()})


def _is_env_file(path: Path) -> bool:
    name = path.name
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def _example(path: Path) -> bool:
    return any(word in path.name for word in ("example", "sample", "template"))


def _placeholder(value: str) -> bool:
    return bool(PLACEHOLDER.match(value.strip().strip("'\""))) or value.strip("'\"") in ALLOWED_VALUES


def findings_in(path: Path, text: str, allowed: list[Allowed] = ALLOWED) -> list[str]:
    relative = path.relative_to(ROOT).as_posix()
    found = []
    config = path.suffix in CONFIG_SUFFIXES or _is_env_file(path) or path.name.startswith("env.")
    for number, line in enumerate(text.splitlines(), start=1):
        problems = []
        if PRIVATE_KEY.search(line):
            problems.append("a private key")
        problems += [kind for kind, pattern in SERVICE_TOKENS.items() if pattern.search(line)]
        for match in ASSIGNED_IN_CODE.finditer(line):
            if not _placeholder(match["value"]):
                problems.append(f"{match['name']} set to a literal")
        if config:
            setting = ASSIGNED_IN_CONFIG.match(line)
            if setting and not _placeholder(setting["value"]):
                problems.append(f"{setting['name']} set to a literal")
        for match in CREDENTIAL_URL.finditer(line):
            if not _placeholder(match["password"]):
                problems.append("a password in a URL")
        if _is_env_file(path) and not _example(path) and re.match(r"^\s*[A-Za-z_]\w*\s*=\s*\S", line):
            problems.append("a value in a .env file (keep it out of the repository)")
        if problems and not any(a.text in line and relative.startswith(a.path) for a in allowed):
            found.append(f"{relative}:{number}: {', '.join(sorted(set(problems)))}: {line.strip()[:120]}")
    return found


def test_no_secret_in_the_repository() -> None:
    files = repository_files()
    assert any(path.name == "settings.py" for path in files)  # the listing worked
    found = []
    for path in files:
        data = path.read_bytes()
        if len(data) > MAX_BYTES or b"\0" in data[:8192]:
            continue  # binary: images, fonts, compiled catalogs
        found += findings_in(path, data.decode("utf-8", errors="replace"))
    assert found == [], "secrets in the repository:\n" + "\n".join(found)


def test_every_allowance_is_still_needed() -> None:
    """Without its allowance, each allowed line would be reported: an allowance whose line is
    gone, or no longer looks like a secret, is removed, so the list stays short and true."""
    files = repository_files()
    for allowance in ALLOWED:
        others = [a for a in ALLOWED if a is not allowance]
        reported = [
            finding
            for path in files
            if path.relative_to(ROOT).as_posix().startswith(allowance.path)
            for finding in findings_in(path, path.read_text(errors="replace"), others)
        ]
        assert any(allowance.text in finding for finding in reported), f"not needed any more: {allowance}"


# --- the scanner finds what it is for -------------------------------------------------------------------


def _scan(name: str, text: str) -> list[str]:
    return findings_in(ROOT / name, text)


# The samples below are put together at run time, so that this file itself holds no secret.
PASSWORD, SECRET, PRIVATE = "PASS" + "WORD", "SEC" + "RET", "PRIV" + "ATE"


def test_it_finds_private_keys_and_tokens() -> None:
    key = f"-----BEGIN OPENSSH {PRIVATE} KEY-----"
    assert _scan("deploy/id_ed25519", f"{key}\nb3BlbnNzaC1rZXktdjEAAAAA\n")
    assert _scan("notes.md", "use AKIA" + "ABCDEFGHIJKLMNOP for the bucket")
    assert _scan("ci.yml", "token: ghp_" + "a" * 36)


def test_it_finds_passwords_in_settings_like_assignments() -> None:
    assert _scan("fieldservice/settings.py", f'EMAIL_HOST_{PASSWORD} = "hunter2-real"')
    assert _scan("fieldservice/settings.py", f'{SECRET}_KEY = "k8s7d6f5g4h3j2k1"')
    assert _scan("tests/_env.py", 'os.environ.setdefault("API_TOK' + 'EN", "abc123def456")')
    assert _scan("deploy/app.yml", f"db_{PASSWORD.lower()}: s3cr3t")
    assert _scan("deploy/env.example", f"{SECRET}_KEY=k8s7d6f5g4h3j2k1")
    assert _scan("fieldservice/settings.py", f'DATABASES = {{"default": {{"{PASSWORD}": "hunter2-real"}}}}')
    assert _scan("docs/setup.md", "DATABASE_URL=postgres://app:" + "Tr0ub4dor@db.internal/app")


def test_it_finds_env_files_with_values() -> None:
    assert _scan(".env", "DEBUG=1\n")
    assert _scan("deploy/production.env", "ALLOWED_HOSTS=example.com\n")
    assert not _scan("deploy/env.example", "DEBUG=0\nSECRET_KEY=\n")


def test_it_lets_placeholders_and_lookups_be() -> None:
    assert not _scan(
        "fieldservice/settings.py", f'EMAIL_HOST_{PASSWORD} = env_str("EMAIL_HOST_{PASSWORD}", "")'
    )
    assert not _scan("deploy/env.example", "# postgres://USER:" + PASSWORD + "@HOST:PORT/NAME")
    assert not _scan("fieldservice/settings.py", '"""`postgres://user:pass@host:port/name`"""')
    assert not _scan("tests/test_x.py", 'client.post("/login/", {"username": "a", "password": "wrong"})')
    assert not _scan("deploy/bootstrap.sh", f'DB_{PASSWORD}="${{DB_{PASSWORD}:-}}"')
    assert not _scan("fieldservice/demo/people.py", "DEMO_" + PASSWORD + ' = "demo"')
