"""What ships inside the package: the browser UI and the default Bolt project.

In a checkout `frontend` and `bolt-project` beside this file are symlinks to the top-level
folders (the layout the product brief fixes); a built wheel carries copies of them (package
data), so an installed Boltdeck serves its UI and runs in its own project wherever it lives.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).parent

FRONTEND_DIR = (_HERE / "frontend").resolve()
DEFAULT_PROJECT_DIR = (_HERE / "bolt-project").resolve()
