"""Schemathesis hooks for Blueprint's judge runs (loaded through SCHEMATHESIS_HOOKS).

Blueprint reads an `integer`/`long` only from an integer literal: `1.0` is refused
where a field is an integer (a deliberate choice, see ARCHITECTURE.md). JSON Schema
counts `1.0` as an integer, so Schemathesis sends it as valid data; this hook writes
such numbers as the literals a client sends. Nothing else is changed: `1.5` (not an
integer) still goes out as it was generated.
"""

import schemathesis


def _integral_floats_as_integers(value):
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, list):
        return [_integral_floats_as_integers(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral_floats_as_integers(item) for key, item in value.items()}
    return value


@schemathesis.hook
def map_body(ctx, body):
    return _integral_floats_as_integers(body)
