"""API tokens: created once, shown once, stored only as a salted digest.

A token reads ``tt_<id>_<secret>``: the id finds its row, the secret (256 random bits) is checked
against ``HMAC-SHA256(salt, secret)`` with a constant-time comparison. A revoked token stays
listed with its revocation time. Which tokens are valid is cached in :class:`Verifier` and
re-read whenever the data version says that something other than tickets changed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from triage_core.errors import TriageError
from triage_core.server import version

if TYPE_CHECKING:
    import pandas as pd

    from triage_core.store import Store

PREFIX = "tt_"
_SHAPE = re.compile(r"tt_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})")
_NAME = re.compile(r"[A-Za-z0-9 ._@-]{1,80}")


def digest(salt: str, secret: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode(), hashlib.sha256).hexdigest()


def new_secret() -> tuple[str, str, str]:
    """A fresh (secret, salt, digest)."""
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    return secret, salt, digest(salt, secret)


def create(store: Store, name: str) -> str:
    """Record a token named ``name`` and return it (the only time it is shown)."""
    name = (name or "").strip()
    if not _NAME.fullmatch(name):
        raise TriageError(f"token name {name[:80]!r}: use 1-80 letters, digits, spaces, "
                          "'.', '_', '@' or '-'")
    if store.scalar("SELECT count(*) FROM api_tokens WHERE name = ? AND revoked_at IS NULL",
                    [name]):
        raise TriageError(f"a token named {name!r} exists; revoke it first or choose another "
                          "name")
    token_id = secrets.token_hex(6)
    secret, salt, digested = new_secret()
    store.execute("INSERT INTO api_tokens VALUES (?, ?, ?, ?, now()::TIMESTAMP, NULL)",
                  [token_id, name, salt, digested])
    return f"{PREFIX}{token_id}_{secret}"


def list_tokens(store: Store) -> pd.DataFrame:
    return store.query("SELECT token_id, name, created_at, revoked_at FROM api_tokens"
                       " ORDER BY created_at, token_id")


def revoke(store: Store, ref: str) -> str:
    """Revoke the token with id or name ``ref``; returns its id."""
    rows = store.query("SELECT token_id FROM api_tokens WHERE revoked_at IS NULL"
                       " AND (token_id = ? OR name = ?)", [ref, ref])
    if rows.empty:
        raise TriageError(f"no active token with id or name {ref!r} (see 'triage tokens list')")
    token_id = str(rows["token_id"].iloc[0])
    store.execute("UPDATE api_tokens SET revoked_at = now()::TIMESTAMP WHERE token_id = ?",
                  [token_id])
    # at once, not when the job that ran this is reported done: a server's Verifier reads the
    # tokens again at the next request, so a token said revoked is refused from then on
    version.bump()
    return token_id


@dataclass(frozen=True)
class Caller:
    """Who made a request: a token's name, and whether it is the server's owner token."""

    name: str
    owner: bool = False


class Verifier:
    """Checks bearer tokens against the database (cached) and the server's owner token."""

    def __init__(self, store: Store, owner_salt: str, owner_digest: str) -> None:
        self.store = store
        self.owner = (owner_salt, owner_digest)
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[str, str, str]] = {}
        # tokens checked and valid, by the whole token: a client that keeps posting costs no
        # HMAC per request (it was 5 % of the event loop's time under 20 posting clients).
        # Only valid tokens enter, so it holds no more than the valid tokens; it is emptied
        # whenever the tokens are read again (a revocation bumps the data version).
        self._accepted: dict[str, Caller] = {}
        self._seen = -1

    def caller(self, authorization: str | None) -> Caller | None:
        """The caller of a request with this ``Authorization`` header, or None."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = token.strip()
        if token.startswith("tto_"):
            salt, expected = self.owner
            ok = hmac.compare_digest(digest(salt, token[4:]), expected)
            return Caller("owner", owner=True) if ok else None
        shape = _SHAPE.fullmatch(token)
        if not shape:
            return None
        rows, accepted = self._valid()  # a pair: a refresh replaces both
        known = accepted.get(token)
        if known is not None:
            return known
        row = rows.get(shape.group(1))
        if row is None:
            return None
        name, salt, expected = row
        if not hmac.compare_digest(digest(salt, shape.group(2)), expected):
            return None
        accepted[token] = caller = Caller(name)
        return caller

    def _valid(self) -> tuple[dict[str, tuple[str, str, str]], dict[str, Caller]]:
        with self._lock:
            if self._seen != version.structure():
                self._seen = version.structure()
                df = self.store.query("SELECT token_id, name, salt, digest FROM api_tokens"
                                      " WHERE revoked_at IS NULL")
                self._rows = {str(r.token_id): (str(r.name), str(r.salt), str(r.digest))
                              for r in df.itertuples(index=False)}
                self._accepted = {}
            return self._rows, self._accepted


def owner_token() -> tuple[str, str, str]:
    """A fresh owner token for one server run: (token, salt, digest)."""
    secret, salt, digested = new_secret()
    return f"tto_{secret}", salt, digested
