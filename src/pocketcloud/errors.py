"""Domain errors, each carrying its AWS error code and HTTP status.

Only ``pocketcloud.api.errors`` renders them on the wire. The tree::

    CloudError                      code + status + message
    ├── ClientError                 4xx, the caller's fault ("Sender")
    │   ├── InvalidAction
    │   ├── MissingParameter
    │   ├── InvalidParameterValue
    │   ├── InvalidParameterCombination
    │   ├── MalformedQueryString
    │   ├── DetailedError           (its answer has more elements: S3's ArgumentName, …)
    │   └── ... one class per code, defined beside the service that raises it
    └── ServerError                 5xx, ours ("Receiver")

A code used in one place only may be raised as ``ClientError("Some.Code", msg)``;
a code raised from several places gets its own class here.
"""

from __future__ import annotations

from collections.abc import Iterable


class CloudError(Exception):
    """An error with an AWS error code, an HTTP status and a message for the caller."""

    code: str = "InternalError"
    status: int = 500
    sender: bool = False
    #: more elements of the answer beside code and message, in order (``DetailedError``)
    details: tuple[tuple[str, str], ...] = ()

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class ClientError(CloudError):
    """The request was wrong; AWS calls the fault the "Sender"'s."""

    code = "InvalidRequest"
    status = 400
    sender = True

    def __init__(self, code: str, message: str, *, status: int | None = None):
        super().__init__(message, code=code, status=status)


class DetailedError(ClientError):
    """A ClientError whose answer names more than its code and message, as S3's do
    (``ArgumentName`` and ``ArgumentValue``, ``ProposedSize`` and ``MaxSizeAllowed``, …)."""

    def __init__(
        self,
        code: str,
        message: str,
        details: Iterable[tuple[str, str]],
        *,
        status: int | None = None,
    ) -> None:
        super().__init__(code, message, status=status)
        self.details = tuple(details)


class ServerError(CloudError):
    """Something failed on our side; never carries a traceback to the client."""

    code = "InternalError"
    status = 500

    def __init__(self, message: str = "An internal error has occurred") -> None:
        super().__init__(message)


class FixedCodeError(ClientError):
    """A ClientError whose subclass fixes the code; raise it with just a message."""

    def __init__(self, message: str) -> None:
        super().__init__(type(self).code, message, status=type(self).status)


class InvalidAction(FixedCodeError):
    code = "InvalidAction"


class MissingParameter(FixedCodeError):
    code = "MissingParameter"


class InvalidParameterValue(FixedCodeError):
    code = "InvalidParameterValue"


class InvalidParameterCombination(FixedCodeError):
    code = "InvalidParameterCombination"


class MalformedQueryString(FixedCodeError):
    code = "MalformedQueryString"
