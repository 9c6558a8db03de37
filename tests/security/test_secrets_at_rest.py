"""Secrets at rest: API keys are stored only as hashes, remote credentials (and webhook signing
secrets) only encrypted. Integrations are created as an operator does, with the command line and a
credentials file holding known secrets; the API is then used with the key; and the raw store is
searched: on SQLite the bytes of the database file and its WAL, on PostgreSQL every row of every
table in its text form."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from lmsbridge.app import create_app
from lmsbridge.auth.service import hash_key
from lmsbridge.db import Store
from lmsbridge.db.tables import integrations
from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
from tests.api.helpers import COURSES, course
from tests.conftest import fresh_database, make_settings, running
from tests.security.helpers import found_in, store_text

SECRET_KEY = "at-rest-test-secret-key"


def lmsbridge(cwd: Path, url: str, *args: str) -> str:
    """Run the command line; its last line of output."""
    env = {**os.environ, "LMSBRIDGE_DATABASE_URL": url, "LMSBRIDGE_SECRET_KEY": SECRET_KEY}
    done = subprocess.run(
        [sys.executable, "-m", "lmsbridge", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def raw_files(url: str) -> dict[str, bytes]:
    path = Path(url.removeprefix("sqlite:///"))
    return {f.name: f.read_bytes() for f in path.parent.glob(path.name + "*")}


@pytest.mark.slow  # runs `lmsbridge` processes
def test_keys_are_hashed_and_credentials_encrypted_in_the_store(
    db_kind: str, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    marker = "at-rest-org-" + secrets.token_hex(4)
    remote = {
        "token": "tok" + secrets.token_hex(16),
        "password": "pw" + secrets.token_hex(16),
        "client_secret": "cs" + secrets.token_hex(16),
        "oauth": {"refresh_token": "rt" + secrets.token_hex(16)},
    }
    credentials_file = tmp_path / "credentials.json"
    credentials_file.write_text(json.dumps(remote))
    with fresh_database(db_kind, tmp_path_factory, "atrest") as url:
        lmsbridge(tmp_path, url, "migrate")
        key = lmsbridge(tmp_path, url, "keys", "create", "--name", "at-rest")
        create = ("integrations", "create", "--name", marker, "--credentials-file", str(credentials_file))
        created = [
            lmsbridge(tmp_path, url, *create, "--tool", "sandbox"),
            lmsbridge(
                tmp_path, url, *create, "--tool", "moodle", "--setting", "site_url=https://moodle.example.com"
            ),
        ]

        # Use the key: every call is recorded in the interaction log, in the same store.
        settings = make_settings(url, tmp_path, secret_key=SECRET_KEY)
        store = Store(url)
        issued = []
        try:
            with (
                running(create_app(store, settings)) as base,
                httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as api,
            ):
                assert api.get("/v1/check-api-key").status_code == 200
                for integration in created:
                    assert api.get(f"/v1/integrations/{integration}").status_code == 200
                item = {**course("at-rest-1"), "password": remote["password"]}
                posted = api.post(COURSES, json={"items": [item]}, headers={"X-Integration-Id": created[0]})
                assert posted.status_code == 200, posted.text
                webhook = api.post("/v1/webhooks", json={"url": "https://receiver.example.com/hook"})
                if webhook.status_code == 200:  # the webhooks extension is installed
                    issued.append(webhook.json()["data"]["secret"])
                    issued.append(api.post("/v1/webhooks/callback-secret").json()["data"]["secret"])
            # The credentials are there, encrypted: they open with the configured key.
            with store.read() as conn:
                sealed = list(conn.scalars(select(integrations.c.credentials)))
            box = CredentialBox(load_secret_key(settings, create=False))
            assert [box.open(token) for token in sealed] == [remote, remote]
            tables = store_text(store)
        finally:
            store.dispose()
        files = raw_files(url) if db_kind == "sqlite" else {}

    plain = [
        key,
        key[12:],  # all but the prefix that `keys list` shows
        remote["token"],
        remote["password"],
        remote["client_secret"],
        remote["oauth"]["refresh_token"],
        *issued,
    ]
    leaks = found_in(tables, plain)
    leaks += [
        f"{s!r} in the file {name}" for name, data in files.items() for s in plain if s.encode() in data
    ]
    assert not leaks, "\n".join(leaks)

    # The search searched the right thing: what is stored in the clear is found.
    everything = "\n".join(tables.values())
    assert hash_key(key) in everything and marker in everything and "at-rest-1" in everything
    if db_kind == "sqlite":
        assert b"".join(files.values()).count(marker.encode()) >= 1
        assert hash_key(key).encode() in b"".join(files.values())
