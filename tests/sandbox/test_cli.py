"""``python -m tiktok_sandbox`` serves until stopped and prints its base URL."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_the_command_line_serves_the_api_until_terminated():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tiktok_sandbox", "--port", str(port), "--seed", "3",
         "--comments", "500"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = requests.get(base + "/_sandbox/health", timeout=1).json()
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "the sandbox did not come up"
                time.sleep(0.1)
        assert health["comments"] == 500
        redirect = requests.post(base + "/portal/auth/authorize", allow_redirects=False,
                                 timeout=5, data={"app_id": "sandbox-app",
                                                  "redirect_uri": "http://127.0.0.1/cb"})
        code = parse_qs(urlsplit(redirect.headers["Location"]).query)["auth_code"][0]
        token = requests.post(base + "/open_api/v1.3/oauth2/access_token/", timeout=5,
                              json={"app_id": "sandbox-app", "secret": "sandbox-secret",
                                    "auth_code": code}).json()["data"]["access_token"]
        advertisers = requests.get(base + "/open_api/v1.3/advertiser/info/", timeout=5,
                                   headers={"Access-Token": token},
                                   params={"advertiser_ids": json.dumps(
                                       granted_advertisers(base, token))}).json()
        assert advertisers["code"] == 0
        assert len(advertisers["data"]["list"]) == 3
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert out.strip() == base


def granted_advertisers(base, token):
    answer = requests.get(base + "/open_api/v1.3/oauth2/advertiser/get/", timeout=5,
                          headers={"Access-Token": token},
                          params={"app_id": "sandbox-app", "secret": "sandbox-secret"}).json()
    return [a["advertiser_id"] for a in answer["data"]["list"]]


def test_the_command_line_refuses_a_public_host(capsys):
    from tiktok_sandbox.__main__ import main

    assert main(["--host", "0.0.0.0", "--port", "0"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_the_command_line_sizes_the_tiktok_accounts(capsys):
    from tiktok_sandbox.__main__ import main, parse_args

    args = parse_args(["--business-accounts", "5", "--organic-comments", "40",
                       "--account-redirect-uri", "https://desk.example.com/accounts"])
    assert (args.business_accounts, args.organic_comments) == (5, 40)
    assert args.account_redirect_uris == ["https://desk.example.com/accounts"]
    assert main(["--port", "0", "--business-accounts", "-1"]) == 2
    assert "business_accounts" in capsys.readouterr().err
