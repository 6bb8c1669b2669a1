"""A value whose text form is redacted, so a secret cannot leak through print, repr or logs."""

from __future__ import annotations

import secrets as _secrets

from reconciler.core import redact


class Secret:
    """Holds a secret string. Only `reveal()` returns it: call it where the value is sent or stored."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("a secret must be a non-empty string")
        self._value = value
        redact.register(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({redact.MASK})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and _secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")

    @classmethod
    def generate(cls, prefix: str = "whsec_") -> Secret:
        """A strong secret for APIs where the client supplies it (256 bits)."""
        return cls(prefix + _secrets.token_hex(32))
