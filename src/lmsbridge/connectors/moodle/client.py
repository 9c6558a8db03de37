"""Moodle's REST web service protocol from the client's side: one POST to
`{site_url}/webservice/rest/server.php` per function call, parameters in PHP's bracket encoding,
and every Moodle failure (answered with HTTP 200 and an exception body) turned into the
`ConnectorError` that says what to do about it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from lmsbridge.connectors.errors import (
    AuthenticationInvalidError,
    ConnectorError,
    IntegrationError,
    ItemError,
    PermissionMissingError,
)
from lmsbridge.connectors.http import Exchange, RemoteHttpClient, RetryPolicy
from lmsbridge.errors import ErrorCode

if TYPE_CHECKING:
    from lmsbridge.connectors.pacing import Pace, Pacer

REST_PATH = "/webservice/rest/server.php"
EXTERNAL_SERVICES_PAGE = "Site administration > Server > Web services > External services"

# Moodle refuses the token's user itself: nothing can run until someone fixes the account.
_USER_REFUSED = {
    "wsaccessusersuspended": "is suspended",
    "wsaccessuserdeleted": "is deleted",
    "wsaccessuserunconfirmed": "is not confirmed",
    "wsaccessusernologin": "may not log in (authentication 'nologin')",
    "wsaccessuserexpired": "has an expired password",
    "passwordisexpired": "has an expired password",
    "usernotconfirmed": "is not confirmed",
}


# Moodle names a missing capability by its English name ("... (Create courses)."), and gives its
# id only in debug mode: the capabilities lmsbridge relies on, by those names.
_CAPABILITIES_BY_NAME = {
    "Create courses": "moodle/course:create",
    "Update course settings": "moodle/course:update",
    "Hide/show courses": "moodle/course:visibility",
    "Change course full name": "moodle/course:changefullname",
    "Change course summary": "moodle/course:changesummary",
    "View participants": "moodle/course:viewparticipants",
    "Review course enrolments": "moodle/course:enrolreview",
    "Enrol users": "enrol/manual:enrol",
    "Assign roles to users": "moodle/role:assign",
    "Override activity completion status": "moodle/course:overridecompletion",
    "View course completion report": "report/completion:view",
    "View activity completion reports": "report/progress:view",
    "View competency frameworks": "moodle/competency:competencyview",
    "View course competencies": "moodle/competency:coursecompetencyview",
    "View user details": "moodle/user:viewdetails",
}


def php_form(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten parameters as PHP reads arrays from a form: {"courses": [{"fullname": "A"}]} ->
    [("courses[0][fullname]", "A")]. Booleans become 1/0 (Moodle's PARAM_BOOL accepts no other
    spelling); None leaves the key out."""
    pairs: list[tuple[str, str]] = []

    def walk(key: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for name, item in value.items():
                walk(f"{key}[{name}]", item)
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                walk(f"{key}[{index}]", item)
        elif isinstance(value, bool):
            pairs.append((key, "1" if value else "0"))
        else:
            pairs.append((key, str(value)))

    for name, value in params.items():
        walk(name, value)
    return pairs


@dataclass(frozen=True)
class MoodleFault:
    """Moodle's error body: `{exception, errorcode, message[, debuginfo]}`."""

    function: str
    exception: str
    errorcode: str
    message: str
    debuginfo: str | None = None

    def describe(self) -> str:
        detail = f" ({self.debuginfo})" if self.debuginfo else ""
        return f"{self.message} [{self.exception}/{self.errorcode}]{detail}"

    @property
    def kind(self) -> str:
        """The exception's class without its namespace: from 4.5, core's classes arrive as
        `core\\exception\\moodle_exception`, before as `moodle_exception`."""
        return self.exception.rsplit("\\", 1)[-1]


class UnexpectedAnswerError(ConnectorError):
    """Something that is not a Moodle web service answered (or Moodle failed before answering)."""

    code = ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR


class AccessRefusedError(PermissionMissingError):
    """Moodle's `accessexception` without a reason: a function missing from the service, an
    address or time restriction, or (on site info) a token that just expired."""

    def __init__(self, fault: MoodleFault, message: str) -> None:
        super().__init__(message)
        self.fault = fault


COURSE_ACCESS_CAPABILITIES = "moodle/course:view and moodle/course:viewhiddencourses"


class MoodleCallError(ItemError):
    """A Moodle function refused this call for reasons of its own (invalid parameters, a missing
    record, a rule of the site): the item fails, the others go on. Carries Moodle's body."""

    def __init__(self, fault: MoodleFault, message: str, code: ErrorCode) -> None:
        super().__init__(message, code=code)
        self.fault = fault


def classify(fault: MoodleFault) -> ConnectorError:
    """What a Moodle error body means for lmsbridge."""
    where = f"Moodle's {fault.function}"
    if fault.errorcode == "invalidtoken":
        return AuthenticationInvalidError(
            "Moodle rejected the web service token (invalidtoken): it does not exist on this site. "
            "Create a token for the lmsbridge service and update the integration's credentials."
        )
    if fault.errorcode in _USER_REFUSED:
        return AuthenticationInvalidError(
            f"Moodle refused the token because its user {_USER_REFUSED[fault.errorcode]} ({fault.errorcode})."
        )
    if fault.errorcode == "accessexception":
        debug = fault.debuginfo or ""
        if "token expired" in debug or "Invalid token" in debug:
            return AuthenticationInvalidError(f"Moodle rejected the web service token: {debug}")
        return AccessRefusedError(
            fault,
            f"Moodle refused access to {fault.function} (Access control exception). Add the function "
            f"{fault.function} to the external service of the token ({EXTERNAL_SERVICES_PAGE} > "
            "Functions); check too that the service is enabled, that the token allows this address, "
            "and that its user has the capability webservice/rest:use."
            + (f" Moodle says: {debug}" if debug else ""),
        )
    if fault.errorcode in ("errorcoursecontextnotvalid", "requireloginerror") or (
        fault.kind == "require_login_exception"
    ):
        # Moodle answers so, never nopermissions, when the token's user cannot enter the course.
        return PermissionMissingError(
            f"{where} refused: the token's user cannot enter the course ({fault.message}). Give the "
            f"user's role {COURSE_ACCESS_CAPABILITIES}, allowed in the System context "
            "(Site administration > Users > Permissions > Define roles)."
        )
    if fault.kind == "required_capability_exception" or fault.errorcode == "nopermissions":
        named = re.search(r"\(([^()]+)\)\.?\s*$", fault.message)
        capability = _CAPABILITIES_BY_NAME.get(named.group(1)) if named else None
        return PermissionMissingError(
            f"{where} needs a capability the token's user lacks"
            + (f" ({capability})" if capability else "")
            + f": {fault.message}"
            + (f" ({fault.debuginfo})" if fault.debuginfo else "")
            + " Give the user a role with that capability."
        )
    if fault.errorcode == "sitemaintenance":
        return ConnectorError(
            "The Moodle site is in maintenance mode.", code=ErrorCode.REMOTE_SERVICE_UNAVAILABLE
        )
    if fault.errorcode == "invaliduser" or (
        fault.kind == "coding_exception" and "User ID does not exist" in fault.message
    ):
        # 4.5 answers dml_missing_record_exception/invaliduser, 4.4 a coding_exception: both mean
        # that no such (undeleted) user exists.
        return MoodleCallError(
            fault,
            f"{where}: the user does not exist on the site or is deleted.",
            ErrorCode.REMOTE_INPUT_INVALID,
        )
    if fault.kind.startswith("dml_") and fault.errorcode != "invalidrecord":
        return MoodleCallError(
            fault, f"{where} failed on its database: {fault.describe()}", ErrorCode.REMOTE_SERVICE_UNAVAILABLE
        )
    if fault.kind in ("coding_exception", "invalid_response_exception"):
        return MoodleCallError(
            fault, f"{where} failed: {fault.describe()}", ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR
        )
    return MoodleCallError(
        fault, f"{where} refused the call: {fault.describe()}", ErrorCode.REMOTE_INPUT_INVALID
    )


class MoodleClient:
    """Calls Moodle web service functions with one token. The token travels in the POST body,
    never in a URL, and is redacted from anything logged or raised."""

    def __init__(
        self,
        site_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
        sleep: Callable[[float], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        pacer: Pacer | None = None,
        pace_key: str | None = None,
        pace: Pace | None = None,
    ) -> None:
        self.site_url = site_url.rstrip("/")
        self._token = token
        options: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
        self.http = RemoteHttpClient(
            self.site_url,
            service="Moodle",
            timeout=timeout,
            retry=retry,
            secrets=[token],
            secret_params=["wstoken"],
            on_exchange=on_exchange,
            transport=transport,
            pacer=pacer,
            pace_key=pace_key,
            pace=pace,
            **options,
        )

    def close(self) -> None:
        self.http.close()

    def call(self, function: str, params: Mapping[str, Any] | None = None, *, raw: bool = False) -> Any:
        """The function's decoded result; raises `ConnectorError` (see `classify`) otherwise.
        `raw` asks Moodle for texts as stored, without its output filters."""
        query = {"wsfunction": function, "moodlewsrestformat": "json"}
        form = [("wstoken", self._token), *php_form(params or {})]
        if raw:
            form.append(("moodlewssettingraw", "1"))
        response = self.http.request("POST", REST_PATH, params=query, data=form)
        body = self._decode(function, response)
        if isinstance(body, dict) and "exception" in body and "errorcode" in body:
            # A site in debug mode may echo the token back in its message or debuginfo.
            redact = self.http.redactor.text
            raise classify(
                MoodleFault(
                    function,
                    str(body.get("exception")),
                    str(body.get("errorcode")),
                    redact(str(body.get("message", ""))),
                    redact(str(body["debuginfo"])) if body.get("debuginfo") is not None else None,
                )
            )
        return body

    def _decode(self, function: str, response: httpx.Response) -> Any:
        status = response.status_code
        endpoint = f"{self.site_url}{REST_PATH}"
        if status == 403:
            raise PermissionMissingError(
                f"Moodle answered HTTP 403 at {endpoint}: web services or the REST protocol are disabled "
                "on the site (Site administration > Advanced features > Enable web services; "
                "Site administration > Server > Web services > Manage protocols > REST)."
            )
        if status == 404:
            raise IntegrationError(
                f"No Moodle web service answered at {endpoint} (HTTP 404): check the integration's site_url."
            )
        if 300 <= status < 400:
            location = response.headers.get("location", "")
            raise IntegrationError(
                f"Moodle redirected {endpoint} to {location or 'another address'} (HTTP {status}): set "
                "site_url to the site's exact address (its wwwroot)."
            )
        if status != 200:
            raise UnexpectedAnswerError(f"Moodle answered HTTP {status} to {function}.")
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise UnexpectedAnswerError(
                f"Moodle's answer to {function} at {endpoint} is not JSON: is site_url the address of a "
                "Moodle site, with web services enabled?"
            ) from None
