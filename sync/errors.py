"""Typed errors that cross the wire.

Every error a client can see has a stable code ``FS-NNNN``, a snake_case
name, a ``retryable`` flag, the HTTP status it maps to, and a one-line doc.
Codes are never reused or renumbered; ``docs/errors.md`` lists them and a test
checks that the two agree.

Ranges::

    FS-1xxx  protocol and framing         (malformed frames, versions, batches)
    FS-2xxx  data validation and merge    (unknown tables/fields, wrong types)
    FS-3xxx  authentication and scope     (tokens, devices, permissions)
    FS-4xxx  business-card recognition    (ocr/)
    FS-5xxx  visit routes and check-ins   (geo/)
    FS-6xxx  voice memos and tasks        (voice/)
    FS-7xxx  attachments                  (uploads, chunks)
    FS-9xxx  server side                  (overload, unavailable, internal)

The hierarchy::

    FieldSyncError                 an error with an ErrorCode; the only kind sent to clients
     ├── ProtocolError             FS-1xxx
     ├── ValidationError           FS-2xxx (per change: becomes a ``reject``)
     ├── AuthError                 FS-3xxx
     ├── ServiceError              FS-4xxx .. FS-7xxx (side services, attachments)
     └── ServerError               FS-9xxx

Internal details never go over the wire: ``to_wire()`` sends the code, the
name, ``retryable`` and a short human message, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One entry of the error catalogue."""

    code: str
    name: str
    retryable: bool
    http_status: int
    doc: str


CATALOGUE: dict[str, ErrorCode] = {}


def _define(code: str, name: str, retryable: bool, http_status: int, doc: str) -> ErrorCode:
    if code in CATALOGUE:
        raise RuntimeError(f"error code {code} defined twice")
    entry = ErrorCode(code, name, retryable, http_status, doc)
    CATALOGUE[code] = entry
    return entry


# --- FS-1xxx protocol ------------------------------------------------------
MALFORMED_MESSAGE = _define("FS-1001", "malformed_message", False, 400, "The frame is not a JSON object with a known `type`.")
UNSUPPORTED_PROTOCOL = _define("FS-1002", "unsupported_protocol", False, 400, "The client's protocol version is not served; upgrade the SDK.")
SCHEMA_TOO_NEW = _define("FS-1003", "schema_too_new", False, 409, "The client declares a schema version newer than the server's.")
BATCH_TOO_LARGE = _define("FS-1004", "batch_too_large", False, 413, "A push holds more changes or bytes than the server accepts; split it.")
FRAME_TOO_LARGE = _define("FS-1005", "frame_too_large", False, 413, "A frame exceeds the maximum message size.")
NOT_HELLO = _define("FS-1006", "hello_required", False, 400, "The first message on a connection must be `hello`.")
BAD_CURSOR = _define("FS-1007", "bad_cursor", False, 400, "The cursor or resume token is not one this server issued.")
CURSOR_TOO_OLD = _define("FS-1008", "cursor_too_old", False, 410, "The cursor predates the compaction horizon; take a fresh snapshot.")
RATE_LIMITED = _define("FS-1009", "rate_limited", True, 429, "Too many messages or requests; slow down and retry later.")
BATCH_ID_REUSED = _define("FS-1010", "batch_id_reused", False, 409, "A batch id was reused with different contents.")

# --- FS-2xxx validation (per change) ---------------------------------------
UNKNOWN_TABLE = _define("FS-2001", "unknown_table", False, 422, "The change names a table the schema does not declare.")
UNKNOWN_FIELD = _define("FS-2002", "unknown_field", False, 422, "The change names a field the table does not declare.")
WRONG_TYPE = _define("FS-2003", "wrong_type", False, 422, "The value does not have the field's declared type.")
VALUE_TOO_LARGE = _define("FS-2004", "value_too_large", False, 422, "The value exceeds the field's size limit.")
BAD_ROW_ID = _define("FS-2005", "bad_row_id", False, 422, "The row id is not a UUID.")
BAD_HLC = _define("FS-2006", "bad_hlc", False, 422, "The hybrid logical clock is malformed, or not after its base.")
BAD_SITE = _define("FS-2007", "bad_site", False, 422, "The change's site id is not the connection's site id.")
READ_ONLY_FIELD = _define("FS-2008", "read_only_field", False, 422, "The field is written by the server only.")
ROW_DELETED = _define("FS-2009", "row_deleted", False, 409, "The row was deleted and the table's policy keeps it deleted.")
INVALID_OPERATION = _define("FS-2010", "invalid_operation", False, 422, "The change's operation is not valid for the field's rule.")
CLOCK_AHEAD = _define(
    "FS-2011", "clock_ahead", True, 422,
    "The change is stamped more than a week ahead of the server's clock; keep it, re-stamp it against the server's time and push it again.",
)

# --- FS-3xxx auth and scope ------------------------------------------------
UNAUTHENTICATED = _define("FS-3001", "unauthenticated", False, 401, "No valid token was presented.")
TOKEN_EXPIRED = _define("FS-3002", "token_expired", True, 401, "The access token expired; refresh it and reconnect.")
FORBIDDEN = _define("FS-3003", "forbidden", False, 403, "The user may not do this.")
OUT_OF_SCOPE = _define("FS-3004", "out_of_scope", False, 403, "The row is outside the user's data scope for this action.")
DEVICE_REVOKED = _define("FS-3005", "device_revoked", False, 403, "The device was revoked; its replica must be wiped.")
SITE_MISMATCH = _define("FS-3006", "site_mismatch", False, 403, "The site id is not the one bound to this device token.")
LOGIN_FAILED = _define("FS-3007", "login_failed", False, 401, "Wrong user name, password or second factor.")
ACCOUNT_LOCKED = _define("FS-3008", "account_locked", True, 423, "Too many failed logins; try again later.")
TOTP_REQUIRED = _define("FS-3009", "totp_required", False, 401, "This account needs a one-time code from its authenticator.")
HIDDEN_FIELD = _define("FS-3010", "hidden_field", False, 403, "The user's role may not see or write this field.")

# --- FS-4xxx business cards -----------------------------------------------
NOT_AN_IMAGE = _define("FS-4001", "not_an_image", False, 415, "The upload is not a decodable JPEG, PNG, WebP or HEIC image.")
EMPTY_IMAGE = _define("FS-4002", "empty_upload", False, 400, "The upload is empty.")
IMAGE_TOO_LARGE = _define("FS-4003", "image_too_large", False, 413, "The image file or its pixel count exceeds the limit (decompression bombs included).")
NO_TEXT_FOUND = _define("FS-4004", "no_text_found", False, 422, "No text was recognised on the image.")
OCR_ENGINE_UNAVAILABLE = _define("FS-4005", "ocr_engine_unavailable", False, 503, "The configured OCR engine is not installed on the server.")
UNKNOWN_OCR_ENGINE = _define("FS-4006", "unknown_ocr_engine", False, 422, "The requested OCR engine is not one FieldSync knows (tesseract, rapidocr).")
INVALID_REGION = _define("FS-4007", "invalid_region", False, 422, "The default phone region is not an ISO 3166 region libphonenumber knows.")

# --- FS-5xxx routes and check-ins -----------------------------------------
INVALID_ROUTE_REQUEST = _define("FS-5001", "invalid_route_request", False, 422, "The planning request is malformed or inconsistent.")
TOO_MANY_STOPS = _define("FS-5002", "too_many_stops", False, 413, "The planning request holds more candidate stops than the limit.")
NO_FEASIBLE_PLAN = _define("FS-5003", "no_feasible_plan", False, 422, "No plan visits every must-visit stop within the shift and windows.")
BAD_COORDINATES = _define("FS-5004", "bad_coordinates", False, 422, "A coordinate is out of range or its datum is unknown.")
DISTANCE_PROVIDER_FAILED = _define("FS-5005", "distance_provider_failed", True, 502, "The configured road-distance provider did not answer.")
IMPOSSIBLE_TIME_WINDOW = _define("FS-5006", "impossible_time_window", False, 422, "A time window is empty, shorter than its visit, outside the shift, or overlaps another fixed appointment.")
INVALID_CHECK_IN = _define("FS-5007", "invalid_check_in", False, 422, "The check-in evidence, account or policy is malformed.")
EMPTY_ROUTE_REQUEST = _define("FS-5008", "no_stops", False, 422, "The planning request has no accounts or appointments to plan.")

# --- FS-6xxx voice memos ---------------------------------------------------
NOT_AUDIO = _define("FS-6001", "not_audio", False, 415, "The upload is not decodable audio.")
AUDIO_TOO_LONG = _define("FS-6002", "audio_too_long", False, 413, "The recording exceeds the maximum memo length.")
NO_SPEECH = _define("FS-6003", "no_speech", False, 422, "No speech was recognised in the recording.")
UNSUPPORTED_LANGUAGE = _define("FS-6004", "unsupported_language", False, 422, "The memo's language is not supported.")
ASR_ENGINE_UNAVAILABLE = _define("FS-6005", "asr_engine_unavailable", False, 503, "The configured speech engine or its model is not installed.")
INVALID_MEMO_REQUEST = _define("FS-6006", "invalid_memo_request", False, 422, "The memo request is malformed (missing time, bad time zone, ...).")
MEMO_TOO_LARGE = _define("FS-6007", "memo_too_large", False, 413, "The memo upload (audio bytes or transcript text) exceeds the size limit.")

# --- FS-7xxx attachments ---------------------------------------------------
ATTACHMENT_NOT_FOUND = _define("FS-7001", "attachment_not_found", False, 404, "No attachment with that hash is known.")
CHUNK_OUT_OF_ORDER = _define("FS-7002", "chunk_out_of_order", True, 409, "The chunk's offset is not the upload's current size; resume from the reported offset.")
HASH_MISMATCH = _define("FS-7003", "hash_mismatch", False, 422, "The uploaded bytes do not hash to the declared sha256.")
ATTACHMENT_TOO_LARGE = _define("FS-7004", "attachment_too_large", False, 413, "The attachment exceeds the size limit.")

# --- FS-9xxx server ---------------------------------------------------------
INTERNAL = _define("FS-9001", "internal_error", True, 500, "An unexpected server error; it was logged. Retry later.")
UNAVAILABLE = _define("FS-9002", "unavailable", True, 503, "The server is starting, draining or its store is unreachable.")
OVERLOADED = _define("FS-9003", "overloaded", True, 503, "The server is shedding load; retry with backoff.")


class FieldSyncError(Exception):
    """An error with a catalogue code: the only kind of error sent to clients."""

    def __init__(self, code: ErrorCode, message: str | None = None, **detail: Any) -> None:
        super().__init__(message or code.doc)
        self.code = code
        self.message = message or code.doc
        self.detail = detail

    @property
    def retryable(self) -> bool:
        return self.code.retryable

    def to_wire(self) -> dict[str, Any]:
        """The JSON-safe body sent to a client (code, name, retryable, message)."""
        body: dict[str, Any] = {
            "code": self.code.code,
            "name": self.code.name,
            "retryable": self.code.retryable,
            "message": self.message,
        }
        if self.detail:
            body["detail"] = self.detail
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.code} {self.code.name}: {self.message})"


class ProtocolError(FieldSyncError):
    """FS-1xxx: the frame or exchange breaks the protocol."""


class ValidationError(FieldSyncError):
    """FS-2xxx: one change is invalid; it is rejected, the rest of its batch goes on."""


class AuthError(FieldSyncError):
    """FS-3xxx: authentication, device or scope failure."""


class ServiceError(FieldSyncError):
    """FS-4xxx..FS-7xxx: a side service (cards, routes, memos, attachments) refused the input."""


class ServerError(FieldSyncError):
    """FS-9xxx: the server could not do its part; usually retryable."""


def error_for(code: ErrorCode, message: str | None = None, **detail: Any) -> FieldSyncError:
    """Build the error of the right subclass for ``code``."""
    family = code.code[3]
    cls: type[FieldSyncError] = {
        "1": ProtocolError,
        "2": ValidationError,
        "3": AuthError,
        "9": ServerError,
    }.get(family, ServiceError)
    return cls(code, message, **detail)


# WebSocket close codes (RFC 6455 private range 4000-4999) for errors that end a connection.
def ws_close_code(code: ErrorCode) -> int:
    """Map an error to the WebSocket close code a hub uses when it must hang up."""
    return 4000 + int(code.code[3:]) % 1000 + 100 * int(code.code[3])


__all__ = [
    "CATALOGUE",
    "AuthError",
    "ErrorCode",
    "FieldSyncError",
    "ProtocolError",
    "ServerError",
    "ServiceError",
    "ValidationError",
    "error_for",
    "ws_close_code",
]
