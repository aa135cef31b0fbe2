"""The client never pulls in the server: no Flask, no gevent, no patching; without its libraries, one clear line."""

from __future__ import annotations

import os
import subprocess
import sys


def _python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)


def test_imports_client_loads_neither_flask_nor_gevent():
    done = _python(
        "import boltdeck.client, sys, socket, threading\n"
        "assert 'gevent' not in sys.modules and 'flask' not in sys.modules, sorted(sys.modules)\n"
        "assert socket.socket.__module__ == 'socket' and threading.Lock.__module__ == '_thread'  # not patched\n"
    )
    assert done.returncode == 0, done.stderr


def test_imports_client_commands_run_without_flask_or_gevent(cli_env):
    done = _python(
        "import sys\n"
        "from boltdeck.cli import main\n"
        "code = main(['executions', 'list', '--limit', '1'])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'gevent', 'werkzeug', 'sqlalchemy'))\n"
        "assert loaded == [], loaded\n"
        "sys.exit(code)\n",
        env=cli_env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("id "), done.stdout


def test_imports_without_the_client_libraries_the_commands_say_what_to_install():
    done = _python(
        "import sys\n"
        "sys.modules['httpx'] = None  # as if `pip install boltdeck` without the client extra\n"
        "from boltdeck.cli import main\n"
        "sys.exit(main(['tail', 'abc']))\n"
    )
    assert done.returncode == 2
    assert "pip install 'boltdeck[client]'" in done.stderr and "httpx" in done.stderr
    assert "Traceback" not in done.stderr
    done = _python("import sys\nsys.modules['httpx_sse'] = None\nimport boltdeck.client\n")
    assert "pip install 'boltdeck[client]'" in done.stderr


def test_imports_server_commands_still_patch_with_gevent(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOLTDECK_")}
    env["BOLTDECK_DATABASE_URL"] = f"sqlite:///{tmp_path / 'boltdeck.sqlite3'}"
    done = _python(
        "import sys\n"
        "from boltdeck.cli import main\n"
        "code = main(['users', 'list'])\n"
        "from gevent import monkey\n"
        "assert monkey.is_module_patched('socket') and monkey.is_module_patched('threading')\n"
        "sys.exit(code)\n",
        env=env,
    )
    assert done.returncode == 0, done.stderr
