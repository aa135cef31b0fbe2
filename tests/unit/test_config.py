"""Settings from defaults, a YAML file and BOLTDECK_* variables."""

import pytest

from boltdeck.config import Settings
from boltdeck.errors import ConfigError


def test_config_defaults_work_on_a_fresh_clone():
    settings = Settings.load(environ={})
    assert settings.bolt_bin == "bolt"
    assert settings.bolt_project.endswith("bolt-project")
    assert settings.database_url.startswith("sqlite:///") and "/var/" in settings.database_url
    assert settings.max_concurrent_executions == 8
    assert settings.execution_timeout_seconds == 3600


def test_config_environment_beats_yaml(tmp_path):
    path = tmp_path / "boltdeck.yaml"
    path.write_text("bolt_bin: /opt/bolt\nmax_concurrent_executions: 3\n")
    settings = Settings.load(environ={"BOLTDECK_CONFIG": str(path), "BOLTDECK_MAX_CONCURRENT_EXECUTIONS": "5"})
    assert settings.bolt_bin == "/opt/bolt"
    assert settings.max_concurrent_executions == 5


def test_config_rejects_bad_values_and_unknown_keys(tmp_path):
    with pytest.raises(ConfigError, match="BOLTDECK_MAX_CONCURRENT_EXECUTIONS"):
        Settings.load(environ={"BOLTDECK_MAX_CONCURRENT_EXECUTIONS": "many"})
    path = tmp_path / "c.yaml"
    path.write_text("no_such_setting: 1\n")
    with pytest.raises(ConfigError, match="no_such_setting"):
        Settings.load(environ={"BOLTDECK_CONFIG": str(path)})


def test_config_every_setting_is_documented_in_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [name for name, _, _ in Settings.describe() if name not in readme]
    assert missing == []
