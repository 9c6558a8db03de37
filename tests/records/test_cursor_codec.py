"""Properties of list cursors: they round-trip, any alteration is refused (or decodes to the very
same content), and a cursor never crosses from one filter fingerprint to another."""

from __future__ import annotations

import base64

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmsbridge.errors import InputInvalidError
from lmsbridge.ids import ALPHABET
from lmsbridge.records.listing import CursorCodec, fingerprint

BOUNDED = settings(max_examples=300, deadline=None, derandomize=True)

KEY = bytes(range(32))
codec = CursorCodec(KEY)

record_ids = st.text(alphabet=ALPHABET, min_size=24, max_size=24)
# Anything a sort key could be, including non-ASCII and characters JSON escapes.
afters = st.one_of(record_ids, st.text(max_size=60))
fingerprints = st.text(alphabet="0123456789abcdef", min_size=16, max_size=16)
params = st.dictionaries(
    st.sampled_from(["ids", "remote_ids", "updated_after", "include_deleted", "work_emails", "user_ids"]),
    st.text(max_size=20),
    max_size=4,
)


@BOUNDED
@given(after=afters, bound=fingerprints)
def test_a_cursor_decodes_to_what_it_encodes(after: str, bound: str) -> None:
    cursor = codec.encode(after, bound)
    assert codec.decode(cursor, bound) == after
    assert cursor.isascii() and "=" not in cursor.partition(".")[0]


@BOUNDED
@given(after=afters, bound=fingerprints, data=st.data())
def test_any_alteration_is_refused_or_decodes_to_the_same_content(
    after: str, bound: str, data: st.DataObject
) -> None:
    cursor = codec.encode(after, bound)
    mutation = data.draw(
        st.one_of(
            # replace one character (by anything, ASCII or not)
            st.tuples(st.just("replace"), st.integers(0, len(cursor) - 1), st.characters()),
            # insert one character
            st.tuples(st.just("insert"), st.integers(0, len(cursor)), st.characters()),
            # delete one character
            st.tuples(st.just("delete"), st.integers(0, len(cursor) - 1), st.just("")),
            # truncate
            st.tuples(st.just("truncate"), st.integers(0, len(cursor) - 1), st.just("")),
        )
    )
    kind, at, char = mutation
    if kind == "replace":
        altered = cursor[:at] + char + cursor[at + 1 :]
    elif kind == "insert":
        altered = cursor[:at] + char + cursor[at:]
    elif kind == "delete":
        altered = cursor[:at] + cursor[at + 1 :]
    else:
        altered = cursor[:at]
    try:
        decoded = codec.decode(altered, bound)
    except InputInvalidError:
        return
    # Only an alteration that leaves the signed payload's bytes unchanged may be accepted (base64
    # padding bits, say): it must then mean exactly what the original meant.
    assert decoded == after


@BOUNDED
@given(after=afters, bound=fingerprints, other=fingerprints)
def test_a_cursor_never_crosses_fingerprints(after: str, bound: str, other: str) -> None:
    cursor = codec.encode(after, bound)
    if other == bound:
        assert codec.decode(cursor, other) == after
        return
    with pytest.raises(InputInvalidError, match="other filters"):
        codec.decode(cursor, other)


@BOUNDED
@given(after=afters, bound=fingerprints)
def test_a_cursor_of_another_key_is_refused(after: str, bound: str) -> None:
    forged = CursorCodec(b"another instance's key").encode(after, bound)
    with pytest.raises(InputInvalidError):
        codec.decode(forged, bound)


@BOUNDED
@given(after=afters, bound=fingerprints, other=fingerprints)
def test_re_signing_is_the_only_way_to_rebind_a_cursor(after: str, bound: str, other: str) -> None:
    """A client that rewrites the payload's fingerprint without the key is refused."""
    _, _, signature = codec.encode(after, bound).partition(".")
    payload = orjson.dumps({"a": after, "f": other})
    rewritten = base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + signature
    if other == bound:
        assert codec.decode(rewritten, bound) == after
    else:
        with pytest.raises(InputInvalidError):
            codec.decode(rewritten, other)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(garbage=st.text(max_size=80), bound=fingerprints)
def test_garbage_is_refused_as_input_invalid_never_a_crash(garbage: str, bound: str) -> None:
    try:
        codec.decode(garbage, bound)
    except InputInvalidError:
        pass


@BOUNDED
@given(first=params, second=params, integration=st.sampled_from(["sandbox:a", "sandbox:b"]))
def test_fingerprints_bind_endpoint_integration_and_filters_but_not_paging(
    first: dict[str, str], second: dict[str, str], integration: str
) -> None:
    base = fingerprint("lms_users", integration, first)
    paging = {**first, "page_size": "7", "cursor": "anything"}
    assert fingerprint("lms_users", integration, paging) == base
    assert fingerprint("lms_courses", integration, first) != base
    other_integration = "sandbox:b" if integration == "sandbox:a" else "sandbox:a"
    assert fingerprint("lms_users", other_integration, first) != base
    assert (fingerprint("lms_users", integration, second) == base) == (first == second)
