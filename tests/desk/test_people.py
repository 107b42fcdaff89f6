"""desk.people, desk.serving and desk.connect.keys: roles by address or domain, the check every
action makes, where the app may listen, and the key that encrypts tokens by default."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from desk import people
from desk import store as db
from desk.config import load_settings
from desk.connect.credentials import CredentialStore
from desk.connect.keys import KeyFileError, key_in, with_secret_key
from desk.people import NotAllowed, Person
from desk.serving import is_loopback, refusal
from desk.store import Store
from desk.store import people as people_table

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Person("boss@brand.example", "admin")


@pytest.fixture
def cur(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as store, store.cursor() as cursor:
        yield cursor


def test_an_address_wins_over_its_domain_and_others_have_no_role(cur):
    people.seed(cur, {"admin": ["boss@brand.example"], "responder": ["@brand.example"],
                      "viewer": ["agency@partner.example"]})

    assert people.role_of(cur, "Boss@Brand.example") == "admin"
    assert people.role_of(cur, "anyone@brand.example") == "responder"
    assert people.role_of(cur, "agency@partner.example") == "viewer"
    assert people.role_of(cur, "other@partner.example") is None
    assert people.role_of(cur, "someone@evil.example") is None


def test_what_each_role_may_do(cur):
    viewer, responder = Person("v@x.example", "viewer"), Person("r@x.example", "responder")
    nobody = Person("n@x.example", None)

    people.require(responder, "responder", "reply")
    people.require(ADMIN, "responder", "reply")
    with pytest.raises(NotAllowed, match="Only a responder or above may reply; v@x.example is "
                                         "a viewer"):
        people.require(viewer, "responder", "reply")
    with pytest.raises(NotAllowed, match="n@x.example has no role"):
        people.require(nobody, "viewer", "open the Comments page")
    assert not responder.can("admin") and viewer.can("viewer") and not nobody.can("viewer")


def test_an_admins_choice_outlives_the_settings_and_is_audited(cur):
    people.seed(cur, {"admin": ["boss@brand.example"], "responder": ["jo@brand.example"]})

    done = people.set_role(cur, ADMIN, "JO@brand.example", "viewer")
    people.seed(cur, {"admin": ["boss@brand.example"], "responder": ["jo@brand.example"]})

    assert done == "jo@brand.example is now a viewer"
    assert people.role_of(cur, "jo@brand.example") == "viewer"  # a restart keeps it
    [line] = db.query_records(cur, "SELECT actor, event, detail FROM audit_log")
    assert line == {"actor": "boss@brand.example", "event": "role", "detail": done}
    [row] = [r for r in db.list_roles(cur).to_dict("records") if r["pattern"] == "jo@brand.example"]
    assert row["set_by"] == "boss@brand.example"


def test_a_removed_person_has_no_role_at_once(cur):
    people.seed(cur, {"admin": ["boss@brand.example"]})
    people.set_role(cur, ADMIN, "jo@brand.example", "responder")

    people.set_role(cur, ADMIN, "jo@brand.example", None)

    assert people.role_of(cur, "jo@brand.example") is None


def test_a_removal_outlives_the_settings_until_a_role_is_given_again(cur):
    from_settings = {"admin": ["boss@brand.example"], "responder": ["jo@brand.example"]}
    people.seed(cur, from_settings)

    people.set_role(cur, ADMIN, "jo@brand.example", None)
    people.seed(cur, from_settings)  # as the next start does

    assert people.role_of(cur, "jo@brand.example") is None
    [removed] = db.query_records(cur, "SELECT pattern, removed_by FROM people_removed")
    assert removed == {"pattern": "jo@brand.example", "removed_by": "boss@brand.example"}

    people.set_role(cur, ADMIN, "jo@brand.example", "viewer")
    people.seed(cur, from_settings)

    assert people.role_of(cur, "jo@brand.example") == "viewer"
    assert db.query_records(cur, "SELECT pattern FROM people_removed") == []


def test_a_removal_is_recorded_whole_or_not_at_all(cur, monkeypatch):
    people.seed(cur, {"admin": ["boss@brand.example"], "responder": ["jo@brand.example"]})
    real = people_table.fetch_rows

    def fail_on_removed(cursor, sql, params=()):
        if "INSERT INTO people_removed" in sql:
            raise RuntimeError("interrupted")
        return real(cursor, sql, params)

    monkeypatch.setattr(people_table, "fetch_rows", fail_on_removed)
    with pytest.raises(RuntimeError):
        db.put_role(cur, "jo@brand.example", None, ADMIN.email)

    assert people.role_of(cur, "jo@brand.example") == "responder"  # the delete rolled back


def test_only_an_admin_changes_roles_and_the_last_admin_stays(cur):
    people.seed(cur, {"admin": ["boss@brand.example"]})
    with pytest.raises(NotAllowed, match="Only an admin or above may change who"):
        people.set_role(cur, Person("r@brand.example", "responder"), "r@brand.example",
                        "admin")
    with pytest.raises(NotAllowed, match="the only admin"):
        people.set_role(cur, ADMIN, "boss@brand.example", "viewer")
    with pytest.raises(ValueError, match="neither an e-mail address nor a domain"):
        people.set_role(cur, ADMIN, "not an address", "viewer")
    assert people.role_of(cur, "boss@brand.example") == "admin"


def test_roles_come_from_the_settings():
    settings = load_settings(environ={"DESK_ADMINS": "Boss@brand.example",
                                      "DESK_RESPONDERS": "@brand.example, jo@agency.example"},
                             secrets={}, secrets_path=None)
    assert settings.admins == ("boss@brand.example",)
    assert settings.responders == ("@brand.example", "jo@agency.example")
    with pytest.raises(ValueError, match="DESK_VIEWERS takes e-mail addresses and domains"):
        load_settings(environ={"DESK_VIEWERS": "everyone"}, secrets={}, secrets_path=None)


AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32,
        "client_id": "desk", "client_secret": "c" * 24,
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


@pytest.mark.parametrize("secrets, password, sign_in", [
    ({}, None, "none"),
    ({}, "pw", "password"),
    ({"auth": AUTH}, None, "identity provider"),
    ({"auth": {"cookie_secret": "x", "redirect_uri": "y", "okta": {**AUTH}}}, None,
     "identity provider"),
    ({"auth": {**AUTH, "client_secret": ""}}, None, "none"),  # incomplete: not configured
])
def test_how_people_sign_in_follows_the_settings(secrets, password, sign_in):
    environ = {"DESK_PASSWORD": password} if password else {}
    settings = load_settings(environ=environ, secrets=secrets, secrets_path=None)
    assert settings.sign_in == sign_in


@pytest.mark.parametrize("address, loopback", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("", False), (None, False), ("192.168.1.5", False), ("::", False),
])
def test_loopback_addresses(address, loopback):
    assert is_loopback(address) is loopback


def test_beyond_loopback_the_app_needs_sign_in():
    open_ = load_settings(environ={}, secrets={}, secrets_path=None)
    with_password = load_settings(environ={"DESK_PASSWORD": "pw"}, secrets={},
                                  secrets_path=None)
    assert "nobody has to sign in" in refusal("0.0.0.0", open_)
    assert refusal("127.0.0.1", open_) is None
    assert refusal("0.0.0.0", with_password) is None


def test_the_command_line_refuses_to_serve_beyond_loopback_without_sign_in(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DESK_PASSWORD", "TIKTOK_CLIENT_KEY")}
    command = [sys.executable, "-m", "desk", "check-serving", "--address"]
    refused = subprocess.run([*command, "0.0.0.0"], cwd=tmp_path, capture_output=True,
                             text=True, env={**env, "PYTHONPATH": str(ROOT)}, timeout=60)
    allowed = subprocess.run([*command, "0.0.0.0"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=60,
                             env={**env, "PYTHONPATH": str(ROOT), "DESK_PASSWORD": "pw"})
    local = subprocess.run([*command, "127.0.0.1"], cwd=tmp_path, capture_output=True,
                           text=True, env={**env, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "beyond this machine, but nobody has to sign in" in refused.stderr
    assert allowed.returncode == 0 and local.returncode == 0


def test_make_run_refuses_to_start_beyond_loopback_without_sign_in():
    env = {k: v for k, v in os.environ.items() if k not in ("DESK_PASSWORD",)}
    done = subprocess.run(["make", "--no-print-directory", "run", "ADDRESS=0.0.0.0",
                           "PORT=1"], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode != 0
    assert "nobody has to sign in" in done.stderr
    assert "streamlit run" not in done.stdout  # it never got as far as starting


def test_without_a_secret_key_one_is_made_once_in_a_private_file(tmp_path):
    path = tmp_path / "keys" / "secret.key"
    settings = load_settings(environ={"DESK_SECRET_KEY_FILE": str(path)}, secrets={},
                             secrets_path=None)

    first = with_secret_key(settings)
    again = with_secret_key(settings)

    assert first.secret_key and first.secret_key == again.secret_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    given = load_settings(environ={"DESK_SECRET_KEY": "given", "DESK_SECRET_KEY_FILE": str(path)},
                          secrets={}, secrets_path=None)
    assert with_secret_key(given).secret_key == "given"


def test_processes_starting_at_once_agree_on_one_key(tmp_path):
    path = tmp_path / "secret.key"
    keys: list[str] = []
    threads = [threading.Thread(target=lambda: keys.append(key_in(path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1 and len(keys) == 8


def test_an_empty_key_file_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "secret.key"
    path.write_text("")
    with pytest.raises(KeyFileError, match="is empty; restore it"):
        key_in(path)


def test_tokens_are_encrypted_at_rest_and_an_old_plain_file_is_encrypted(tmp_path):
    path = tmp_path / "credentials.json"
    CredentialStore(path).add("tok-plain-123", ["A1"], [4])  # written before there was a key
    assert b"tok-plain-123" in path.read_bytes()

    store = CredentialStore(path, key_in(tmp_path / "secret.key"))
    assert store.connections()[0].advertiser_ids == ("A1",)  # read as it was
    assert store.encrypt_in_place()

    assert b"tok-plain-123" not in path.read_bytes()
    assert not path.read_bytes().lstrip().startswith(b"{")
    assert store.connection_for("A1").access_token == "tok-plain-123"
    assert not store.encrypt_in_place()  # already encrypted
    with pytest.raises(json.JSONDecodeError):
        json.loads(path.read_bytes())
