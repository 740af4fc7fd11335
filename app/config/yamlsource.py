"""Read merchant YAML safely and remember where every key and value stands.

PyYAML's ``safe_load`` forgets positions, silently keeps the last of two equal
keys, expands aliases without bound and reads ``no`` (Norwegian) as ``False``.
We compose the node graph with the safe loader and build the Python values
ourselves, so every value keeps its ``line:column``, duplicate keys are
reported, alias bombs and deep nesting are refused, and only ``true``/``false``
are booleans (YAML 1.2). Floats keep their exact decimal text as ``Decimal``,
so ``price: 9.99`` never passes through binary floating point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.config.problems import Path, Position, Problem

MAX_FILE_BYTES = 512 * 1024
MAX_DEPTH = 24
MAX_NODES = 50_000
MAX_TEXT = 1024 * 1024
"""Characters of keys and values the built document may hold: twice what the largest file
can write out. Aliases repeat a text each time they are used, so a small file of aliases to
long texts could otherwise become hundreds of megabytes in every page that shows them."""

_TOO_MANY_VALUES = (
    f"the document expands to more than {MAX_NODES} values "
    "(an alias bomb, or a file far larger than a merchant needs)"
)
_COLLECTION_TAGS = {
    MappingNode: "tag:yaml.org,2002:map",
    SequenceNode: "tag:yaml.org,2002:seq",
}
_SURROGATE = re.compile("[\ud800-\udfff]")
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "bool", "null", "timestamp")
)
_YAML12_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class _Resolver(yaml.resolver.Resolver):
    """The safe resolver without YAML 1.1's yes/no/on/off booleans."""


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Resolver.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0, ("tag:yaml.org,2002:bool", _YAML12_BOOL)
    )


class _Loader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    yaml.constructor.SafeConstructor,
    _Resolver,
):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)
        self.depth = 0
        self.composed = 0
        self.alias_marks: dict[tuple[int, int], yaml.Mark] = {}

    def compose_node(self, parent: Node | None, index: object) -> Node:
        """PyYAML composes recursively and before we build: bound both here, so
        ``[[[[…]]]]`` is refused before Python's recursion limit and a huge flow
        list before seconds of composing."""
        self.depth += 1
        self.composed += 1
        try:
            mark = self.peek_event().start_mark
            if self.depth > MAX_DEPTH + 1:  # the root is depth 1 here, 0 in _Builder
                raise _refuse(f"nesting deeper than {MAX_DEPTH} levels", _mark_position(mark))
            if self.composed > MAX_NODES:
                raise _refuse(_TOO_MANY_VALUES, _mark_position(mark))
            if parent is not None and self.check_event(yaml.events.AliasEvent):
                # Where the alias is used: the builder reports an expansion there.
                self.alias_marks[(id(parent), index if isinstance(index, int) else id(index))] = (
                    mark
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


@dataclass
class SourceMap:
    """Where each key path of a document stands: the key's and the value's position."""

    keys: dict[Path, Position] = field(default_factory=dict)
    values: dict[Path, Position] = field(default_factory=dict)

    def position(self, path: Path, *, key: bool = False) -> Position:
        """The position of ``path``, or of its closest ancestor that has one."""
        table = self.keys if key else self.values
        while path:
            if path in table:
                return table[path]
            if not key and path in self.keys:
                return self.keys[path]
            path = path[:-1]
        return self.values.get((), Position(1, 1))


@dataclass
class YamlDocument:
    data: object
    source: SourceMap


class YamlError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _mark_position(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def _position(node: Node) -> Position:
    return _mark_position(node.start_mark)


def _refuse(message: str, position: Position) -> YamlError:
    return YamlError(Problem.error((), message, position))


class _Builder:
    def __init__(self, loader: _Loader) -> None:
        self.loader = loader
        self.source = SourceMap()
        self.nodes = 0
        self.text = 0  # characters of keys and values built so far, aliases expanded

    def _site(self, parent: Node, index: int, site: Position | None) -> Position | None:
        """The outermost alias use on the way to a child: where an expansion starts."""
        if site is not None:
            return site
        mark = self.loader.alias_marks.get((id(parent), index))
        return _mark_position(mark) if mark is not None else None

    def _count_text(self, node: ScalarNode, site: Position | None) -> None:
        self.text += len(node.value)
        if self.text > MAX_TEXT:
            raise _refuse(
                f"the document expands to more than {MAX_TEXT // 1024} KiB of text: aliases "
                "repeat a text each time they are used; write each text out once",
                site or _position(node),
            )

    def build(self, node: Node, path: Path, depth: int, site: Position | None = None) -> object:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _refuse(_TOO_MANY_VALUES, site or _position(node))
        if depth > MAX_DEPTH:
            raise _refuse(f"nesting deeper than {MAX_DEPTH} levels", _position(node))
        self.source.values.setdefault(path, _position(node))
        expected = _COLLECTION_TAGS.get(type(node))
        if expected and node.tag != expected:  # !!set, !!omap, !!python/…: nothing but plain
            raise _refuse(f"unsupported YAML tag '{node.tag}'", _position(node))
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth, site)
        if isinstance(node, SequenceNode):
            return [
                self.build(item, (*path, i), depth + 1, self._site(node, i, site))
                for i, item in enumerate(node.value)
            ]
        self._count_text(node, site)
        return self._scalar(node)

    def _mapping(self, node: MappingNode, path: Path, depth: int, site: Position | None) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _refuse("merge keys ('<<') are not supported", _position(key_node))
            if not isinstance(key_node, ScalarNode):
                raise _refuse("a key must be a plain value", _position(key_node))
            key = self._scalar(key_node)
            if not isinstance(key, str | int) or isinstance(key, bool):
                key = str(key_node.value)
            key = str(key)
            if key in result:
                first = self.source.keys[(*path, key)]
                raise _refuse(
                    f"duplicate key '{key}' (first defined at line {first.line})",
                    _position(key_node),
                )
            self.source.keys[(*path, key)] = _position(key_node)
            self._count_text(key_node, site)
            result[key] = self.build(
                value_node, (*path, key), depth + 1, self._site(node, id(key_node), site)
            )
        return result

    def _scalar(self, node: ScalarNode) -> object:
        if node.tag == "tag:yaml.org,2002:float":
            text = node.value.replace("_", "")
            try:
                return Decimal(text)
            except ArithmeticError:
                return node.value  # .inf / .nan: left as text, validation rejects it
        if _SURROGATE.search(node.value):  # "\ud800": an escape, but no character
            raise _refuse(
                "a text contains a lone surrogate escape (\\uD800–\\uDFFF)", _position(node)
            )
        if node.tag in _SCALAR_TAGS:
            try:
                return self.loader.construct_object(node)
            except (yaml.YAMLError, ValueError):
                raise _refuse(
                    f"'{node.value}' is not a valid {node.tag.rsplit(':', 1)[1]}", _position(node)
                ) from None
        raise _refuse(f"unsupported YAML tag '{node.tag}'", _position(node))


def parse_yaml(text: str | bytes) -> YamlDocument:
    """Parse one YAML document into plain values and their positions.

    Raises :class:`YamlError` carrying a positioned problem for anything that
    is not a safe, reasonably sized, well-formed document.
    """
    if len(text) > MAX_FILE_BYTES:
        raise _refuse(f"the file is larger than {MAX_FILE_BYTES // 1024} KiB", Position(1, 1))
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            raise _refuse("the file is not valid UTF-8", Position(line, 1)) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise _refuse("the file contains a NUL byte", Position(line, 1))
    try:
        loader = _Loader(text)  # the reader refuses control characters right here
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise _refuse(
            f"the file contains the unprintable character U+{exc.character:04X}",
            Position(line, column),
        ) from None
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        raise _refuse(f"YAML syntax: {exc.problem or exc.context}", where) from None
    except yaml.YAMLError as exc:
        raise _refuse(f"YAML syntax: {exc}", Position(1, 1)) from None
    finally:
        loader.dispose()
    if root is None:
        return YamlDocument({}, SourceMap())
    builder = _Builder(loader)
    return YamlDocument(builder.build(root, (), 0), builder.source)
