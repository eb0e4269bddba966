"""Sites: who may embed the widget, from which origins, how identities are verified, and the
organisations that own them."""

from __future__ import annotations

from bpract.sites.identity import user_hash, verify_identity
from bpract.sites.orgs import (
    DEFAULT_ORG,
    Organisation,
    OrgNotFoundError,
    create_org,
    find_org,
    list_orgs,
    the_only_org,
)
from bpract.sites.origins import normalize_origin, origin_allowed
from bpract.sites.store import (
    Site,
    SiteNotFoundError,
    create_site,
    get_site,
    get_site_by_key,
    list_sites,
    rotate_identity_secret,
    site_id_for_key,
    site_id_for_ref,
)

__all__ = [
    "DEFAULT_ORG",
    "OrgNotFoundError",
    "Organisation",
    "Site",
    "SiteNotFoundError",
    "create_org",
    "create_site",
    "find_org",
    "get_site",
    "get_site_by_key",
    "list_orgs",
    "list_sites",
    "normalize_origin",
    "origin_allowed",
    "rotate_identity_secret",
    "site_id_for_key",
    "site_id_for_ref",
    "the_only_org",
    "user_hash",
    "verify_identity",
]
