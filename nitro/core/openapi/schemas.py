"""JSON Schemas for the types a handler names, shared under ``components.schemas``.

Request bodies are described as pydantic validates them (aliases accepted),
responses as nitro sends them (``model_dump_json()``: field names, not aliases).
pydantic is an extra: without it a type's schema is only what the builtins say
(``str`` -> ``{"type": "string"}``); a model's is left open (``{}``).

Schemas are collected first and made in one pass per mode, so that a model used
by several routes is one entry under ``components.schemas``.
"""

from __future__ import annotations

import logging
import sys
import types
import typing
from typing import Any, Literal

__all__ = ["SchemaSet", "param_schema"]

logger = logging.getLogger("nitro")

REF_PREFIX = "#/components/schemas/"
_BUILTIN: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    bytes: {"type": "string", "format": "binary"},
}


def param_schema(annotation: Any) -> dict[str, Any]:
    """A path param's schema: what nitro converts it to (an int or a float, with a 400
    when it does not parse), else a string as received."""
    if annotation is int:
        return {"type": "integer"}
    if annotation is float:
        return {"type": "number"}
    return {"type": "string"}


class SchemaSet:
    """Collects ``(type, mode)`` pairs; `resolve` fills every schema handed out.

    Example::

        schemas = SchemaSet()
        body = schemas.schema(NewUser, "validation")   # {} until resolved
        components = schemas.resolve()                   # body is now {"$ref": ...}
    """

    def __init__(self) -> None:
        self._wanted: list[tuple[Any, str, dict[str, Any]]] = []

    def schema(self, annotation: Any, mode: str) -> dict[str, Any]:
        """A dict that `resolve` fills with `annotation`'s schema (`mode`: "validation"
        for what is read, "serialization" for what is sent)."""
        placeholder: dict[str, Any] = {}
        self._wanted.append((annotation, mode, placeholder))
        return placeholder

    def resolve(self) -> dict[str, Any]:
        """Fill every schema handed out; return the shared ``components.schemas``."""
        try:
            from pydantic import TypeAdapter
        except ImportError:
            for annotation, _, placeholder in self._wanted:
                placeholder.update(_builtin_schema(annotation))
            return {}
        components: dict[str, Any] = {}
        modes: tuple[tuple[Literal["validation", "serialization"], bool], ...] = (
            ("validation", True),
            ("serialization", False),
        )
        for mode, by_alias in modes:
            wanted = [(a, p) for a, m, p in self._wanted if m == mode]
            inputs: list[tuple[int, Literal["validation", "serialization"], Any]] = []
            for index, (annotation, placeholder) in enumerate(wanted):
                adapter = _adapter(TypeAdapter, annotation, mode)
                if adapter is None:
                    placeholder.update(_builtin_schema(annotation))
                else:
                    inputs.append((index, mode, adapter))
            if not inputs:
                continue
            found, defs = TypeAdapter.json_schemas(
                inputs, ref_template=REF_PREFIX + "{model}", by_alias=by_alias
            )
            renames = _merge_defs(components, defs.get("$defs", {}), suffix=mode.title())
            for (index, _), schema in found.items():
                wanted[index][1].update(_renamed(schema, renames))
        return components


# --- Internal helpers ---


def _adapter(type_adapter: Any, annotation: Any, mode: str) -> Any:
    """A TypeAdapter for `annotation`, or None when pydantic cannot describe it."""
    try:
        adapter = type_adapter(_compatible(annotation))
        adapter.json_schema(mode=mode)
    except Exception as exc:  # an arbitrary class: leave its schema open
        logger.debug("[nitro:openapi] no schema for %r: %s", annotation, exc)
        return None
    return adapter


def _merge_defs(components: dict[str, Any], defs: dict[str, Any], suffix: str) -> dict[str, str]:
    """Add `defs` to `components`; a name already there with another schema gets
    `suffix` (``User`` -> ``UserSerialization``). Returns the renames made."""
    renames: dict[str, str] = {}
    for name, schema in defs.items():
        if name in components and components[name] != schema:
            renames[name] = name + suffix
    for name, schema in defs.items():
        components[renames.get(name, name)] = _renamed(schema, renames)
    return renames


def _renamed(schema: Any, renames: dict[str, str]) -> Any:
    if not renames:
        return schema
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                name = value[len(REF_PREFIX) :]
                out[key] = REF_PREFIX + renames.get(name, name)
            else:
                out[key] = _renamed(value, renames)
        return out
    if isinstance(schema, list):
        return [_renamed(item, renames) for item in schema]
    return schema


def _builtin_schema(annotation: Any) -> dict[str, Any]:
    """What can be said of `annotation` without pydantic."""
    if annotation in _BUILTIN:
        return dict(_BUILTIN[annotation])
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set, frozenset):
        items = _builtin_schema(args[0]) if args and origin is not tuple else {}
        return {"type": "array", "items": items} if items else {"type": "array"}
    if origin is dict or annotation is dict or _is_typed_dict(annotation):
        return {"type": "object"}
    if hasattr(annotation, "__dataclass_fields__"):
        return {"type": "object"}
    return {}


def _is_typed_dict(annotation: Any) -> bool:
    return isinstance(annotation, type) and hasattr(annotation, "__required_keys__")


_converted: dict[Any, Any] = {}


def _compatible(annotation: Any) -> Any:
    """`annotation` with every `typing.TypedDict` made a `typing_extensions` one:
    pydantic reads only those before Python 3.12."""
    if sys.version_info >= (3, 12):
        return annotation
    if _is_typed_dict(annotation) and annotation.__module__ != "typing_extensions":
        if annotation not in _converted:
            import typing_extensions

            hints = typing.get_type_hints(annotation, include_extras=True)
            fields = {
                name: _compatible(hint)
                if name in annotation.__required_keys__
                else typing_extensions.NotRequired[_compatible(hint)]
                for name, hint in hints.items()
            }
            clone: Any = typing_extensions.TypedDict(annotation.__name__, fields)  # type: ignore[misc]
            clone.__module__ = annotation.__module__
            clone.__doc__ = annotation.__doc__
            _converted[annotation] = clone
        return _converted[annotation]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is None or not args:
        return annotation
    new_args = tuple(_compatible(arg) for arg in args)
    if new_args == args:
        return annotation
    if origin is typing.Union or origin is types.UnionType:
        return typing.Union[new_args]  # noqa: UP007  (a tuple of types, not an annotation)
    try:
        return origin[new_args if len(new_args) > 1 else new_args[0]]
    except TypeError:
        return annotation
