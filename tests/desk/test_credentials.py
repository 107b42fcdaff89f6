import stat
import threading

import pytest

from desk.connect.credentials import CredentialsError, CredentialStore

TOKEN = "tok-7f3a9c1e55d2"


def test_a_stored_connection_round_trips(tmp_path):
    store = CredentialStore(tmp_path / "credentials.json")
    conn = store.add(TOKEN, ["111", "222"], [4, 15000000])

    [again] = CredentialStore(tmp_path / "credentials.json").connections()
    assert again == conn
    assert again.advertiser_ids == ("111", "222")
    assert store.connection_for("222").access_token == TOKEN
    assert store.connection_for("333") is None


def test_the_file_is_private_to_its_owner(tmp_path):
    store = CredentialStore(tmp_path / "credentials.json")
    store.add(TOKEN, ["111"], [])
    mode = stat.S_IMODE((tmp_path / "credentials.json").stat().st_mode)
    assert mode == 0o600


def test_tokens_are_encrypted_at_rest_when_a_key_is_configured(tmp_path):
    path = tmp_path / "credentials.json"
    CredentialStore(path, secret_key="k" * 40).add(TOKEN, ["111"], [])

    assert TOKEN.encode() not in path.read_bytes()
    assert CredentialStore(path, secret_key="k" * 40).connection_for("111").access_token == TOKEN
    with pytest.raises(CredentialsError, match="cannot be decrypted"):
        CredentialStore(path, secret_key="another key").connections()
    with pytest.raises(CredentialsError, match="set DESK_SECRET_KEY"):
        CredentialStore(path).connections()


def test_repr_never_shows_a_token(tmp_path):
    store = CredentialStore(tmp_path / "credentials.json")
    conn = store.add(TOKEN, ["111"], [])
    assert TOKEN not in repr(conn)
    assert TOKEN not in repr(store.connections())


def test_reconnecting_with_the_same_token_does_not_duplicate(tmp_path):
    store = CredentialStore(tmp_path / "credentials.json")
    store.add(TOKEN, ["111"], [])
    store.add(TOKEN, ["111", "222"], [])
    [conn] = store.connections()
    assert conn.advertiser_ids == ("111", "222")


def test_a_refused_token_is_flagged_and_no_longer_used(tmp_path):
    store = CredentialStore(tmp_path / "credentials.json")
    conn = store.add(TOKEN, ["111"], [])
    store.mark_needs_reauth(conn.connection_id, "token revoked")

    [flagged] = store.connections()
    assert flagged.needs_reauth and flagged.status_message == "token revoked"
    assert store.connection_for("111") is None
    assert store.advertiser_ids() == []


def test_disconnect_removes_the_token_from_disk(tmp_path):
    path = tmp_path / "credentials.json"
    store = CredentialStore(path)
    conn = store.add(TOKEN, ["111"], [])
    assert store.remove(conn.connection_id) is True
    assert store.remove(conn.connection_id) is False
    assert TOKEN.encode() not in path.read_bytes()


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "credentials.json"

    def connect(i: int) -> None:
        CredentialStore(path).add(f"token-{i}", [str(i)], [])

    threads = [threading.Thread(target=connect, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(CredentialStore(path).advertiser_ids(), key=int) == [str(i) for i in range(12)]


def test_a_damaged_file_says_what_to_do(tmp_path):
    path = tmp_path / "credentials.json"
    path.write_text("{not json")
    with pytest.raises(CredentialsError, match="reconnect"):
        CredentialStore(path).connections()
