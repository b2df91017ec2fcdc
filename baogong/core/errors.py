"""Domain errors: what services raise, mapped once to pages and to the API.

Each error has a stable `code` for programs and a translated `message` for
people; `params` fill the message's named placeholders.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "domain_error"
    default_message = _("The request could not be carried out.")

    def __init__(self, message: Any = None, **params: Any) -> None:
        self.params = params
        self.message_template = message if message is not None else self.default_message
        super().__init__(self.code)

    @property
    def message(self) -> str:
        text = str(self.message_template)
        return text % self.params if self.params else text

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.message}


class NotAllowed(DomainError):
    code = "not_allowed"
    default_message = _("You are not allowed to do this here.")


class NotFound(DomainError):
    code = "not_found"
    default_message = _("Not found.")


class InvalidInput(DomainError):
    code = "invalid_input"
    default_message = _("The input is not valid.")


class Conflict(DomainError):
    code = "conflict"
    default_message = _("This conflicts with the current state.")
