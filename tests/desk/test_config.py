from pathlib import Path

import pytest

from desk import config
from desk.config import PROJECT_ROOT, Settings, load_settings

APP = {
    "TIKTOK_CLIENT_KEY": "app-123",
    "TIKTOK_CLIENT_SECRET": "s3cret-app",
    "TIKTOK_REDIRECT_URI": "http://localhost:8501/",
}


def load(environ=None, secrets=None):
    return load_settings(environ=environ or {}, secrets=secrets or {})


def test_project_root_is_the_directory_holding_app_py():
    assert (PROJECT_ROOT / "Home.py").is_file()


def test_nothing_configured_gives_the_defaults_in_demo_mode():
    settings = load()

    assert settings == Settings(
        client_key=None,
        client_secret=None,
        redirect_uri=None,
        db_path=PROJECT_ROOT / "data" / "desk.duckdb",
        credentials_path=PROJECT_ROOT / "data" / "credentials.json",
        secret_key=None,
        password=None,
        rate_limit_qps=10.0,
        rate_limit_qpm=600.0,
        api_base_url="https://business-api.tiktok.com",
        lookback_days=90,
    )
    assert settings.demo_mode


def test_every_setting_is_read_from_its_environment_variable(tmp_path):
    settings = load(
        {
            **APP,
            "DESK_DB": str(tmp_path / "a.duckdb"),
            "DESK_CREDENTIALS": str(tmp_path / "c.json"),
            "DESK_SECRET_KEY": "k" * 32,
            "DESK_PASSWORD": "open sesame",
            "TIKTOK_RATE_LIMIT_QPS": "20",
            "TIKTOK_RATE_LIMIT_QPM": "1200",
            "TIKTOK_API_BASE_URL": "http://127.0.0.1:8765",
            "TIKTOK_AUTH_URL": "http://127.0.0.1:8765/portal/auth",
            "TIKTOK_ACCOUNT_AUTH_URL": "http://127.0.0.1:8765/v2/auth/authorize/?client_key=a",
            "TIKTOK_ACCOUNT_REDIRECT_URI": "http://localhost:8501/accounts",
            "DESK_LOOKBACK_DAYS": "30",
        }
    )

    assert settings == Settings(
        client_key="app-123",
        client_secret="s3cret-app",
        redirect_uri="http://localhost:8501/",
        db_path=tmp_path / "a.duckdb",
        credentials_path=tmp_path / "c.json",
        secret_key="k" * 32,
        password="open sesame",
        rate_limit_qps=20.0,
        rate_limit_qpm=1200.0,
        api_base_url="http://127.0.0.1:8765",
        auth_url="http://127.0.0.1:8765/portal/auth",
        account_auth_url="http://127.0.0.1:8765/v2/auth/authorize/?client_key=a",
        account_redirect_uri="http://localhost:8501/accounts",
        lookback_days=30,
    )
    assert not settings.demo_mode


def test_the_account_redirect_defaults_to_the_advertiser_one():
    settings = load({**APP})
    assert settings.account_redirect_uri == "http://localhost:8501/"
    assert settings.account_auth_url is None  # business accounts cannot be connected


def test_the_environment_wins_over_the_secrets():
    settings = load(
        environ={"TIKTOK_CLIENT_KEY": "from-env"},
        secrets={"TIKTOK_CLIENT_KEY": "from-secrets", "DESK_PASSWORD": "from-secrets"},
    )

    assert settings.client_key == "from-env"
    assert settings.password == "from-secrets"


def test_an_empty_value_counts_as_unset():
    settings = load(
        environ={"TIKTOK_CLIENT_KEY": "", "DESK_PASSWORD": "  "},
        secrets={"TIKTOK_CLIENT_KEY": "from-secrets"},
    )

    assert settings.client_key == "from-secrets"
    assert settings.password is None


def test_numbers_in_the_secrets_file_may_be_toml_numbers():
    settings = load(secrets={"TIKTOK_RATE_LIMIT_QPS": 20, "DESK_LOOKBACK_DAYS": 7})

    assert settings.rate_limit_qps == 20.0
    assert settings.lookback_days == 7


@pytest.mark.parametrize("missing", sorted(APP))
def test_demo_mode_unless_all_three_app_settings_are_present(missing):
    environ = {name: value for name, value in APP.items() if name != missing}

    assert load(environ).demo_mode


def test_relative_paths_are_resolved_against_the_project_root():
    settings = load({"DESK_DB": "data/other.duckdb", "DESK_CREDENTIALS": "secrets/c.json"})

    assert settings.db_path == PROJECT_ROOT / "data" / "other.duckdb"
    assert settings.credentials_path == PROJECT_ROOT / "secrets" / "c.json"


def test_a_motherduck_database_name_is_kept_as_written():
    assert str(load({"DESK_DB": "md:comment_desk"}).db_path) == "md:comment_desk"


def test_a_trailing_slash_on_the_api_base_url_is_dropped():
    settings = load({"TIKTOK_API_BASE_URL": "http://127.0.0.1:8765/"})

    assert settings.api_base_url == "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIKTOK_RATE_LIMIT_QPS", "fast"),
        ("TIKTOK_RATE_LIMIT_QPS", "0"),
        ("TIKTOK_RATE_LIMIT_QPM", "-5"),
        ("TIKTOK_RATE_LIMIT_QPM", "nan"),
        ("DESK_LOOKBACK_DAYS", "ninety"),
        ("DESK_LOOKBACK_DAYS", "3.5"),
        ("DESK_LOOKBACK_DAYS", "0"),
    ],
)
def test_a_bad_number_is_refused_naming_the_setting(name, value):
    with pytest.raises(ValueError, match=name):
        load({name: value})


def test_a_toml_boolean_is_not_a_number():
    with pytest.raises(ValueError, match="DESK_LOOKBACK_DAYS"):
        load(secrets={"DESK_LOOKBACK_DAYS": True})


def test_secrets_are_read_from_the_secrets_file(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text('TIKTOK_CLIENT_KEY = "from-file"\nTIKTOK_RATE_LIMIT_QPM = 1200\n')

    settings = load_settings(environ={}, secrets_path=path)

    assert settings.client_key == "from-file"
    assert settings.rate_limit_qpm == 1200.0


def test_a_missing_secrets_file_is_fine(tmp_path):
    settings = load_settings(environ={}, secrets_path=tmp_path / "absent.toml")

    assert settings.demo_mode


def test_a_malformed_secrets_file_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text('TIKTOK_CLIENT_KEY = "unterminated\n')

    with pytest.raises(ValueError, match=str(path)):
        load_settings(environ={}, secrets_path=path)


def test_the_default_secrets_file_is_streamlit_secrets_under_the_project_root(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path / "project")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "project" / ".streamlit").mkdir(parents=True)
    (tmp_path / "project" / ".streamlit" / "secrets.toml").write_text('DESK_PASSWORD = "pw"\n')
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('DESK_PASSWORD = "wrong"\n')

    assert load_settings(environ={}).password == "pw"


def test_relative_paths_do_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    assert load({"DESK_DB": "data/x.duckdb"}).db_path == PROJECT_ROOT / "data" / "x.duckdb"


def test_the_process_environment_is_read_by_default(monkeypatch):
    monkeypatch.setenv("TIKTOK_CLIENT_KEY", "from-process")

    assert load_settings(secrets={}).client_key == "from-process"


def test_repr_hides_the_secrets_but_not_the_rest():
    settings = load(
        {**APP, "DESK_SECRET_KEY": "signing-key-value", "DESK_PASSWORD": "hunter2-password"}
    )

    text = repr(settings)

    for secret in ("s3cret-app", "signing-key-value", "hunter2-password"):
        assert secret not in text
    assert "client_secret='***'" in text
    assert "client_key='app-123'" in text
    assert "password='***'" in text
    assert str(settings) == text


def test_repr_shows_unset_secrets_as_none():
    assert "client_secret=None" in repr(load())


def test_settings_cannot_be_changed():
    settings = load()

    with pytest.raises(AttributeError):
        settings.password = "x"  # type: ignore[misc]


def test_demo_mode_keeps_its_data_apart_unless_paths_are_set():
    from desk.config import DEMO_DIR, for_demo

    demo = for_demo(load_settings(environ={}, secrets={}, secrets_path=None))
    assert demo.db_path == DEMO_DIR / "desk.duckdb"
    assert demo.credentials_path == DEMO_DIR / "credentials.json"

    chosen = for_demo(load_settings(environ={"DESK_DB": "/tmp/mine.duckdb"}, secrets={},
                                    secrets_path=None))
    assert chosen.db_path == Path("/tmp/mine.duckdb")
    assert chosen.credentials_path == DEMO_DIR / "credentials.json"
