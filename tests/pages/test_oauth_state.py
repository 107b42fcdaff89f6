"""The OAuth state: signed, ten minutes, single use across sessions; and the key it is signed
with."""

from __future__ import annotations

import json
import os
import stat

import pytest

from desk.connect import state
from tests.pages.conftest import tampered

NOW = 1_760_000_000.0


def nonce_file(tmp_path):
    return tmp_path / "oauth_nonces.json"


def test_a_fresh_state_is_accepted_once(tmp_path):
    token = state.new_state("k", now=NOW)
    state.check_state("k", token, nonce_file(tmp_path), now=NOW + 30)
    with pytest.raises(state.StateReused, match="already used"):
        state.check_state("k", token, nonce_file(tmp_path), now=NOW + 31)
    assert stat.S_IMODE(os.stat(nonce_file(tmp_path)).st_mode) == 0o600


def test_a_state_is_good_for_ten_minutes(tmp_path):
    token = state.new_state("k", now=NOW)
    state.check_state("k", token, nonce_file(tmp_path), now=NOW + 600)
    late = state.new_state("k", now=NOW)
    with pytest.raises(state.StateExpired, match="10 minutes"):
        state.check_state("k", late, nonce_file(tmp_path), now=NOW + 601)


def test_a_state_from_the_future_is_refused(tmp_path):
    token = state.new_state("k", now=NOW + 3600)
    with pytest.raises(state.StateExpired):
        state.check_state("k", token, nonce_file(tmp_path), now=NOW)


@pytest.mark.parametrize("token", [
    state.new_state("another key", now=NOW),
    tampered(state.new_state("k", now=NOW)),
    "not-a-state",
    "eyJuIjoxfQ.aO4mgA.abc",
], ids=["other key", "tampered signature", "not a state", "made-up signature"])
def test_forged_or_tampered_states_are_refused(tmp_path, token):
    with pytest.raises(state.StateForged, match="did not issue"):
        state.check_state("k", token, nonce_file(tmp_path), now=NOW)
    assert not nonce_file(tmp_path).exists()  # nothing recorded for a forgery


@pytest.mark.parametrize("token", [None, ""])
def test_a_missing_state_is_refused(tmp_path, token):
    with pytest.raises(state.StateMissing):
        state.check_state("k", token, nonce_file(tmp_path), now=NOW)


def test_used_nonces_older_than_ten_minutes_are_pruned(tmp_path):
    first = state.new_state("k", now=NOW)
    state.check_state("k", first, nonce_file(tmp_path), now=NOW)
    second = state.new_state("k", now=NOW + 700)
    state.check_state("k", second, nonce_file(tmp_path), now=NOW + 700)
    assert len(json.loads(nonce_file(tmp_path).read_text())) == 1


def test_a_damaged_nonce_file_does_not_block_connecting(tmp_path):
    nonce_file(tmp_path).write_text("{not json")
    state.check_state("k", state.new_state("k", now=NOW), nonce_file(tmp_path), now=NOW)


def test_the_generated_key_is_kept_next_to_the_credentials_0600(tmp_path):
    credentials = tmp_path / "data" / "credentials.json"
    key = state.secret_key_for(None, credentials)
    assert len(key) >= 48 and key == state.secret_key_for(None, credentials)
    path = tmp_path / "data" / "secret_key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert state.secret_key_for("configured", credentials) == "configured"
    assert state.nonce_file_for(credentials) == tmp_path / "data" / "oauth_nonces.json"


def test_a_state_finishes_only_the_connection_it_was_issued_for(tmp_path):
    account = state.new_state("k", now=NOW, purpose=state.ACCOUNT)
    advertiser = state.new_state("k", now=NOW)
    assert state.state_purpose("k", account) == state.ACCOUNT
    assert state.state_purpose("k", advertiser) == state.ADVERTISER
    assert state.state_purpose("other key", account) is None
    assert state.state_purpose("k", "not a state") is None
    with pytest.raises(state.StateForged):
        state.check_state("k", account, nonce_file(tmp_path), now=NOW + 1)
    with pytest.raises(state.StateForged):
        state.check_state("k", advertiser, nonce_file(tmp_path), now=NOW + 1,
                          purpose=state.ACCOUNT)
    # Refused for the wrong flow, it is still good once for its own.
    state.check_state("k", account, nonce_file(tmp_path), now=NOW + 2, purpose=state.ACCOUNT)
    with pytest.raises(state.StateReused):
        state.check_state("k", account, nonce_file(tmp_path), now=NOW + 3, purpose=state.ACCOUNT)
    with pytest.raises(ValueError, match="purpose"):
        state.new_state("k", purpose="something else")
