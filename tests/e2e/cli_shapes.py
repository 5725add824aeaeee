"""The shape of what relsync prints for scripts: `run-once --json`, `resync --json`, `status --json` and every
`export`, on the generated company.

A shape is the printed document with its values replaced by their JSON types: an object keeps its keys, a list
is the union of its items' shapes, a scalar is `"str"`, `"int"`, `"float"`, `"bool"` or `"null"` (a key that is
sometimes null and sometimes a string is `"null|str"`). A CSV export's shape is its header row. Shapes are what
scripts depend on; the values change with the data.

Run as a program to write the golden file from the code on the path (the golden in tests/e2e/golden/ was
written from the code before the "One house" reorganisation, commit 0f30aa0):

    PYTHONPATH=<checkout> python tests/e2e/cli_shapes.py OUT.json
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

RELSYNC = [sys.executable, "-m", "scheduler.cli"]
EXPORTS = ("people", "organizations", "interactions", "relationships")
Shape = Any


def shape_of(value: object) -> Shape:
    """The JSON type structure of one decoded document (see the module docstring)."""
    if isinstance(value, dict):
        return {key: shape_of(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        merged: Shape = None
        for item in value:
            merged = merge(merged, shape_of(item))
        return [merged] if merged is not None else []
    if value is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "str"}[type(value)]


def merge(left: Shape, right: Shape) -> Shape:
    """The union of two shapes: objects key by key, lists item-wise, scalars as a sorted `a|b`."""
    if left is None:
        return right
    if right is None:
        return left
    if isinstance(left, dict) and isinstance(right, dict):
        return {key: merge(left.get(key), right.get(key)) for key in sorted(left.keys() | right.keys())}
    if isinstance(left, list) and isinstance(right, list):
        if not left or not right:
            return left or right
        return [merge(left[0], right[0])]
    if isinstance(left, str) and isinstance(right, str):
        return "|".join(sorted(set(left.split("|")) | set(right.split("|"))))
    if isinstance(left, str) and left == "null":
        return right
    if isinstance(right, str) and right == "null":
        return left
    return f"mixed:{json.dumps(left, sort_keys=True)}|{json.dumps(right, sort_keys=True)}"


def jsonl_shape(text: str) -> Shape:
    merged: Shape = None
    for line in text.splitlines():
        if line.strip():
            merged = merge(merged, shape_of(json.loads(line)))
    return merged


def csv_header(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text)))


def run(config: Path, *args: str) -> str:
    done = subprocess.run(
        [*RELSYNC, "--config", str(config), *args], capture_output=True, text=True, timeout=300, env={**os.environ}
    )
    if done.returncode != 0:
        raise RuntimeError(f"relsync {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def capture(workdir: Path) -> dict[str, Shape]:
    """Start the fake Exchange (seed 7, 3 mailboxes, tiny company), run the main job and collect every shape."""
    config = workdir / "relsync.toml"
    written = ["--write-config", str(config)]
    fake = subprocess.Popen(
        [*RELSYNC, "fake-exchange", "--port", "0", "--seed", "7", "--mailboxes", "3", "--scale", "tiny", *written],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=workdir,
    )
    try:
        assert fake.stdout is not None
        info = json.loads(fake.stdout.readline())
        run(config, "db", "upgrade")
        shapes: dict[str, Shape] = {"run-once --json": shape_of(json.loads(run(config, "run-once", "--json")))}
        first = info["mailboxes"][0]
        shapes["resync --json"] = shape_of(json.loads(run(config, "resync", "--mailbox", first, "--json")))
        shapes["status --json"] = shape_of(json.loads(run(config, "status", "--json")))
        for kind in EXPORTS:
            shapes[f"export {kind} --format jsonl"] = jsonl_shape(run(config, "export", kind, "--format", "jsonl"))
            shapes[f"export {kind} --format csv"] = csv_header(run(config, "export", kind, "--format", "csv"))
        return shapes
    finally:
        fake.send_signal(signal.SIGTERM)
        fake.wait(timeout=30)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        captured = capture(Path(tmp))
    Path(sys.argv[1]).write_text(json.dumps(captured, indent=1, sort_keys=True) + "\n")
