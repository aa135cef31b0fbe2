"""What Boltdeck reads from the Bolt project folder itself (bolt-project.yaml)."""

from __future__ import annotations

import os

import yaml


def project_name(project_dir: str) -> str | None:
    """The project's `name` from bolt-project.yaml (its own tasks are NAME and NAME::*), or None."""
    try:
        with open(os.path.join(project_dir, "bolt-project.yaml"), encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else None
