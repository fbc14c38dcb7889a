"""Commands that other packages add through the ``modelyard.commands`` entry point group."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_plugin_that_fails_to_load_is_skipped_with_a_warning(tmp_path: Path) -> None:
    # A real installed distribution (its dist-info on sys.path) whose command cannot be imported.
    dist_info = tmp_path / "broken_plugin-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[modelyard.commands]\nbroken = no_such_module_for_modelyard:command\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), *sys.path]))}
    result = subprocess.run(
        [sys.executable, "-m", "registry.cli", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "skipped the command 'broken' (no_such_module_for_modelyard:command)" in result.stderr
    assert "No module named 'no_such_module_for_modelyard'" in result.stderr
    assert "Traceback" not in result.stderr
    commands = result.stdout.split("Commands:")[1]
    assert "db " in commands
    assert "serve " in commands  # the other plugins still load


def test_a_plugin_command_starts_without_importing_the_registry_commands() -> None:
    # ``modelyard serve`` is every model server's cold start: the registry's own command
    # modules (and the client and database layers they import) are not loaded for it.
    script = (
        "import sys\n"
        "from registry.cli import main\n"
        "sys.argv = ['modelyard', 'serve', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('registry.cli.'))\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "--grpc-port" in result.stdout
    assert "LOADED []" in result.stderr
