"""repro.files: atomic writes keep the old file when a write fails."""

import pytest

from repro.files import atomic_path, write_json_atomic, write_text_atomic


def test_failed_write_keeps_the_old_content(tmp_path):
    target = write_text_atomic(tmp_path / "table.csv", "old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half of the new")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_successful_write_replaces(tmp_path):
    target = write_json_atomic(tmp_path / "sub" / "m.json", {"b": 1, "a": [1, 2]})
    assert target.read_text().startswith('{\n  "a"')
