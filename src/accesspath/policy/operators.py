"""The condition operators IAM knows, and how their values are read.

Source: reference_policies_elements_condition_operators.md. Policy variables are allowed with the
String, ARN and Bool operators only (reference_policies_variables.md); values of the other
operators are read once, when the policy is parsed.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    name: str
    family: str      # string, numeric, date, bool, binary, ip, arn, null
    negated: bool
    comparison: str  # equals, like, ignorecase, lt, lte, gt, gte, in (ip), null

    @property
    def takes_variables(self) -> bool:
        return self.family in ("string", "arn", "bool")


def _spec(name: str, family: str, comparison: str, negated: bool = False) -> OperatorSpec:
    return OperatorSpec(name, family, negated, comparison)


OPERATORS: dict[str, OperatorSpec] = {s.name: s for s in (
    _spec("StringEquals", "string", "equals"),
    _spec("StringNotEquals", "string", "equals", True),
    _spec("StringEqualsIgnoreCase", "string", "ignorecase"),
    _spec("StringNotEqualsIgnoreCase", "string", "ignorecase", True),
    _spec("StringLike", "string", "like"),
    _spec("StringNotLike", "string", "like", True),
    _spec("NumericEquals", "numeric", "equals"),
    _spec("NumericNotEquals", "numeric", "equals", True),
    _spec("NumericLessThan", "numeric", "lt"),
    _spec("NumericLessThanEquals", "numeric", "lte"),
    _spec("NumericGreaterThan", "numeric", "gt"),
    _spec("NumericGreaterThanEquals", "numeric", "gte"),
    _spec("DateEquals", "date", "equals"),
    _spec("DateNotEquals", "date", "equals", True),
    _spec("DateLessThan", "date", "lt"),
    _spec("DateLessThanEquals", "date", "lte"),
    _spec("DateGreaterThan", "date", "gt"),
    _spec("DateGreaterThanEquals", "date", "gte"),
    _spec("Bool", "bool", "equals"),
    _spec("BinaryEquals", "binary", "equals"),
    _spec("IpAddress", "ip", "in"),
    _spec("NotIpAddress", "ip", "in", True),
    _spec("ArnEquals", "arn", "like"),
    _spec("ArnLike", "arn", "like"),
    _spec("ArnNotEquals", "arn", "like", True),
    _spec("ArnNotLike", "arn", "like", True),
    _spec("Null", "null", "null"),
)}

SET_OPERATORS = ("ForAllValues", "ForAnyValue")
_LOWER = {name.lower(): name for name in OPERATORS}


@dataclass(frozen=True, slots=True)
class ParsedOperator:
    spec: OperatorSpec
    set_operator: str | None
    if_exists: bool


class OperatorError(ValueError):
    pass


def parse_operator(text: str) -> ParsedOperator:
    """Read ``ForAnyValue:StringLikeIfExists`` and the like; raise OperatorError if unknown.

    Operator names are matched exactly as AWS documents them; a wrong case is reported with the
    right spelling.
    """
    set_operator = None
    rest = text
    if ":" in text:
        prefix, rest = text.split(":", 1)
        if prefix not in SET_OPERATORS:
            raise OperatorError(f"unknown condition set operator '{prefix}' in '{text}'"
                                f" (expected ForAllValues or ForAnyValue)")
        set_operator = prefix
    if_exists = False
    name = rest
    if rest.endswith("IfExists") and rest not in OPERATORS:
        name = rest[: -len("IfExists")]
        if_exists = True
    spec = OPERATORS.get(name)
    if spec is None:
        hint = _LOWER.get(name.lower())
        suggestion = f" (did you mean '{hint}'?)" if hint else ""
        raise OperatorError(f"unknown condition operator '{text}'{suggestion}")
    if if_exists and spec.family == "null":
        raise OperatorError("the Null condition operator cannot take IfExists")
    return ParsedOperator(spec, set_operator, if_exists)


def scalar_text(value: object) -> str | None:
    """How IAM reads a JSON scalar in a condition: strings as is, numbers and booleans as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return None


def parse_number(text: str) -> Decimal:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"'{text}' is not a number") from None
    if not number.is_finite():
        raise ValueError(f"'{text}' is not a number")
    return number


_ISO_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$")


def parse_date(text: str) -> float:
    """A date as seconds since the epoch: ISO 8601 (date, date-time, with zone) or epoch seconds.

    reference_policies_elements_datatypes.md: dates follow W3C ISO 8601, and epoch (UNIX) time
    is accepted too.
    """
    raw = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", raw):
        return float(raw)
    match = _ISO_DATE.match(raw)
    if not match:
        raise ValueError(f"'{text}' is not a date (use ISO 8601, e.g. 2024-01-31T12:00:00Z, or epoch seconds)")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                          int(second or 0), tzinfo=UTC)
    except ValueError:
        raise ValueError(f"'{text}' is not a valid date") from None
    seconds = moment.timestamp()
    if fraction:
        seconds += float("0." + fraction)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds


@lru_cache(maxsize=4096)  # networks are immutable; policies repeat the same ranges
def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"'{text}' is not an IP address or CIDR range") from None


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not an IP address") from None


def parse_binary(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"'{text}' is not base64") from None


def parse_bool(text: str) -> str:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"'{text}' is not a boolean (true or false)")
    return lowered


# How a policy value of each family is read when the policy is parsed.
POLICY_VALUE_PARSERS: dict[str, Callable[[str], object]] = {
    "numeric": parse_number,
    "date": parse_date,
    "binary": parse_binary,
    "ip": parse_network,
    "null": parse_bool,
}

# How a request value of each family is read when the condition is evaluated.
REQUEST_VALUE_PARSERS = {
    "numeric": parse_number,
    "date": parse_date,
    "binary": parse_binary,
    "ip": parse_address,
}
