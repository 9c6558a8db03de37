"""Properties of the idempotency hash of bulk bodies (canonical JSON: key order and whitespace do not
matter, content does) and of derived ids (24 base58 characters, deterministic, distinct)."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lmsbridge.ids import ALPHABET, ID_LENGTH, derived_id, integration_id, is_id, new_id
from lmsbridge.schemas.bulk import CoursesBulkRequest, SkillsBulkRequest, canonical_items
from lmsbridge.tasks.service import body_hash

BOUNDED = settings(max_examples=200, deadline=None, derandomize=True)

words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20)
courses = st.fixed_dictionaries(
    {
        "origin_id": words,
        "course": st.fixed_dictionaries(
            {
                "type": st.just("EXTERNAL"),
                "title": words,
                "course_url": st.from_regex(
                    r"https://[a-z]{1,10}\.example\.com/[a-z0-9]{0,10}", fullmatch=True
                ),
            },
            optional={
                "description": words,
                "duration": st.integers(1, 10_000),
                "languages": st.lists(st.sampled_from(["en", "de", "fr"]), max_size=3, unique=True),
            },
        ),
    }
)
course_lists = st.lists(courses, min_size=1, max_size=5, unique_by=lambda c: c["origin_id"])


def reorder(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in another order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: reorder(value[k], rng) for k in keys}
    if isinstance(value, list):
        return [reorder(v, rng) for v in value]
    return value


def hash_of(text: str) -> str:
    return body_hash(canonical_items(CoursesBulkRequest.model_validate_json(text)))


@BOUNDED
@given(items=course_lists, seed=st.integers(0, 2**32), indent=st.sampled_from([None, 0, 1, 4]))
def test_key_order_and_whitespace_do_not_change_the_hash(
    items: list[dict[str, Any]], seed: int, indent: Any
) -> None:
    original = json.dumps({"items": items})
    rewritten = json.dumps(
        reorder({"items": items}, random.Random(seed)),
        indent=indent,
        separators=(", ", " :  ") if indent is None else None,
        ensure_ascii=bool(seed % 2),
    )
    assert hash_of(original) == hash_of(rewritten)


@BOUNDED
@given(items=course_lists, data=st.data())
def test_different_item_content_gives_a_different_hash(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(items) - 1))
    field = data.draw(st.sampled_from(["origin_id", "title", "course_url", "duration"]))
    changed = json.loads(json.dumps(items))
    target = changed[index] if field == "origin_id" else changed[index]["course"]
    if field == "duration":
        target["duration"] = target.get("duration", 0) + 1
    elif field == "course_url":
        target["course_url"] += "x"
    else:
        target[field] += "x"
    assert hash_of(json.dumps({"items": items})) != hash_of(json.dumps({"items": changed}))


@BOUNDED
@given(items=course_lists)
def test_item_order_is_content(items: list[dict[str, Any]]) -> None:
    """Items are results in order: the same items in another order are another request."""
    reordered = list(reversed(items))
    same = reordered == items
    assert (hash_of(json.dumps({"items": items})) == hash_of(json.dumps({"items": reordered}))) == same


@BOUNDED
@given(origin=words, name=words)
def test_skill_bodies_hash_canonically_too(origin: str, name: str) -> None:
    one = SkillsBulkRequest.model_validate_json(json.dumps({"items": [{"origin_id": origin, "name": name}]}))
    two = SkillsBulkRequest.model_validate_json(
        json.dumps({"items": [{"name": name, "origin_id": origin}]}, indent=2)
    )
    assert body_hash(canonical_items(one)) == body_hash(canonical_items(two))


integrations = st.builds(lambda s: f"sandbox:{s}", st.text(alphabet=ALPHABET, min_size=24, max_size=24))
models = st.sampled_from(
    ["lms_users", "lms_courses", "lms_course_revisions", "lms_course_providers", "lms_skills",
     "lms_course_progressions", "hris_skills"]
)  # fmt: skip
remote_ids = st.text(max_size=40)


@BOUNDED
@given(integration=integrations, model=models, remote=remote_ids)
def test_a_derived_id_is_24_base58_characters_and_deterministic(
    integration: str, model: str, remote: str
) -> None:
    first = derived_id(integration, model, remote)
    assert len(first) == ID_LENGTH == 24
    assert set(first) <= set(ALPHABET)
    assert is_id(first)
    assert derived_id(integration, model, remote) == first


@BOUNDED
@given(
    a=st.tuples(integrations, models, remote_ids),
    b=st.tuples(integrations, models, remote_ids),
)
def test_derived_ids_differ_across_integrations_models_and_remote_ids(
    a: tuple[str, str, str], b: tuple[str, str, str]
) -> None:
    assert (derived_id(*a) == derived_id(*b)) == (a == b)


@BOUNDED
@given(integration=integrations, model=models, remote=remote_ids)
def test_parts_do_not_run_into_each_other(integration: str, model: str, remote: str) -> None:
    """Moving characters across the boundary between parts gives another id."""
    assert derived_id(integration, model, remote + "1") != derived_id(integration, model + "1", remote)
    assert derived_id(integration, model, remote) != derived_id(integration + model, "", remote)


def test_many_derived_ids_do_not_collide() -> None:
    ids = {derived_id("sandbox:x", "lms_users", str(n)) for n in range(50_000)}
    assert len(ids) == 50_000


@settings(max_examples=50, deadline=None, derandomize=True)
@given(tool=st.sampled_from(["sandbox", "moodle"]))
def test_random_ids_have_the_same_shape(tool: str) -> None:
    assert is_id(new_id())
    prefix, _, rest = integration_id(tool).partition(":")
    assert prefix == tool and is_id(rest)
