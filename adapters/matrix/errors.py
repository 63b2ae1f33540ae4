"""Turns nio's error-as-value responses into exceptions, so that no failure passes silently."""

from typing import TypeVar

from nio import ErrorResponse, Response

from ports.topology import ChatNetworkError

R = TypeVar("R", bound=Response)


class MatrixRequestError(ChatNetworkError):
    def __init__(self, action: str, response: ErrorResponse) -> None:
        self.status_code = response.status_code
        super().__init__(f"{action} failed: {response.status_code or 'error'} {response.message}")


def checked(action: str, response: R | ErrorResponse, expected: type[R]) -> R:
    """Returns the response when it is the expected kind; raises MatrixRequestError otherwise."""
    if isinstance(response, expected):
        return response
    if isinstance(response, ErrorResponse):
        raise MatrixRequestError(action, response)
    raise ChatNetworkError(f"{action}: unexpected response {type(response).__name__}")
