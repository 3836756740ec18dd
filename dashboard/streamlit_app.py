"""Dashboard entrypoint: page config, global sidebar filters, navigation.

Run with ``make run`` (or ``streamlit run dashboard/streamlit_app.py``). Widgets that must survive
a page change live here, in the entrypoint, which runs before every page.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts dashboard/ first on the path, not the root
    sys.path.insert(0, str(ROOT))

from dashboard import components  # noqa: E402
from dashboard.login import require_login  # noqa: E402

PAGES = Path(__file__).resolve().parent / "app_pages"

# The icon ships with the app: a Material icon name here would be fetched from a font CDN.
st.set_page_config(page_title="Ticket triage", page_icon=str(Path(__file__).parent / "icon.png"),
                   layout="wide", initial_sidebar_state="expanded")
require_login()

navigation = st.navigation(
    {
        "Overview": [
            st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:",
                    default=True),
        ],
        "Marketing": [
            st.Page(PAGES / "campaigns.py", title="Campaign impact", icon=":material/campaign:"),
            st.Page(PAGES / "sentiment.py", title="Sentiment trends", icon=":material/mood:"),
            st.Page(PAGES / "plan.py", title="Plan a campaign", icon=":material/event_upcoming:"),
        ],
        "Support": [
            st.Page(PAGES / "queues.py", title="Routing queues", icon=":material/alt_route:"),
            st.Page(PAGES / "tuning.py", title="Priority tuning", icon=":material/tune:"),
            st.Page(PAGES / "explorer.py", title="Ticket explorer", icon=":material/search:"),
            st.Page(PAGES / "review.py", title="Review & feedback",
                    icon=":material/rate_review:"),
        ],
        "Models & data": [
            st.Page(PAGES / "models.py", title="Model quality", icon=":material/model_training:"),
            st.Page(PAGES / "topics.py", title="Topics", icon=":material/category:"),
            st.Page(PAGES / "data_io.py", title="Data", icon=":material/database:"),
        ],
    }
)
if components.database_ready():
    components.sidebar_filters()
    navigation.run()
