"""What the examples share: the page and the frontend SDK bundles it loads.

The bundles come from an npm install of ``supertokens-web-js`` (``npm install
supertokens-web-js@0.16.0`` here or in ``tests/browser``); without one, the page is
pointed at the jsDelivr CDN.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).parent
PAGE = (HERE / "page.html").read_text()
DATABASE = os.environ.get("TESSERA_DATABASE", "sqlite:///example-sessions.db")
CDN = "https://cdn.jsdelivr.net/npm/supertokens-web-js@0.16.0/bundle/"
_SEARCH = [HERE / "node_modules", HERE.parent / "tests" / "browser" / "node_modules"]


def sdk_bundle(name: str) -> tuple[bytes | None, str]:
    """The bundle's bytes if installed locally, else ``None`` and its CDN address."""
    if name not in ("website", "supertokens", "session"):
        return None, ""
    for root in _SEARCH:
        found = sorted((root / "supertokens-web-js" / "bundle").glob(f"{name}.*.js"))
        if found:
            return found[-1].read_bytes(), ""
    return None, CDN + name + ".js"
