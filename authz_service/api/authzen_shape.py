"""AuthZEN evaluations read without marshmallow, for the fast path (api/fast.py;
docs/decisions/029-peer-throughput.md).

Each function mirrors a schema of api/authzen_schemas.py for a plainly well-formed value and
gives what that schema's `load` would give (unknown fields left out), or None when the value
is anything else: the caller then hands it to the schema, whose answer is the reference
(tests/api/test_fast_path.py compares the two on generated requests).
"""

from authz_service.api.authzen_schemas import MAX_EVALUATIONS, SEMANTICS

TARGET_LIMITS = {"type": 64, "id": 200}  # authzen_schemas.Target


def _properties(value) -> bool:
    """True for what a Dict(allow_none=True) field takes."""
    return value is None or isinstance(value, dict)


def entity(value, key: str) -> dict | None:
    """subject or resource ({type, id, properties?}), as Subject or Resource loads it."""
    if not isinstance(value, dict):
        return None
    kind, name = value.get("type"), value.get("id")
    if not isinstance(kind, str) or not isinstance(name, str):
        return None
    loaded = {"type": kind, "id": name}
    if "properties" in value:
        properties = value["properties"]
        if key == "resource":
            properties = resource_properties(properties)
            if properties is False:
                return None
        elif not _properties(properties):
            return None
        loaded["properties"] = properties
    return loaded


def resource_properties(value):
    """ResourceProperties(allow_none) as loaded: None, {} or {"target": None | {type, id}};
    False when it is not plainly well-formed."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return False
    if "target" not in value:
        return {}
    target = value["target"]
    if target is None:
        return {"target": None}
    if not isinstance(target, dict):
        return False
    if not all(isinstance(target.get(k), str) and len(target[k]) <= n for k, n in TARGET_LIMITS.items()):
        return False
    return {"target": {"type": target["type"], "id": target["id"]}}


def action(value) -> dict | None:
    """{name, properties?} as Action loads it."""
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None
    if "properties" in value:
        if not _properties(value["properties"]):
            return None
        return {"name": value["name"], "properties": value["properties"]}
    return {"name": value["name"]}


def context(value):
    """Context(allow_none) as loaded: None, {} or {"session": None | str}; False otherwise."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return False
    if "session" not in value:
        return {}
    session = value["session"]
    return {"session": session} if session is None or isinstance(session, str) else False


READERS = {"subject": lambda v: entity(v, "subject"), "action": action,
           "resource": lambda v: entity(v, "resource")}


def entities(value: dict, required: bool) -> dict | None:
    """The subject, action, resource and context of `value` as loaded (all three required when
    `required`, as in EvaluationIn), or None."""
    loaded = {}
    for key, read in READERS.items():
        if key not in value:
            if required:
                return None
            continue
        got = read(value[key])
        if got is None:
            return None
        loaded[key] = got
    if "context" in value:
        got = context(value["context"])
        if got is False:
            return None
        loaded["context"] = got
    return loaded


def evaluation(body) -> dict | None:
    """EvaluationIn's load of a plainly well-formed body, else None."""
    return entities(body, True) if isinstance(body, dict) else None


def evaluations(body) -> tuple[dict, list, str] | None:
    """(defaults as EvaluationsIn loads them, the raw items, the semantic), else None."""
    if not isinstance(body, dict):
        return None
    defaults = entities(body, False)
    if defaults is None:
        return None
    semantic = "execute_all"
    options = body.get("options")
    if isinstance(options, dict) and "evaluations_semantic" in options:
        semantic = options["evaluations_semantic"]
        if not isinstance(semantic, str) or semantic not in SEMANTICS:
            return None
    elif options is not None and not isinstance(options, dict):
        return None
    items = body.get("evaluations")
    if items is None:
        items = []
    if not isinstance(items, list) or len(items) > MAX_EVALUATIONS:
        return None
    return defaults, items, semantic
