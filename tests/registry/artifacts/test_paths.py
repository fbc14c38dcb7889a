"""The path gate: every spelling of an escape is refused; ordinary names pass, normalised."""

import posixpath

import pytest

from registry.artifacts.paths import safe_relative_path
from registry.errors import InvalidParameter

HOSTILE = [
    ("..", "contains '..'"),
    ("../etc/passwd", "contains '..'"),
    ("a/../../etc", "contains '..'"),
    ("a/b/..", "contains '..'"),
    ("a/./../b", "contains '..'"),
    ("/etc/passwd", "is absolute"),
    ("//server/share", "is absolute"),
    ("a\\..\\b", "backslash"),
    ("\\etc\\passwd", "backslash"),
    ("..\\x", "backslash"),
    ("%2e%2e/x", "contains '..'"),
    ("%2E%2E/x", "contains '..'"),
    (".%2e/x", "contains '..'"),
    ("%252e%252e/x", "contains '..'"),
    ("%25252e%25252e/x", "contains '..'"),
    ("a%2f..%2fb", "encoded"),
    ("a%2Fb", "encoded"),
    ("a%252fb", "encoded"),
    ("a%5cb", "encoded"),
    ("%2fetc%2fpasswd", "encoded"),
    ("a\x00b", "control character"),
    ("a%00b", "encoded"),
    ("a%2500b", "encoded"),
    ("a\nb", "control character"),
    ("a%0d%0aSet-Cookie: x", "control character"),
    ("C:/Windows/win.ini", "drive letter"),
    ("c:x", "drive letter"),
    ("a/D:/x", "drive letter"),
    ("~", "'~'"),
    ("~/.ssh/id_rsa", "'~'"),
    ("~root/x", "'~'"),
    ("\uff0e\uff0e/x", "contains '..'"),  # fullwidth dots: NFKC makes them '..'
    ("a/\uff0e\uff0e", "contains '..'"),
    ("a\ufe68b", "backslash"),  # small reverse solidus: NFKC makes it '\'
    ("%c0%ae%c0%ae/x", "invalid UTF-8"),  # overlong UTF-8 for '.'
    ("%ff", "invalid UTF-8"),
    ("a\udc80b", "not valid Unicode"),
    ("x" * 256, "longer than 255"),
    ("/".join(["abcdefgh"] * 120), "longer than 1024"),
    ("%" + "25" * 9 + "2e", "too many times"),
]


@pytest.mark.parametrize(("path", "reason"), HOSTILE)
def test_hostile_paths_are_invalid_parameters_naming_the_reason(path: str, reason: str) -> None:
    with pytest.raises(InvalidParameter, match=r"^Invalid path ") as caught:
        safe_relative_path(path)
    assert reason in caught.value.message
    assert caught.value.http_status == 400


SAFE = [
    ("", ""),
    (".", ""),
    ("./", ""),
    ("a", "a"),
    ("a/", "a"),
    ("a//b", "a/b"),
    ("./a/./b/.", "a/b"),
    ("1/abc123/artifacts/model/MLmodel", "1/abc123/artifacts/model/MLmodel"),
    ("..a/b..", "..a/b.."),
    ("...", "..."),
    (".hidden", ".hidden"),
    ("backup~", "backup~"),
    ("a~b/c", "a~b/c"),
    ("100%.txt", "100%.txt"),
    ("a%2etxt", "a%2etxt"),
    ("résumé 2024.txt", "résumé 2024.txt"),
    ("with space/and:colon", "with space/and:colon"),
    ("x" * 255, "x" * 255),
]


@pytest.mark.parametrize(("path", "expected"), SAFE)
def test_ordinary_paths_pass_normalised(path: str, expected: str) -> None:
    assert safe_relative_path(path) == expected


def test_the_gate_is_idempotent_and_never_yields_an_escape() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = hypothesis.strategies
    alphabet = strategies.sampled_from([*"ab./\\%2eEf05c~:", "\x00", "\uff0e", "é"])

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(strategies.text(alphabet, max_size=24))
    def check(path: str) -> None:
        try:
            clean = safe_relative_path(path)
        except InvalidParameter:
            return
        assert safe_relative_path(clean) == clean
        assert not clean.startswith("/")
        assert ".." not in clean.split("/")
        resolved = posixpath.normpath(f"/root/{clean}")
        assert resolved == "/root" or resolved.startswith("/root/")

    check()
