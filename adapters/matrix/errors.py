"""Turns nio's error-as-value responses into exceptions, so that no failure passes silently."""

from typing import Final, TypeVar

from nio import ErrorResponse, Response

from ports.topology import ChatNetworkError

R = TypeVar("R", bound=Response)


# Answered by a reverse proxy (or a homeserver restarting behind one), not by the homeserver's own logic:
# the request may be tried again later.
GATEWAY_STATUSES: Final = frozenset({502, 503, 504})


class MatrixRequestError(ChatNetworkError):
    def __init__(self, action: str, response: ErrorResponse) -> None:
        self.status_code = response.status_code  # the Matrix errcode, when the body carried one
        transport = getattr(response, "transport_response", None)
        self.http_status: int | None = getattr(transport, "status", None)
        super().__init__(
            f"{action} failed: {self.http_status or ''} {response.status_code or 'error'} {response.message}"
        )

    @property
    def homeserver_unavailable(self) -> bool:
        """A 502/503/504: the homeserver is unavailable for now, not refusing this request."""
        return self.http_status in GATEWAY_STATUSES


def checked(action: str, response: R | ErrorResponse, expected: type[R]) -> R:
    """Returns the response when it is the expected kind; raises MatrixRequestError otherwise."""
    if isinstance(response, expected):
        return response
    if isinstance(response, ErrorResponse):
        raise MatrixRequestError(action, response)
    raise ChatNetworkError(f"{action}: unexpected response {type(response).__name__}")
