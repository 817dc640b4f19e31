"""The documentation tells the truth about the code: diagram names exist, diagram arrows are
real imports, and every command in the guide and README parses with the CLI's own parser."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import shlex
from pathlib import Path

import pytest

import symbolic
from symbolic.cli.main import build_parser

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = DOCS.parent / "README.md"


def mermaid_blocks(text: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", text, re.S)


def all_classes() -> set[str]:
    names = set()
    for module in pkgutil.walk_packages(symbolic.__path__, "symbolic."):
        if module.name.startswith("symbolic.web") or module.name.endswith("__main__"):
            continue  # the web app starts nothing at import, but needs its optional extra
        for name, value in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if value.__module__.startswith("symbolic"):
                names.add(name)
    return names


def test_modules_named_in_the_architecture_exist() -> None:
    text = (DOCS / "architecture.md").read_text()
    named = set(re.findall(r"symbolic(?:\.[a-z_]+)+", text))
    assert len(named) > 25
    for name in sorted(named):
        importlib.import_module(name)


def test_component_arrows_are_real_imports() -> None:
    flowchart = mermaid_blocks((DOCS / "architecture.md").read_text())[0]
    nodes = dict(re.findall(r'(\w+)\["(symbolic[\w.]*)"\]', flowchart))
    arrows = re.findall(r"^\s*(\w+) --> (\w+)\s*$", flowchart, re.M)
    assert len(arrows) > 30
    for source, target in arrows:
        module = importlib.import_module(nodes[source])
        code = Path(module.__file__).read_text()  # type: ignore[arg-type]
        assert f"from {nodes[target]} import" in code or f"import {nodes[target]}" in code, (
            f"{nodes[source]} does not import {nodes[target]}")


def test_classes_in_the_class_diagram_exist() -> None:
    diagram = mermaid_blocks((DOCS / "architecture.md").read_text())[1]
    declared = set(re.findall(r"^\s*class (\w+)", diagram, re.M))
    assert len(declared) > 15
    missing = declared - all_classes()
    assert not missing, f"classes in the diagram but not in the package: {missing}"


def commands(path: Path) -> list[str]:
    lines = []
    for block in re.findall(r"```\n(.*?)```", path.read_text(), re.S):
        lines += [line.split("  #")[0].strip() for line in block.splitlines() if line.startswith("symbolic ")]
    return lines


@pytest.mark.parametrize("command", commands(DOCS / "guide.md"))
def test_guide_commands_parse(command: str) -> None:
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert callable(args.handler)


def test_guide_covers_every_command() -> None:
    used = {shlex.split(c)[1] for c in commands(DOCS / "guide.md")}
    parser = build_parser()
    available = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert available <= used, f"not in the guide: {available - used}"


def test_readme_commands_name_real_options() -> None:
    # The README's CLI summary uses [optional] and A|B forms: check each --option exists.
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for line in re.findall(r"^symbolic (\w+)(.*)$", README.read_text(), re.M):
        command, rest = line
        sub = choices[command]
        known = {o for action in sub._actions for o in action.option_strings}
        if sub._subparsers is not None:
            for child in sub._subparsers._group_actions[0].choices.values():
                known |= {o for action in child._actions for o in action.option_strings}
        for option in re.findall(r"(--[a-z][a-z-]*)", rest):
            assert option in known, f"README: symbolic {command} has no {option}"
