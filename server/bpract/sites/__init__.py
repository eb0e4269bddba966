"""Sites: who may embed the widget, from which origins, and how identities are verified."""

from __future__ import annotations

from bpract.sites.identity import user_hash, verify_identity
from bpract.sites.origins import normalize_origin, origin_allowed
from bpract.sites.store import (
    Site,
    SiteNotFoundError,
    create_site,
    get_site,
    get_site_by_key,
    list_sites,
    site_id_for_key,
    site_id_for_ref,
)

__all__ = [
    "Site",
    "SiteNotFoundError",
    "create_site",
    "get_site",
    "get_site_by_key",
    "list_sites",
    "normalize_origin",
    "origin_allowed",
    "site_id_for_key",
    "site_id_for_ref",
    "user_hash",
    "verify_identity",
]
