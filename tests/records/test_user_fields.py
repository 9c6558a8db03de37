"""A user's `custom_fields` and `integration_fields` are stored, take part in the change hash, and
are read in the contract's shape (an integration field's id is the same for every user of the
integration, its value null); connectors that give neither answer null and []."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lmsbridge.connectors.records import RemoteField, UserRecord
from lmsbridge.db import tables as t
from lmsbridge.records import queries
from lmsbridge.records.stamps import take_stamp
from lmsbridge.records.writer import Counts, RecordWriter
from tests.conftest import Server, Tenant

BADGE = RemoteField("Custom_ID/BADGE", "CUSTOM", "Badge Number")
USER_ID = RemoteField("User_ID", "DEFAULT", "User Name")


def write(server: Server, integration: str, *users: UserRecord) -> Counts:
    with server.store.write() as conn:
        counts, _ = RecordWriter(conn, integration, take_stamp(conn, integration)).write("lms_users", users)
    return counts


def read(server: Server, integration: str) -> dict[str, dict[str, Any]]:
    with server.store.read() as conn:
        rows = list(conn.execute(select(t.lms_users).where(t.lms_users.c.integration_id == integration)))
        return {user["remote_id"]: user for user in queries.users(conn, rows, False)}


def worker(remote_id: str, badge: str | None) -> UserRecord:
    return UserRecord(
        remote_id,
        "Ada",
        "Lovelace",
        f"{remote_id}@example.com",
        "ACTIVE",
        custom_fields={"Badge Number": badge} if badge else None,
        integration_fields=(USER_ID, BADGE) if badge else (USER_ID,),
    )


def test_custom_and_integration_fields_are_stored_hashed_and_read_back(
    clean_server: Server, tenant: Tenant
) -> None:
    integration = tenant.integration
    assert write(clean_server, integration, worker("21001", "B-7"), worker("21002", None)).added == 2
    users = read(clean_server, integration)
    assert users["21001"]["custom_fields"] == {"Badge Number": "B-7"}
    assert users["21002"]["custom_fields"] is None
    fields = {f["key"]: f for f in users["21001"]["integration_fields"]}
    assert fields["Custom_ID/BADGE"] == {
        "id": fields["Custom_ID/BADGE"]["id"],
        "key": "Custom_ID/BADGE",
        "type": "CUSTOM",
        "value": None,
        "label": "Badge Number",
    }
    assert len(fields["User_ID"]["id"]) == 24
    assert users["21002"]["integration_fields"][0]["id"] == fields["User_ID"]["id"]

    # Only a change of the custom value counts as a change of the user.
    assert write(clean_server, integration, worker("21001", "B-7")).unchanged == 1
    changed = write(clean_server, integration, worker("21001", "B-8"))
    assert (changed.updated, changed.unchanged) == (1, 0)
    assert read(clean_server, integration)["21001"]["custom_fields"] == {"Badge Number": "B-8"}


def test_a_connector_that_gives_neither_answers_null_and_an_empty_list(
    clean_server: Server, tenant: Tenant
) -> None:
    write(clean_server, tenant.integration, UserRecord("u-1", "Grace", "Hopper", None))
    user = read(clean_server, tenant.integration)["u-1"]
    assert user["custom_fields"] is None and user["integration_fields"] == []
