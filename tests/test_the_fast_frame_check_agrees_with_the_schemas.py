"""The fast check of a worker's frames (fastjsonschema) takes no frame the protocol's schemas
(jsonschema, draft 2020-12) refuse, and the frames taken are exactly those the schemas take:
near-valid frames of every type, each changed in one place.

The fast check may refuse a frame the schemas take (it reads a pattern's `$` as the end of the
text, where Python's `re` also matches before a final newline); jsonschema then judges it."""

from __future__ import annotations

import json
from typing import Any

import fastjsonschema
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from registry.protocol import _FAST_CHECKS, _VALIDATORS, WORKER_MESSAGES, ProtocolError, frame_parse
from tests.factories import WORKER_FRAME_JOB as JOB
from tests.factories import WORKER_FRAMES

# Values around the schemas' edges: types JSON confuses (1 and 1.0 and true), bounds, lengths.
edge_values = st.sampled_from(
    [None, True, False, 0, 1, 1.0, 1.5, -1, 100, 101, 10000, 10001, "", "x", "x" * 201, "1" * 36,
     JOB, JOB.upper(), JOB.replace("-", ""), JOB + "\n", [], [JOB], ["echo", 1], {}, {"value": 1},
     {"href": "h"}, {"value": 1, "href": "h"}, {"title": "t"}, {"title": 1}]
)  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    """The path of every value inside `value` (dict keys and list indexes), `value`'s own first."""
    found = [path]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        found += _paths(inner, (*path, key))
    return found


@st.composite
def near_valid_frames(draw: st.DrawFn) -> dict[str, Any]:
    frame = _copy(WORKER_FRAMES[draw(st.sampled_from(sorted(WORKER_FRAMES)))])
    # Any value but the type, which picks the schema (unknown types: test_worker_frames_refused).
    path = draw(st.sampled_from([path for path in _paths(frame) if path[:1] != ("type",)]))
    value = draw(edge_values | json_values)
    if not path:  # the frame itself: a field more
        frame[draw(st.sampled_from(["extra", "job", "outputs", "progress"]))] = value
        return frame
    *parents, last = path
    parent = frame
    for key in parents:
        parent = parent[key]
    change = draw(st.sampled_from(["replace", "drop", "add"]))
    if change == "drop":
        del parent[last]
    elif change == "add" and isinstance(parent, dict):
        parent[draw(st.sampled_from(["extra", "value", "href", "title", "job"]))] = value
    else:
        parent[last] = value
    return frame


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(inner) for key, inner in value.items()}
    return [_copy(inner) for inner in value] if isinstance(value, list) else value


def _fast_takes(frame: dict[str, Any]) -> bool:
    try:
        _FAST_CHECKS[frame["type"]](frame)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def test_every_message_type_has_a_valid_example_both_take():
    assert set(WORKER_FRAMES) == set(WORKER_MESSAGES)
    for frame in WORKER_FRAMES.values():
        assert _fast_takes(frame)
        assert _VALIDATORS[frame["type"]].is_valid(frame)


def _taken(frame: dict[str, Any]) -> bool | None:
    """Whether `frame_parse` takes the frame; None if it refuses it before its schema does
    (text JSON may not hold, such as a NUL character)."""
    try:
        frame_parse(json.dumps(frame))
    except ProtocolError as error:
        return False if error.code == "invalid-frame" else None
    return True


@settings(max_examples=1500, deadline=None)
@given(near_valid_frames())
def test_it_takes_the_frames_the_schemas_take_and_no_others(frame):
    taken = _taken(frame)
    assume(taken is not None)
    valid = _VALIDATORS[frame["type"]].is_valid(frame)
    assert taken == valid, frame
    if _fast_takes(frame):
        assert valid, frame


def test_a_frame_only_the_fast_check_refuses_is_taken():
    frame = {"type": "job.started", "job": JOB + "\n"}
    assert not _fast_takes(frame)
    assert _taken(frame)


def test_a_frame_it_refuses_is_refused_in_the_schemas_words():
    try:
        frame_parse(json.dumps({"type": "job.progress", "job": JOB, "progress": 101}))
    except ProtocolError as error:
        assert error.code == "invalid-frame"
        assert error.detail == "job.progress: progress: 101 is greater than the maximum of 100"
        assert error.job == JOB
    else:
        raise AssertionError("a progress over 100 was taken")
