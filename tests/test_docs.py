"""The docs stay true and complete: every setting, command and flag documented, the REST reference
current, the README short, its test command the one CI runs, and every relative link resolving.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from registry.config import Config
from serving.config import ServingConfig
from tests.documentation import (
    DOCS,
    README,
    ROOT,
    TOP_LEVEL_PAGES,
    cli_commands,
    doc_pages,
    documented_text,
    environment_names,
    long_flags,
)

README_MAX_LINES = 250
TEST_COMMAND = 'python -m pip install -c requirements/lock.txt -e ".[test]" && python -m pytest'
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _renderer() -> ModuleType:
    path = DOCS / "render_rest_reference.py"
    spec = importlib.util.spec_from_file_location("render_rest_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_rest_reference_is_rendered_from_the_current_openapi_documents() -> None:
    renderer = _renderer()
    expected = renderer.current_text()
    assert "`POST /api/2.0/mlflow/runs/log-batch`" in expected
    assert "`POST /invocations`" in expected
    assert (DOCS / "rest-api.md").read_text() == expected, (
        f"docs/rest-api.md is out of date: run `{renderer.COMMAND}` and commit the result"
    )


def test_every_setting_of_both_servers_is_documented_in_backticks() -> None:
    text = documented_text()
    names = {"REGISTRY_" + field.name.upper() for field in dataclasses.fields(Config)}
    names |= {
        "SERVING_" + field.name.upper()
        for field in dataclasses.fields(ServingConfig)
        if field.name != "prometheus_multiproc_dir"  # read under its prometheus_client name
    }
    missing = sorted(name for name in names if f"`{name}`" not in text)
    assert not missing, f"settings missing from docs/configuration.md: {missing}"


def test_every_environment_variable_the_code_reads_is_documented() -> None:
    names = environment_names()
    assert {"MLFLOW_TRACKING_URI", "PROMETHEUS_MULTIPROC_DIR"} <= names
    text = documented_text()
    missing = sorted(name for name in names if f"`{name}`" not in text)
    assert not missing, f"environment variables missing from docs/configuration.md: {missing}"


def test_every_command_and_flag_is_documented() -> None:
    text = documented_text()
    commands = dict(cli_commands())
    assert {"modelyard server", "modelyard serve", "modelyard db upgrade"} <= set(commands)
    missing = [path for path in commands if path != "modelyard" and f"`{path}" not in text]
    assert not missing, f"commands missing from the docs (as `{{command}} ...`): {missing}"
    undocumented = [
        f"{path} {flag}"
        for path, command in commands.items()
        for flag in long_flags(command)
        if not re.search(rf"`[^`\n]*{re.escape(flag)}(?![\w-])", text)
    ]
    assert not undocumented, f"flags missing from docs/cli.md (in backticks): {undocumented}"


def test_readme_is_short_and_its_test_command_is_the_one_ci_runs() -> None:
    readme = README.read_text()
    lines = readme.count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail into docs/"
    assert TEST_COMMAND in readme
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text()


def _anchors(page: Path) -> set[str]:
    """The fragment ids GitHub gives ``page``'s headings, plus its explicit ``<a id>`` tags."""
    text = page.read_text()
    anchors = set(re.findall(r'<a id="([^"]+)"', text))
    seen: dict[str, int] = {}
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_every_relative_link_resolves() -> None:
    pages = [*doc_pages(), *(ROOT / name for name in TOP_LEVEL_PAGES[1:])]
    broken = []
    for page in pages:
        for target in LINK.findall(page.read_text()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, fragment = target.partition("#")
            linked = (page.parent / path) if path else page
            if not linked.exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
            elif fragment and linked.suffix == ".md" and fragment not in _anchors(linked):
                broken.append(f"{page.relative_to(ROOT)} -> {target} (no such heading)")
    assert not broken, f"links that do not resolve: {broken}"


def test_the_docs_index_lists_every_page() -> None:
    index = (DOCS / "README.md").read_text()
    pages = {
        page.relative_to(DOCS).as_posix()
        for page in DOCS.glob("**/*.md")
        if page.name != "README.md"
    }
    unlisted = sorted(page for page in pages if f"({page})" not in index)
    assert not unlisted, f"pages missing from docs/README.md: {unlisted}"


def test_readme_links_to_the_contributor_pages() -> None:
    readme = README.read_text()
    for page in ("docs/README.md", "docs/architecture.md", "CONTRIBUTING.md", "CHANGELOG.md"):
        assert f"({page})" in readme, page
    assert Path(ROOT / "CONTRIBUTING.md").exists() and Path(ROOT / "CHANGELOG.md").exists()
