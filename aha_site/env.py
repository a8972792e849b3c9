"""Strict readers for environment variables: a malformed value stops start-up, clearly."""

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """The variable's value, or the default when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """A yes/no variable: 1/0, true/false, yes/no, on/off."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value; use 1 or 0.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """A whole-number variable, at least `minimum`."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below its minimum of {minimum}.")
    return value


def env_float(name: str, default: float, *, minimum: float, maximum: float) -> float:
    """A number variable between `minimum` and `maximum`."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={value} is not between {minimum} and {maximum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, *, schemes: tuple[str, ...]) -> str:
    """A URL variable whose scheme must be one of `schemes`; empty when unset."""
    raw = os.environ.get(name, "").strip()
    if raw and not raw.startswith(tuple(f"{scheme}://" for scheme in schemes)):
        allowed = ", ".join(f"{scheme}://" for scheme in schemes)
        raise ImproperlyConfigured(f"{name}={raw!r} must start with one of: {allowed}")
    return raw


def env_networks(name: str) -> list[str]:
    """A comma-separated list of IP addresses or CIDR networks; empty when unset."""
    values = env_list(name, [])
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} holds {value!r}, which is not an IP address or network."
            ) from None
    return values
