"""The node tree of a YAML timetable file, composed from parser events with hostile files bounded.

PyYAML's own composer (`yaml.compose`) has two holes for files people upload:
- aliases: `&a [*b, *b, ...]` ten levels deep is a few hundred bytes that a walk of the tree visits
  10^10 times (the YAML "billion laughs"); a timetable has no use for them, so the first anchor or alias
  is refused;
- depth: it recurses once per nesting level, so `[` * 100,000 ends in RecursionError; here the tree is
  built with an explicit stack and refused past MAX_YAML_DEPTH.

Events come from libyaml when PyYAML has it (about 30 times faster than the pure-Python parser on a 1 MB
file, measured for issue 15), else from the pure-Python parser; both are state machines, not recursive.
"""

from __future__ import annotations

import yaml

from fsm_bot.timetable.errors import TimetableFileError
from fsm_bot.timetable.limits import MAX_YAML_DEPTH

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_LIBYAML_BAD_CHARACTER = "found character that cannot start any token"


def compose(text: str, source: str) -> yaml.Node | None:
    """The document's root node (None for an empty file); TimetableFileError names the line of any problem."""
    try:
        return _compose(text, source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        if problem == _LIBYAML_BAD_CHARACTER and mark is not None and 0 <= mark.index < len(text):
            # libyaml leaves out which character, PyYAML's own message says it: a tab is the classic mistake
            problem = f"found character {text[mark.index]!r} that cannot start any token"
        raise TimetableFileError([f"{source}, line {line}: YAML syntax error: {problem}"]) from None
    except yaml.YAMLError as exc:  # e.g. a control character the reader refuses, reported without a mark
        raise TimetableFileError([f"{source}: YAML syntax error: {exc}"]) from None


def _compose(text: str, source: str) -> yaml.Node | None:
    root: yaml.Node | None = None
    documents = 0
    # open collections, each with the list its children go into (a mapping's keys and values alternate)
    stack: list[tuple[yaml.CollectionNode, list[yaml.Node]]] = []
    for event in yaml.parse(text, Loader=_LOADER):
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise TimetableFileError([f"{source}, line {line}: a second YAML document (---); expected one"])
            continue
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise TimetableFileError(
                [f"{source}, line {line}: YAML anchors and aliases (&name, *name) are not supported; write it out"]
            )
        node: yaml.Node
        if isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
            # types-PyYAML tells libyaml's marks (yaml._yaml.Mark) from yaml.Mark, which nodes are typed to take;
            # PyYAML's own composer hands them over just the same (both have line, column and index).
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)  # type: ignore[arg-type]
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            if len(stack) >= MAX_YAML_DEPTH:
                raise TimetableFileError(
                    [f"{source}, line {line}: nested deeper than {MAX_YAML_DEPTH} levels; not a timetable"]
                )
            kind = yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = _RESOLVER.resolve(kind, None, event.implicit)
            node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)  # type: ignore[arg-type]  # marks, as above
            stack.append((node, []))
            continue
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            node, children = stack.pop()
            node.end_mark = event.end_mark
            if isinstance(node, yaml.MappingNode):  # keys and values alternate; the parser guarantees pairs
                node.value = list(zip(children[::2], children[1::2], strict=True))
            else:
                node.value = children
        else:  # stream and document boundaries
            continue
        if stack:
            stack[-1][1].append(node)
        else:
            root = node
    return root
