"""The name two Artstudio processes meet on, and their messages (no Qt)."""

from __future__ import annotations

import pytest

from artstudio.single_instance import (
    instance_key,
    open_reply,
    open_request,
    read_open_reply,
    read_open_request,
)


def test_one_key_per_settings_home(monkeypatch, tmp_path):
    monkeypatch.setenv("ARTSTUDIO_HOME", str(tmp_path / "a"))
    a = instance_key()
    assert instance_key() == a
    monkeypatch.setenv("ARTSTUDIO_HOME", str(tmp_path / "b"))
    assert instance_key() != a
    assert a.startswith("artstudio-") and len(a) < 40  # short enough for a socket path


def test_the_key_differs_per_user(monkeypatch):
    first = instance_key()
    monkeypatch.setattr("getpass.getuser", lambda: "someone-else")
    assert instance_key() != first


def test_a_request_names_absolute_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = open_request(["painting.ora", tmp_path / "b.png"])
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert read_open_request(line.strip()) == [tmp_path / "painting.ora", tmp_path / "b.png"]


@pytest.mark.parametrize("line", [b"", b"\xff\xfe", b"[]", b'{"protocol": 99, "open": ["x"]}',
                                  b'{"protocol": 1, "open": []}',
                                  b'{"protocol": 1, "open": [3]}'])
def test_anything_else_is_refused(line):
    with pytest.raises(ValueError):
        read_open_request(line)


def test_the_reply_says_how_many_files_are_being_opened():
    assert read_open_reply(open_reply(2).strip()) == 2
    assert read_open_reply(b"HTTP/1.1 400") is None
    assert read_open_reply(b'{"protocol": 1}') is None
