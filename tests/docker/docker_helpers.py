"""Helpers of the image tests (tests/docker/, and tests/image/ through image_helpers): where the
images' sources are, a skip whose reason is printed, and a small Dockerfile reader."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO / "docker"
APP_DIR = REPO / "examples" / "laravel-app"

Instruction = tuple[str, str]


def skip(reason: str) -> None:
    # Printed as well, so the reason shows in plain `pytest` output, not only with -rs.
    print(f"SKIP: {reason}", file=sys.stderr)
    pytest.skip(reason)


def instructions(text: str) -> list[Instruction]:
    """(INSTRUCTION, arguments) pairs of a Dockerfile, continuation lines joined, comments dropped."""
    result: list[Instruction] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not current and not line):
            continue
        if line.endswith("\\"):
            current += line[:-1].rstrip() + " "
            continue
        current += line
        keyword, _, rest = current.partition(" ")
        result.append((keyword.upper(), rest.strip()))
        current = ""
    return result


def global_args(text: str) -> dict[str, str]:
    """The ARGs declared with a default before the first FROM."""
    args: dict[str, str] = {}
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in rest:
            key, _, value = rest.partition("=")
            args[key.strip()] = value.strip().strip('"')
    return args


class Stage(list):
    """A build stage: the instructions after its FROM, in order; `base` is what the FROM names."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base


def parse_stages(text: str) -> dict[str, Stage]:
    """name -> Stage, in file order; a stage without AS is named #<its index>."""
    stages: dict[str, Stage] = {}
    name = None
    for keyword, args in instructions(text):
        if keyword == "FROM":
            match = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", args, re.IGNORECASE)
            assert match, f"FROM {args}"
            name = match.group(2) or f"#{len(stages)}"
            assert name not in stages, f"stage {name} defined twice"
            stages[name] = Stage(match.group(1))
        elif name is not None:
            stages[name].append((keyword, args))
    return stages


def base_chain(stages: dict[str, Stage], name: str) -> list[str]:
    """The stage and the stages of the same file it is built FROM, oldest first."""
    chain = []
    while name in stages:
        chain.insert(0, name)
        name = stages[name].base
    return chain


def chained_instructions(stages: dict[str, Stage], name: str) -> list[Instruction]:
    """The instructions of the stage's chain (base_chain), oldest first: what the stage's image holds."""
    return [step for stage in base_chain(stages, name) for step in stages[stage]]
