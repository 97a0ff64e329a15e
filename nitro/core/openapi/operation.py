"""One route's OpenAPI operation, from what its handler's signature says.

- path params: the route's params, typed by the handler's annotation of the same
  name where nitro converts it (``int``, ``float``); a string otherwise;
- a parameter annotated with a pydantic model: the JSON request body;
- the return annotation: the ``200`` response (``str`` -> text/plain, ``bytes`` ->
  octet-stream, ``None`` -> ``204``, ``X | None`` -> ``200`` and ``204``, a model,
  dataclass, TypedDict or container -> JSON);
- the docstring: ``summary`` (its first line) and ``description`` (the rest);
- the errors nitro itself answers for that operation (body, params, size).
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from .paths import PathForm
from .schemas import SchemaSet, param_schema

__all__ = ["ERROR_REF", "HandlerInfo", "describe_handler", "make_operation"]

ERROR_REF = {"$ref": "#/components/schemas/NitroError"}
_NO_ANNOTATION = inspect.Parameter.empty


@dataclass
class HandlerInfo:
    """What a handler's function tells about its operation."""

    summary: str | None = None
    description: str | None = None
    param_types: dict[str, Any] = field(default_factory=dict)
    body: Any = None  # the pydantic model read from the body
    returns: Any = _NO_ANNOTATION


def describe_handler(handler: Any) -> HandlerInfo:
    """Read the docstring and annotations of `handler` (an `EventHandler`)."""
    fn = inspect.unwrap(getattr(handler, "fn", handler))
    info = HandlerInfo(body=getattr(handler, "body_model", None))
    doc = inspect.getdoc(fn)
    if doc:
        first, _, rest = doc.partition("\n")
        info.summary = first.strip() or None
        info.description = rest.strip() or None
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return info
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # an annotation that does not resolve: use what is written
        hints = {}
    for name, param in signature.parameters.items():
        info.param_types[name] = hints.get(name, param.annotation)
    returns = hints.get("return", signature.return_annotation)
    if returns is not inspect.Signature.empty:
        info.returns = returns
    return info


def make_operation(
    method: str,
    form: PathForm,
    route_params: tuple[str, ...],
    info: HandlerInfo | None,
    schemas: SchemaSet,
    *,
    max_body_size: int | None,
) -> dict[str, Any]:
    """The operation for `method` at `form`; `route_params` are the route's own names
    for the form's params, in order (the form may use another route's names)."""
    info = info or HandlerInfo()
    operation: dict[str, Any] = {"tags": [_tag(form.path)]}
    if info.summary:
        operation["summary"] = info.summary
    if info.description:
        operation["description"] = info.description
    operation["operationId"] = _operation_id(method, form.path)
    parameters = []
    converted = False
    for template_name, name in zip(form.params, route_params, strict=True):
        annotation = info.param_types.get(name, _NO_ANNOTATION)
        converted = converted or annotation in (int, float)
        parameter: dict[str, Any] = {
            "name": template_name,
            "in": "path",
            "required": True,
            "schema": param_schema(annotation),
        }
        if template_name == form.catch_all:
            parameter["description"] = "The rest of the path: one or more segments ('a/b/c')."
        parameters.append(parameter)
    if parameters:
        operation["parameters"] = parameters
    if info.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.schema(info.body, "validation")}},
        }
    operation["responses"] = _responses(info.returns, schemas)
    errors = operation["responses"]
    if info.body is not None or converted or parameters:
        errors["400"] = _error(_bad_request(info.body is not None, converted, bool(parameters)))
    if parameters:
        errors["404"] = _error(
            "No route matches: a param that is empty or a dot segment ('.', '..') changes the path"
        )
    if info.body is not None and max_body_size is not None:
        errors["413"] = _error(f"The body is larger than max_body_size ({max_body_size} bytes)")
    return operation


# --- Internal helpers ---


def _responses(returns: Any, schemas: SchemaSet) -> dict[str, Any]:
    if returns is _NO_ANNOTATION or returns is Any or _is_streamed_or_raw(returns):
        return {"200": {"description": "OK"}}
    if returns is None or returns is type(None):
        return {"204": {"description": "No Content"}}
    optional = False
    if typing.get_origin(returns) in (typing.Union, types.UnionType):
        args = typing.get_args(returns)
        rest = [a for a in args if a is not type(None)]
        optional = len(rest) < len(args)
        if optional:
            returns = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007
    responses = {"200": {"description": "OK", "content": _content(returns, schemas)}}
    if optional:
        responses["204"] = {"description": "No Content (the handler returned None)"}
    return responses


def _content(returns: Any, schemas: SchemaSet) -> dict[str, Any]:
    if returns is str:
        return {"text/plain": {"schema": {"type": "string"}}}
    if returns in (bytes, bytearray):
        return {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    return {"application/json": {"schema": schemas.schema(returns, "serialization")}}


def _is_streamed_or_raw(returns: Any) -> bool:
    """An iterator (streamed) or a Response (sent as is): nothing to say of its body."""
    origin = typing.get_origin(returns) or returns
    if not isinstance(origin, type):
        return False
    if issubclass(origin, (Iterator, AsyncIterator)):
        return True
    return any(base.__name__ == "Response" for base in origin.__mro__)


def _bad_request(body: bool, converted: bool, params: bool) -> str:
    reasons = []
    if body:
        reasons.append("the body is not valid JSON or does not validate (issues in `data`)")
    if converted:
        reasons.append("a route param is not a number")
    if params:
        reasons.append("the path has a malformed percent-escape")
    return "Bad Request: " + "; ".join(reasons)


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _tag(path: str) -> str:
    # Nitro's default tags.
    return "API Routes" if path.startswith("/api/") or path == "/api" else "App Routes"


def _operation_id(method: str, path: str) -> str:
    return f"{method}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_') or 'root'}"
