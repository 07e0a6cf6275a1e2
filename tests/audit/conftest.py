import pytest


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    """Each test its own anchor file (the default is one per database under the shared var dir)."""
    path = tmp_path / "anchors.jsonl"
    settings.DOORSTEP_AUDIT_ANCHOR_FILE = str(path)
    return path
