"""core_webservice_get_site_info and core_user_get_users."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lmsbridge.testing.emulators.moodle.calls import function
from lmsbridge.testing.emulators.moodle.errors import moodle_exception
from lmsbridge.testing.emulators.moodle.params import (
    ALPHA,
    ALPHANUMEXT,
    DEFAULT,
    RAW,
    Multiple,
    Single,
    Value,
)
from lmsbridge.testing.emulators.moodle.records import Ctx, User
from lmsbridge.testing.emulators.moodle.site import MoodleSite


@function("core_webservice_get_site_info", {"serviceshortnames": Multiple(Value(ALPHANUMEXT), DEFAULT, [])})
def get_site_info(site: MoodleSite, ctx: Ctx, serviceshortnames: list[str]) -> dict[str, Any]:
    service = site.services[ctx.token.service]
    user = ctx.user
    return {
        "sitename": site.sitename,
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "fullname": f"{user.firstname} {user.lastname}",
        "lang": "en",
        "userid": user.id,
        "siteurl": ctx.wwwroot,
        "userpictureurl": f"{ctx.wwwroot}/theme/image.php/boost/core/1/u/f1",
        "functions": [{"name": name, "version": site.version_number} for name in sorted(service.functions)],
        "downloadfiles": 0,
        "uploadfiles": 0,
        "release": site.release,
        "version": site.version_number,
        "mobilecssurl": "",
        "advancedfeatures": [
            {"name": "enablecompletion", "value": int(site.completion_enabled)},
            {"name": "enablecompetencies", "value": int(site.competencies_enabled)},
        ],
        "usercanmanageownfiles": True,
        "userquota": 0,
        "usermaxuploadfilesize": -1,
        "userhomepage": 1,
        "userprivateaccesskey": f"{user.id:032x}",
        "siteid": site.site_id,
        "sitecalendartype": "gregorian",
        "usercalendartype": "gregorian",
        "userissiteadmin": user.id == 2,
        "theme": "boost",
        "limitconcurrentlogins": 0,
        "policyagreed": 0,
    }


_USER_KEYS = {"id", "lastname", "firstname", "idnumber", "username", "email", "auth"}


def _criterion(key: str, value: str) -> Callable[[User], bool]:
    """Exact matches, but SQL LIKE (case-insensitive, % and _ wildcards) on email and names."""
    if key == "id":
        return lambda user: str(user.id) == value.strip()
    if key in ("email", "firstname", "lastname"):
        return lambda user: _like(value, str(getattr(user, key)))
    return lambda user: bool(getattr(user, key) == value)


def _like(pattern: str, value: str) -> bool:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


@function(
    "core_user_get_users",
    {"criteria": Multiple(Single({"key": Value(ALPHA), "value": Value(RAW)}))},
)
def get_users(site: MoodleSite, ctx: Ctx, criteria: list[dict[str, str]]) -> dict[str, Any]:
    used: set[str] = set()
    warnings = []
    checks: list[Callable[[User], bool]] = []
    for criterion in criteria:
        key, value = criterion["key"], criterion["value"]
        if key in used:
            raise moodle_exception(
                "keyalreadyset", "A search key was sent twice.", f"The key {key} was sent twice"
            )
        used.add(key)
        if key not in _USER_KEYS:
            warnings.append(
                {
                    "item": key,
                    "warningcode": "invalidfieldparameter",
                    "message": f"'{key}' is not a search key.",
                }
            )
        else:
            checks.append(_criterion(key, value))
    names = site.shows_names(ctx)
    users = [
        site.user_details(u, ctx.wwwroot, names=names, own=u.id == ctx.user.id)
        for u in sorted(site.users.values(), key=lambda u: u.id)
        if not u.deleted and all(check(u) for check in checks) and site.can_see_user(ctx, u)
    ]
    return {"users": users, "warnings": warnings}
