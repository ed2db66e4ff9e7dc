"""Settings are read from the environment once, in config.py, and keep provider keys secret."""

import logging
import re
from pathlib import Path

import pytest

import moneyreels
from moneyreels import create_app, db
from moneyreels.config import PROVIDER_KEYS, ConfigurationError, Settings, load_settings
from moneyreels.render import fonts

SECRET = "sk-settings-test-0123456789"
PACKAGE = Path(moneyreels.__file__).parent


def test_no_module_but_config_reads_the_environment():
    readers = re.compile(r"\bos\.environ\b|\bos\.getenv\b|\bgetenv\(|from os import[^\n]*\b(environ|getenv)\b")
    offenders = [str(path.relative_to(PACKAGE)) for path in sorted(PACKAGE.rglob("*.py"))
                 if path.name != "config.py" or path.parent != PACKAGE
                 if readers.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_provider_keys_and_settings_are_read_from_the_environment():
    environ = {"OPENAI_API_KEY": SECRET, "FAL_KEY": "", "MONEYREELS_LLM_BASE_URL": "http://127.0.0.1:9/v1",
               "MONEYREELS_PIPER_VOICES_DIR": "/voices", "MONEYREELS_FONTS_DIR": "/fonts", "UNRELATED_KEY": "x"}
    settings = load_settings(environ)
    assert set(settings.provider_keys) == {"OPENAI_API_KEY"}  # an empty variable is unset
    assert settings.fonts_dir == Path("/fonts")
    assert settings.provider_values() == {"OPENAI_API_KEY": SECRET, "MONEYREELS_LLM_BASE_URL": "http://127.0.0.1:9/v1",
                                          "MONEYREELS_PIPER_VOICES_DIR": "/voices"}


def test_a_key_that_is_not_a_provider_key_is_refused():
    with pytest.raises(ConfigurationError, match="provider_keys: .*not provider keys: NOT_A_KEY"):
        load_settings({}, provider_keys={"NOT_A_KEY": "x"})


def test_every_provider_key_is_secret_in_repr_str_json_and_logs(caplog):
    settings = Settings(provider_keys={name: SECRET for name in PROVIDER_KEYS})
    caplog.set_level(logging.DEBUG)
    logging.getLogger("moneyreels.test").info("settings: %s %r", settings, settings)
    shown = [repr(settings), str(settings), settings.model_dump_json(), repr(settings.model_dump()), caplog.text]
    assert all(SECRET not in text for text in shown)
    assert set(settings.provider_keys) == set(PROVIDER_KEYS)


def test_health_answers_booleans_and_no_response_echoes_a_key(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", jobs_dir=tmp_path / "output", media_dir=tmp_path / "media",
                        ollama_url="http://127.0.0.1:9/v1", provider_keys={"OPENAI_API_KEY": SECRET})
    client = create_app(settings).test_client()
    try:
        health = client.get("/api/v1/health")
        assert health.json["keys"]["OPENAI_API_KEY"] is True and health.json["keys"]["PEXELS_API_KEY"] is False
        for path in ("/api/v1/health", "/api/v1/providers", "/api/v1/openapi.json", "/"):
            assert SECRET not in client.get(path).get_data(as_text=True), path
    finally:
        db.database.close()


def test_the_app_searches_the_fonts_folder_of_its_settings(settings, monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "_extra_dirs", [])
    create_app(settings.model_copy(update={"fonts_dir": tmp_path / "fonts"}))
    try:
        assert fonts.font_dirs()[-1] == str(tmp_path / "fonts")
    finally:
        db.database.close()


def test_database_url_is_a_secret_and_a_bad_one_is_named_without_its_value(caplog):
    url = "postgresql://reels:hunter2-db@db.example:5432/moneyreels"
    settings = load_settings({"DATABASE_URL": url})
    assert settings.connection_url == url and settings.database_path is None
    caplog.set_level(logging.DEBUG)
    logging.getLogger("moneyreels.test").info("settings: %s %r", settings, settings)
    assert all("hunter2" not in text for text in (repr(settings), settings.model_dump_json(), caplog.text))
    assert db.describe(url) == "PostgreSQL database moneyreels on db.example:5432"
    with pytest.raises(ConfigurationError, match="DATABASE_URL: .*sqlite:/// or postgresql://") as refused:
        load_settings({"DATABASE_URL": "mysql://reels:hunter2-db@db.example/moneyreels"})
    assert "hunter2" not in str(refused.value)


def test_the_sqlite_file_is_data_dirs_unless_database_url_names_one(tmp_path):
    assert load_settings({"DATA_DIR": str(tmp_path)}).connection_url == f"sqlite:///{tmp_path}/moneyreels.sqlite3"
    named = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path}/elsewhere/reels.db"})
    assert named.database_path == tmp_path / "elsewhere" / "reels.db"
    create_app(named.model_copy(update={"media_dir": tmp_path / "media"}))
    try:
        assert named.database_path.is_file()
    finally:
        db.database.close()
