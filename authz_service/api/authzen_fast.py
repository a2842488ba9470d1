"""AuthZEN evaluation and evaluations on the fast path (api/fast.py; docs/decisions/029-peer-throughput.md).

A plainly well-formed body (api/authzen_shape.py) is answered by the same functions the Flask
routes of api/authzen.py call, so the decision, its entry (R7.1) and the answer are theirs;
anything else is None, and the Flask route answers it. An item of evaluations that is not
plainly well-formed is read by the route's own `authzen.item` (its deny and context.error).
"""

from authz_service.api import authzen, authzen_shape


def evaluation(policy, body, caller: str) -> dict | None:
    """POST /access/v1/evaluation, or None for the Flask route."""
    loaded = authzen_shape.evaluation(body)
    return None if loaded is None else authzen.evaluate(policy, loaded, caller)


def evaluations(policy, body, caller: str) -> dict | None:
    """POST /access/v1/evaluations, or None for the Flask route."""
    read = authzen_shape.evaluations(body)
    if read is None:
        return None
    defaults, items, semantic = read
    if not items:  # the specification's backwards-compatible form: one evaluation
        return evaluation(policy, defaults, caller)
    return authzen.evaluate_each(policy, [_item(policy, defaults, raw) for raw in items], caller, semantic)


def _item(policy, defaults: dict, raw):
    """authzen.item's answer, without the schema for a plainly well-formed item. The defaults are
    loaded already (authzen_shape.evaluations), so only the item's own members are read here:
    loading is idempotent, and an entity given replaces its default whole."""
    own = authzen_shape.entities(raw, False) if isinstance(raw, dict) else None
    if own is not None:
        loaded = {**defaults, **own}
        if all(key in loaded for key in authzen_shape.READERS):  # subject, action, resource: required
            return authzen.request_for(policy, loaded)
    return authzen.item(policy, defaults, raw)
