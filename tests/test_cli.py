"""The command line as a newcomer meets it: requirements, a busy port, --help, and `render`'s messages."""

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from moneyreels import cli
from moneyreels.config import ENVIRONMENT
from tests.support.video import W, H, probe

ROOT = Path(__file__).resolve().parents[1]
TEST_TOOLS = ("pytest", "playwright", "hypothesis", "schemathesis")


def requirement_names(path: Path) -> list[str]:
    return [line.split("==")[0] for line in path.read_text().splitlines() if line and not line.startswith("#")]


def test_runtime_requirements_hold_no_test_tools_and_the_dev_file_adds_them():
    runtime = requirement_names(ROOT / "requirements.txt")
    dev = requirement_names(ROOT / "requirements-dev.txt")
    assert "flask" in runtime and not any(tool in runtime for tool in TEST_TOOLS)
    assert "-r requirements.txt" in dev and all(tool in dev for tool in TEST_TOOLS)
    assert "-r requirements-dev.txt" in (ROOT / "scripts/test.sh").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "pip install -r requirements.txt && .venv/bin/python app.py" in readme


def test_a_busy_port_says_which_variable_to_change(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "PORT": str(port), "DATA_DIR": str(tmp_path / "data"), "JOBS_DIR": str(tmp_path / "out"),
               "WORKERS": "0"}
        done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [f"error: port {port} on 127.0.0.1 is already in use; set PORT to a free port "
                     f"(for example PORT={port + 1})"]


def test_migrate_adds_what_an_older_sqlite_file_lacks_and_exits(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:  # the job table before leases, without the other tables
        conn.execute("create table job (id varchar(255) primary key, kind varchar(255), state varchar(255), "
                     "cancel_requested integer, request text, owner varchar(255), idempotency_key varchar(255), "
                     "request_hash varchar(255), stages text, outputs text, result_path varchar(255), error text, "
                     "attempts integer, claimed_by varchar(255), created_at real, started_at real, "
                     "completed_at real, updated_at real)")
        conn.execute("insert into job values ('old', 'tick', 'completed', 0, '{}', '', null, null, '{}', '{}', null, "
                     "null, 1, 'host:1:worker-1', 0, 0, 0, 0)")
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite:///{path}", "DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "app.py", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"the tables of the SQLite file {path} are up to date" in done.stderr
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("pragma table_info(job)")}
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        assert conn.execute("select id, state from job").fetchall() == [("old", "completed")]
    assert {"lease_owner", "lease_expires_at"} <= columns
    assert {"event", "delivery"} <= tables


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_help_list_every_setting_with_its_default(command, capsys):
    with pytest.raises(SystemExit):
        cli.parse_args([command, "--help"])
    text = capsys.readouterr().out
    for variable in ENVIRONMENT:
        assert f"\n  {variable} " in text
    port_line = next(line for line in text.splitlines() if line.strip().startswith("PORT "))
    assert port_line.split()[1] == "8080"


def test_render_help_says_how_asset_paths_resolve(capsys):
    with pytest.raises(SystemExit):
        cli.parse_args(["render", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "relative to MEDIA_DIR first, then relative to the manifest's folder" in text
    assert "--strict" in text


def text_reel(**extra) -> dict:
    overlay = {"id": "line", "content": "Hi", "time": {"start_seconds": 0, "duration_seconds": 1}, **extra}
    return {"version": "v1", "output": {"width": W, "height": H, "fps": 10},
            "composition": {"text_overlays": [overlay]}}


@pytest.fixture
def run(tmp_path, settings, capsys, monkeypatch):
    """Run `render` on a manifest dict; return (exit code, stderr)."""
    monkeypatch.setattr(cli, "on_signals", lambda handler: None)

    def render(manifest, *flags, output=None):
        path = tmp_path / "reel.json"
        path.write_text(json.dumps(manifest))
        code = cli.render_file(settings, path, output or tmp_path / "out.mp4", strict="--strict" in flags)
        return code, capsys.readouterr().err

    return render


TYPOS = {"duraton_seconds": 2, "style": {"font_sise": 40}}


def test_render_warns_about_every_unknown_key_and_still_renders(run, tmp_path):
    code, err = run(text_reel(**TYPOS))
    assert code == 0
    assert "warning: composition.text_overlays.0.duraton_seconds: unknown key 'duraton_seconds' ignored" in err
    assert "warning: composition.text_overlays.0.style.font_sise: unknown key 'font_sise' ignored; did you mean 'font_size'?" in err
    assert probe(tmp_path / "out.mp4")["duration"] == pytest.approx(1, abs=0.15)


def test_strict_makes_unknown_keys_errors_before_any_work(run, tmp_path):
    code, err = run(text_reel(**TYPOS), "--strict")
    assert code == 2
    assert err.count("error: ") == 2 and "font_sise" in err and "duraton_seconds" in err
    assert not (tmp_path / "out.mp4").exists()


def test_a_missing_file_names_the_paths_tried_and_media_dir(run, tmp_path, settings):
    manifest = text_reel()
    manifest["assets"] = [{"id": "pic", "type": "image", "url": "nowhere.png"}]
    manifest["composition"]["timeline"] = [{"id": "bg", "type": "image", "asset_id": "pic",
                                            "time": {"start_seconds": 0, "duration_seconds": 1}}]
    code, err = run(manifest)
    assert code == 1
    media_dir = Path(settings.media_dir).resolve()
    assert "error: Asset 'pic' is not usable: local file not found" in err
    assert str(media_dir / "nowhere.png") in err and str(tmp_path / "nowhere.png") in err
    assert f"MEDIA_DIR is {media_dir}" in err
    assert "worker_crash" not in err and "invalid_asset_url" not in err


def test_an_output_folder_that_does_not_exist_is_refused_before_any_work(run, tmp_path):
    code, err = run({"not": "even a manifest"}, output=tmp_path / "missing" / "out.mp4")
    assert code == 2
    assert err.strip() == f"error: the output folder {tmp_path / 'missing'} does not exist"


def test_messages_carry_no_server_wording(run):
    code, err = run([1, 2])
    assert code == 2
    assert "(body)" not in err and err.startswith("error: ")
