"""The registry of authorization_details types (RFC 9396 §2): a module of its own, so the types the
package ships (``mfa_oauth.rar.banking``) and a site's own register without importing ``mfa_oauth.rar``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DetailType:
    name: str
    schema: dict
    describe: Callable[[dict], str]


_registry: dict[str, DetailType] = {}


def register(name: str, schema: dict, describe: Callable[[dict], str]) -> None:
    """Register (or replace) a type; ``schema`` is checked now, so a broken one fails at start-up."""
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema)
    _registry[name] = DetailType(name, schema, describe)
