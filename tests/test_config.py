import concurrent.futures
import stat
from pathlib import Path

import pytest

from hypersend.config import Settings, load_or_create_secret


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


def test_env_example_as_a_dot_env_gives_the_documented_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Copying `.env.example` to `.env` unchanged must start the same server as no `.env`."""
    example = Path(__file__).parent.parent / ".env.example"
    (tmp_path / ".env").write_text(example.read_text())
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    from_example = Settings()
    monkeypatch.chdir(tmp_path.parent)
    defaults = Settings()
    assert from_example.registration_policy is None
    assert from_example.model_dump() == defaults.model_dump()


def test_processes_starting_together_share_one_complete_generated_key(tmp_path: Path) -> None:
    """Each process links a finished key into place; none reads one half written."""
    with concurrent.futures.ProcessPoolExecutor(4) as pool:
        keys = list(pool.map(load_or_create_secret, [tmp_path / "secret_key"] * 12))
    assert len(set(keys)) == 1
    assert len(keys[0]) > 40
    assert [path.name for path in tmp_path.iterdir()] == ["secret_key"]


def test_clients_reach_the_download_port_at_the_api_host_unless_told(tmp_path: Path) -> None:
    ported = Settings(data_root=tmp_path, download_port=8001)
    assert ported.download_port_base("http://files.example:8000/") == "http://files.example:8001"
    assert ported.download_port_base("http://[::1]:8000/") == "http://[::1]:8001"
    public = Settings(data_root=tmp_path, download_port=8001, public_url="https://chat.example/api")
    assert public.download_port_base("http://127.0.0.1:8000/") == "http://chat.example:8001"
    told = Settings(data_root=tmp_path, download_port=8001, download_url="https://dl.example/")
    assert told.download_port_base("http://127.0.0.1:8000/") == "https://dl.example"


def test_clients_reach_the_upload_port_at_the_api_host_unless_told(tmp_path: Path) -> None:
    ported = Settings(data_root=tmp_path, upload_port=8002)
    assert ported.upload_port_base("http://files.example:8000/") == "http://files.example:8002"
    told = Settings(data_root=tmp_path, upload_port=8002, upload_url="https://up.example/")
    assert told.upload_port_base("http://127.0.0.1:8000/") == "https://up.example"
