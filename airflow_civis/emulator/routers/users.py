"""``GET /users/me``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..common import ORGANIZATION, USER, respond

router = APIRouter()
_CREATED_AT = "2024-01-01T00:00:00.000Z"


@router.get("/users/me")
def users_me(request: Request):
    me = {
        **USER,
        "lastCheckedAnnouncements": None, "featureFlags": {}, "roles": ["sdm"], "preferences": {},
        "customBranding": None, "primaryGroupId": 1,
        "groups": [{"id": 1, "name": "Emulator Group", "slug": "emulator-group",
                    "organizationId": ORGANIZATION["id"], "organizationName": ORGANIZATION["name"]}],
        "organizationName": ORGANIZATION["name"], "organizationSlug": ORGANIZATION["slug"],
        "organizationDefaultThemeId": None, "createdAt": _CREATED_AT, "signInCount": 1,
        "assumingRole": False, "roleAssumer": None, "assumingAdmin": False,
        "assumingAdminExpiration": None, "superadminModeExpiration": None,
        "disableNonCompliantFedrampFeatures": False, "personaRole": None, "createdById": None,
        "lastUpdatedById": None,
    }
    return respond(request, me)
