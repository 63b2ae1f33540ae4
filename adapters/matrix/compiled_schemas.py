"""nio's JSON-schema checks, compiled once per schema by fastjsonschema instead of interpreted on every event.

nio validates every event of every sync response, and every response, with a jsonschema validator built
anew for each call: about 90 µs per event, a sixth of the bot's CPU per answered message under load and
1.5 s of its start-up with 1,000 rooms. Compiled, with nio's defaults filled in first, a 1,000-event sync
parses in 28 ms instead of 88 (`uv run python -m bench.sync_parse`; docs/decisions.md, "Performance").
The schemas, the defaults nio fills in and the errors nio catches stay nio's:
`tests/unit/matrix/test_compiled_schemas.py` checks both validators agree on every nio schema.
"""

import copy
import re
from collections.abc import Callable
from typing import Any

import fastjsonschema
import nio.events.misc
import nio.responses
import nio.schemas
from jsonschema.exceptions import ValidationError

Json = Any
_DRAFT_4 = "http://json-schema.org/draft-04/schema#"  # nio's validator is jsonschema's Draft4Validator
_NIO_VALIDATE = nio.schemas.validate_json
_compiled: dict[int, tuple[dict[str, Any], Callable[[Json], None]]] = {}


def _passes(check: Callable[[str], bool]) -> Callable[[str], bool]:
    """nio's format checks raise ValueError; fastjsonschema wants a boolean."""

    def checked(value: str) -> bool:
        try:
            return check(value)
        except ValueError:
            return False

    return checked


# nio's FormatChecker knows these two; a format it does not know (room_id) passes, as in jsonschema.
_FORMATS: dict[str, Callable[[str], bool]] = {
    "user_id": _passes(nio.schemas.check_user_id),
    "http_url": _passes(nio.schemas.check_http_url),
    "room_id": lambda _: True,
}


def validate_json(instance: Json, schema: dict[str, Any]) -> None:
    """nio's `validate_json`: fills in the schema's defaults; raises jsonschema's ValidationError when invalid."""
    entry = _compiled.get(id(schema))
    if entry is None or entry[0] is not schema:
        # The schema itself is kept in the entry, so its id cannot be reused by another object.
        entry = (schema, _compile(schema))
        _compiled[id(schema)] = entry
    entry[1](instance)


def _compile(schema: dict[str, Any]) -> Callable[[Json], None]:
    check = None if _default_after_required(schema) else _compiled_check(schema)
    if check is None:
        return lambda instance: _NIO_VALIDATE(instance, schema)

    def validate(instance: Json) -> None:
        fill_defaults(instance, schema)
        try:
            check(instance)
        except fastjsonschema.JsonSchemaException as error:
            raise ValidationError(str(error)) from None

    return validate


def _compiled_check(schema: dict[str, Any]) -> Callable[[Json], Json] | None:
    try:
        return fastjsonschema.compile({**schema, "$schema": _DRAFT_4}, formats=_FORMATS, use_default=False)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None  # a schema fastjsonschema cannot read (one of nio's device schemas is malformed)


def fill_defaults(instance: Json, schema: dict[str, Any]) -> None:
    """Fills in defaults as nio's validator does while it validates: wherever `properties` applies to an
    object, a missing property with a `default` gets it, and every sub-schema applying to a value (the
    filled-in ones included) is walked in turn."""
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        for name, sub in properties.items():
            if isinstance(sub, dict) and "default" in sub and name not in instance:
                instance[name] = copy.deepcopy(sub["default"])
        patterns = schema.get("patternProperties", {})
        additional = schema.get("additionalProperties")
        for key, value in instance.items():
            matched = [sub for pattern, sub in patterns.items() if re.search(pattern, key)]
            if key in properties:
                matched.append(properties[key])
            elif not matched and isinstance(additional, dict):
                matched.append(additional)
            for sub in matched:
                if isinstance(sub, dict):
                    fill_defaults(value, sub)
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for item in instance:
            fill_defaults(item, schema["items"])
    if isinstance(schema.get("not"), dict):
        fill_defaults(instance, schema["not"])


def _default_after_required(schema: Json) -> bool:
    """True when a schema checks `required` before its `properties` fill in a default for that name: nio's
    validator then refuses the instance although it ends up filled in; that order keeps nio's validator."""
    if isinstance(schema, list):
        return any(_default_after_required(item) for item in schema)
    if not isinstance(schema, dict):
        return False
    properties, required = schema.get("properties"), schema.get("required")
    if isinstance(required, list) and isinstance(properties, dict):
        keys = list(schema)
        defaulted = {name for name, sub in properties.items() if isinstance(sub, dict) and "default" in sub}
        if keys.index("required") < keys.index("properties") and defaulted.intersection(required):
            return True
    return any(_default_after_required(value) for value in schema.values())


def install() -> None:
    """Swaps nio's validator where nio's modules call it (they imported it by name)."""
    for module in (nio.schemas, nio.responses, nio.events.misc):
        module.validate_json = validate_json
