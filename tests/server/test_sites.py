"""Sites: keys, origins, identity HMAC, and the SQL of opening a visitor."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import apsw
import pytest

from bpract.features import MIGRATIONS
from bpract.sites import (
    SiteNotFoundError,
    create_site,
    get_site,
    get_site_by_key,
    list_sites,
    normalize_origin,
    origin_allowed,
    user_hash,
    verify_identity,
)
from bpract.store import connect, migrate
from bpract.visitors.storage import stored_seq


@pytest.fixture
def conn(tmp_path: Path) -> apsw.Connection:
    c = connect(tmp_path / "sites.db")
    migrate(c, tuple(m for m in MIGRATIONS if m.feature in ("sites", "visitors")))
    return c


def test_create_list_get(conn: apsw.Connection) -> None:
    a = create_site(
        conn, name=" Shop ", origins=["https://shop.example", "https://SHOP.example:443"]
    )
    b = create_site(conn, name="Docs", origins=["http://127.0.0.1:8765"])
    assert a.name == "Shop" and a.allowed_origins == ["https://shop.example"]
    assert a.public_key.startswith("pk_") and len(a.public_key) == 27
    assert a.identity_secret.startswith("sk_") and len(a.identity_secret) > 40
    assert a.public_key != b.public_key and a.identity_secret != b.identity_secret
    assert [s.id for s in list_sites(conn)] == [a.id, b.id]
    assert get_site(conn, b.id) == b
    assert get_site_by_key(conn, a.public_key) == a
    with pytest.raises(SiteNotFoundError):
        get_site_by_key(conn, "pk_nope")
    with pytest.raises(SiteNotFoundError):
        get_site(conn, 999)


@pytest.mark.parametrize(
    "origins", [["ftp://x.example"], ["https://x.example/app"], ["x.example"], ["https://"]]
)
def test_bad_origins_are_refused(conn: apsw.Connection, origins: list[str]) -> None:
    with pytest.raises(ValueError, match="origin"):
        create_site(conn, name="x", origins=origins)


def test_a_site_needs_a_name(conn: apsw.Connection) -> None:
    with pytest.raises(ValueError, match="name"):
        create_site(conn, name="  ", origins=["https://x.example"])


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://shop.example", True),
        ("https://shop.example:443", True),
        ("HTTPS://Shop.Example", True),
        ("http://shop.example", False),
        ("https://shop.example:8443", False),
        ("https://evil.shop.example", False),
        ("https://shop.example.evil", False),
        ("null", False),
        ("", False),
        (None, False),
        ("http://127.0.0.1:8765", True),
        ("http://127.0.0.1:8766", False),
    ],
)
def test_origin_check_is_an_exact_match(origin: str | None, allowed: bool) -> None:
    allowed_list = [
        normalize_origin("https://shop.example"),
        normalize_origin("http://127.0.0.1:8765"),
    ]
    assert origin_allowed(origin, allowed_list) is allowed


def test_identity_hmac() -> None:
    secret = "sk_test"
    expected = hmac.new(secret.encode(), b"42", hashlib.sha256).hexdigest()
    assert user_hash(secret, "42") == expected
    assert verify_identity(secret, "42", expected)
    assert verify_identity(secret, "42", expected.upper())
    assert not verify_identity(secret, "43", expected)
    assert not verify_identity("sk_other", "42", expected)
    assert not verify_identity(secret, "42", "")
    assert not verify_identity(secret, "42", expected[:-1])


def test_stored_seq_is_the_contiguous_prefix(conn: apsw.Connection) -> None:
    site = create_site(conn, name="x", origins=["https://x.example"])

    def store(*seqs: int, stream: str = "s_1") -> None:
        for seq in seqs:
            conn.execute(
                "INSERT INTO frames VALUES (?, 'v_1', ?, ?, 'signal', 0, 0, '{}')",
                (site.id, stream, seq),
            )

    assert stored_seq(conn, site.id, "v_1", "s_1") == 0
    store(2, 3)
    assert stored_seq(conn, site.id, "v_1", "s_1") == 0
    store(1)
    assert stored_seq(conn, site.id, "v_1", "s_1") == 3
    store(5, 6)
    assert stored_seq(conn, site.id, "v_1", "s_1") == 3
    store(4)
    assert stored_seq(conn, site.id, "v_1", "s_1") == 6
    store(1, 2, stream="s_2")
    assert stored_seq(conn, site.id, "v_1", "s_2") == 2
    assert stored_seq(conn, site.id, "v_2", "s_1") == 0
