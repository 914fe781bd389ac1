import stat
from pathlib import Path

import pytest

from hypersend.config import Settings


def test_generated_secret_key_is_kept_owner_only_and_reused(tmp_path: Path) -> None:
    first = Settings(data_root=tmp_path).signing_key
    second = Settings(data_root=tmp_path).signing_key
    assert first == second
    assert len(first) >= 48
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_environment_configures_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_ROOT", str(tmp_path))
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("MAX_FILE_SIZE", "1000")
    settings = Settings()
    assert settings.data_root == tmp_path
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.max_file_size == 1000
    assert settings.database_path == tmp_path / "hypersend.db"
