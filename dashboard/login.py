"""Optional dashboard login, set up in ``.streamlit/secrets.toml`` (never in the repository):

- ``[auth]`` with an OIDC provider: Streamlit's own ``st.login`` (Google, Microsoft Entra, Okta,
  Auth0...); only signed-in users see the pages.
- ``dashboard_password = "..."``: one shared password for small teams.
- neither: the dashboard is open, as on a laptop.
"""

from __future__ import annotations

import hmac
from typing import Any

import streamlit as st

_OK = "login_ok"


def _secret(key: str) -> Any:
    if not st.secrets.load_if_toml_exists():
        return None
    return st.secrets.get(key)


def require_login() -> None:
    """Stop the page here unless the visitor is signed in (or no login is set up)."""
    if _secret("auth"):
        if not st.user.is_logged_in:
            st.title("Ticket triage")
            st.button("Log in", on_click=st.login, type="primary")
            st.stop()
        st.sidebar.button("Log out", on_click=st.logout)
        return
    password = _secret("dashboard_password")
    if not password or st.session_state.get(_OK):
        return
    st.title("Ticket triage")
    with st.form("login"):
        entered = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted and hmac.compare_digest(entered.encode(), str(password).encode()):
        st.session_state[_OK] = True
        st.rerun()
    if submitted:
        st.error("Wrong password.")
    st.stop()
