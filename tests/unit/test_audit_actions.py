"""The admin page offers exactly the audit actions the server records."""

from __future__ import annotations

import re

from boltdeck.auth.audit import ACTIONS

from ..conftest import ROOT


def test_audit_actions_admin_page_filter_lists_every_recorded_action():
    """Bug: `full_log_read` and `facts` were recorded but missing from the admin page's action filter."""
    source = (ROOT / "frontend" / "js" / "pages" / "admin-page.js").read_text(encoding="utf-8")
    listed = re.search(r"const ACTIONS = \[(.*?)\];", source, re.S)
    assert listed, "admin-page.js has no ACTIONS list"
    assert tuple(re.findall(r"'([a-z_]+)'", listed.group(1))) == ACTIONS
