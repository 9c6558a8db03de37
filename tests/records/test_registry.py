"""The model registry is the one list of models: every other list is read from it."""

from __future__ import annotations

from lmsbridge.client._base import LISTS
from lmsbridge.connectors.records import SYNC_MODELS
from lmsbridge.db import tables as t
from lmsbridge.records.registry import LISTED, SPECS
from lmsbridge.schemas.models import MODELS, Model


def test_every_model_has_wire_facts_and_every_stored_model_a_table_of_its_name() -> None:
    assert set(MODELS) == set(Model)
    for model, spec in SPECS.items():
        assert spec.table is t.metadata.tables[model.value]


def test_blanked_columns_exist_and_never_include_ids_or_stamps() -> None:
    for spec in SPECS.values():
        assert spec.pii
        for column in spec.pii:
            assert column in spec.table.c, (spec.name, column)
        assert not {"id", "remote_id", "integration_id", "changed_at", "updated_stamp"} & set(spec.pii)


def test_models_with_a_list_endpoint_are_listed_by_the_server_and_the_client() -> None:
    with_path = {model.value for model, info in MODELS.items() if info.path}
    assert set(LISTED) == with_path
    assert {path for path, _ in LISTS.values()} == {f"/v1{MODELS[Model(m)].path}" for m in with_path}


def test_a_sync_reads_every_model_a_connector_yields_records_for() -> None:
    yielded = {spec.model for spec in SPECS.values() if spec.record_type is not None}
    assert set(SYNC_MODELS) == yielded
