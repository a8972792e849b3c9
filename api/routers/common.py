"""What every router shares: the documented error responses."""

from api.errors import ErrorOut

# Every refusal an endpoint can answer, so the schema documents each response it sends.
ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    429: ErrorOut,
}
