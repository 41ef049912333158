"""Loaded by schemathesis (SCHEMATHESIS_HOOKS) in tests/test_fuzz_schemathesis.py.

Under OpenAPI 3.1 (JSON Schema 2020-12) `2.0` is an integer, and schemathesis sends
integer fields of JSON bodies spelled that way too, expecting them to be accepted.
The server decodes bodies strictly (SPEC §2; README: "1.0 is not 1", 422), a rule
no JSON Schema can state. Rather than turn positive_data_acceptance off for every
operation with an integer in its body, whole floats are spelled as integers before
sending: every other generated value is still checked. Negative cases never rely
on that spelling (a value that must not be an integer is generated as a fraction,
a string, ...), so they stay negative.
"""

from __future__ import annotations

from typing import Any

import schemathesis

_EXACT = 2**53  # beyond this a float does not spell one integer


def _integers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT:
        return int(value)
    if isinstance(value, dict):
        return {key: _integers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integers(item) for item in value]
    return value


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    if isinstance(case.body, dict | list | float):
        case.body = _integers(case.body)
