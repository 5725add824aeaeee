"""What relsync prints for scripts keeps its shape: `run-once --json`, `resync --json`, `status --json` and every
`export` (JSON lines and CSV) on the generated company have the same keys, types and columns as before the
"One house" reorganisation (golden written by tests/e2e/cli_shapes.py from commit 0f30aa0).

A key or column added on purpose is added to the golden file in the same commit, with the reason in the commit
message; a key that disappears or changes type is a broken promise to a script.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.cli_shapes import Shape, capture, merge, shape_of

GOLDEN = Path(__file__).parent / "golden" / "cli_shapes_0f30aa0.json"


def differences(before: Shape, after: Shape, path: str = "") -> list[str]:
    """Every place where two shapes differ, as `path: before -> after`."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for key in sorted(before.keys() | after.keys()):
            if key not in after:
                found.append(f"{path}.{key}: removed")
            elif key not in before:
                found.append(f"{path}.{key}: added")
            else:
                found.extend(differences(before[key], after[key], f"{path}.{key}"))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after) == 1:
        return differences(before[0], after[0], f"{path}[]")
    return [] if before == after else [f"{path}: {json.dumps(before)} -> {json.dumps(after)}"]


def test_printed_json_and_exports_have_the_shapes_they_had_before_the_reorganisation(tmp_path: Path) -> None:
    golden = json.loads(GOLDEN.read_text())
    current = capture(tmp_path)
    assert sorted(current) == sorted(golden)
    assert [f"{name}{change}" for name in golden for change in differences(golden[name], current[name])] == []


def test_a_shape_names_keys_and_types_and_merges_list_items() -> None:
    printed = [{"mailbox": "a@x", "error": None, "folders": {"inbox": {"pages": 1}}}, {"mailbox": "b@x", "error": "x"}]
    assert shape_of(printed) == [{"error": "null|str", "folders": {"inbox": {"pages": "int"}}, "mailbox": "str"}]
    assert merge("int", "null") == "int|null"
    assert merge([], ["str"]) == ["str"]


def test_a_removed_key_and_a_changed_type_are_named_with_their_path() -> None:
    before = {"status --json": [{"state": "str", "lag": "int"}]}
    after = {"status --json": [{"state": "int"}]}
    assert differences(before, after) == [".status --json[].lag: removed", '.status --json[].state: "str" -> "int"']
