"""Users, sign-in and sessions (issue 7): the first admin, the session
cookie, roles and the CSRF header on the Datadog API, the admin's users and
keys API, and keys made there working with datadog-api-client."""

import re
import tempfile
import time
from pathlib import Path

import pytest
import requests
from conftest import Server
from conftest import api_client as client
from datadog_api_client.exceptions import ForbiddenException
from datadog_api_client.v1.api.monitors_api import MonitorsApi

ADMIN_EMAIL = "admin@localhost"
ADMIN_PASSWORD = "e2e-admin-pass-1"
UI = {"X-Whippet-UI": "1"}
NOT_SIGNED_IN = {"errors": ["Not signed in"]}
WRONG = {"errors": ["Wrong e-mail or password"]}
READ_ONLY = {"errors": ["Forbidden: a read-only user cannot change anything"]}


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        s = Server(Path(d) / "data", extra_env={"WHIPPET_ADMIN_PASSWORD": ADMIN_PASSWORD})
        yield s
        code = s.stop()
        assert code == 0, s.log_text()


def sign_in(server, email, password, headers=None):
    """A requests session signed in as `email` (asserts success)."""
    s = requests.Session()
    r = s.post(f"{server.url}/api/ui/login", json={"email": email, "password": password}, headers=headers)
    assert r.status_code == 200, (r.status_code, r.text)
    return s, r


def admin(server):
    return sign_in(server, ADMIN_EMAIL, ADMIN_PASSWORD)[0]


def create_user(server, adm, email, role, password="password-123", name=None):
    r = adm.post(
        f"{server.url}/api/ui/users",
        json={"email": email, "name": name or email.split("@")[0], "role": role, "password": password},
        headers=UI,
    )
    assert r.status_code == 201, (r.status_code, r.text)
    return r.json()


def monitor_body(name):
    return {
        "name": name,
        "type": "metric alert",
        "query": "avg(last_5m):avg:system.cpu.user{*} > 90",
        "message": "cpu is high",
    }


def query_params():
    now = int(time.time())
    return {"query": "avg:system.cpu.user{*}", "from": now - 3600, "to": now}


def test_the_first_admin_signs_in_and_out(server):
    # Wrong password, unknown e-mail: the same 401.
    for email, pw in [(ADMIN_EMAIL, "wrong-password"), ("nobody@localhost", ADMIN_PASSWORD)]:
        r = requests.post(f"{server.url}/api/ui/login", json={"email": email, "password": pw})
        assert (r.status_code, r.json()) == (401, WRONG)
        assert "set-cookie" not in r.headers

    s, r = sign_in(server, "Admin@LocalHost", ADMIN_PASSWORD)
    body = r.json()
    assert body["user"]["email"] == ADMIN_EMAIL
    assert body["user"]["name"] == "Admin"
    assert body["user"]["role"] == "admin"
    assert isinstance(body["user"]["id"], int)
    assert body["org"] == {"id": 1, "name": "default"}
    cookie = r.headers["set-cookie"]
    parts = [p.strip() for p in cookie.split(";")]
    name, token = parts[0].split("=", 1)
    assert name == "whippet_session" and re.fullmatch(r"[0-9a-f]{64}", token), cookie
    assert "HttpOnly" in parts and "SameSite=Strict" in parts and "Path=/" in parts, cookie
    assert "Secure" not in parts, cookie

    r = s.get(f"{server.url}/api/ui/me")
    assert r.status_code == 200 and r.json() == body

    # Behind an HTTPS proxy the cookie is Secure.
    _, r = sign_in(server, ADMIN_EMAIL, ADMIN_PASSWORD, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in [p.strip() for p in r.headers["set-cookie"].split(";")]

    r = s.post(f"{server.url}/api/ui/logout")
    assert r.status_code == 204
    assert "Max-Age=0" in r.headers["set-cookie"]
    # The old cookie, sent again, names no session.
    r = requests.get(f"{server.url}/api/ui/me", cookies={"whippet_session": token})
    assert (r.status_code, r.json()) == (401, NOT_SIGNED_IN)
    r = requests.get(f"{server.url}/api/v1/monitor", cookies={"whippet_session": token})
    assert (r.status_code, r.json()) == (401, NOT_SIGNED_IN)
    r = requests.get(f"{server.url}/api/ui/me")
    assert (r.status_code, r.json()) == (401, NOT_SIGNED_IN)
    # Without cookie or keys, the Datadog API answers as before.
    r = requests.get(f"{server.url}/api/v1/monitor")
    assert r.status_code == 403


def test_roles_on_the_datadog_api(server):
    adm = admin(server)
    ro = create_user(server, adm, "reader@example.com", "read_only")
    assert ro["role"] == "read_only" and ro["disabled"] is False and ro["created_at"] > 0
    std = create_user(server, adm, "Writer@Example.com", "standard", name="Wendy Writer")
    assert std["email"] == "writer@example.com" and std["name"] == "Wendy Writer"
    r = adm.post(
        f"{server.url}/api/ui/users",
        json={"email": "WRITER@example.com", "name": "x", "role": "standard", "password": "password-123"},
        headers=UI,
    )
    assert r.status_code == 409, r.text
    for bad in [
        {"email": "a@b", "name": "x", "role": "root", "password": "password-123"},
        {"email": "a@b", "name": "x", "role": "standard", "password": "short"},
        {"email": "not-an-email", "name": "x", "role": "standard", "password": "password-123"},
        {"email": "a@b", "role": "standard", "password": "password-123"},
    ]:
        r = adm.post(f"{server.url}/api/ui/users", json=bad, headers=UI)
        assert r.status_code == 400, (bad, r.text)
    # The admin API's changes need the CSRF header too.
    r = adm.post(
        f"{server.url}/api/ui/users",
        json={"email": "c@d", "name": "x", "role": "standard", "password": "password-123"},
    )
    assert r.status_code == 403, r.text

    reader, _ = sign_in(server, "reader@example.com", "password-123")
    writer, _ = sign_in(server, "writer@example.com", "password-123")

    # A read-only user reads the Datadog API with the cookie...
    r = reader.get(f"{server.url}/api/v1/monitor")
    assert r.status_code == 200 and isinstance(r.json(), list), r.text
    r = reader.get(f"{server.url}/api/v1/query", params=query_params())
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text
    # ... including the POSTs that only read.
    r = reader.post(f"{server.url}/api/v1/monitor/validate", json=monitor_body("v"), headers=UI)
    assert r.status_code == 200, r.text
    # ... but changes nothing, header or not.
    r = reader.post(f"{server.url}/api/v1/monitor", json=monitor_body("ro"), headers=UI)
    assert (r.status_code, r.json()) == (403, READ_ONLY)
    r = reader.post(f"{server.url}/api/v1/monitor", json=monitor_body("ro"))
    assert r.status_code == 403
    r = reader.post(f"{server.url}/api/v1/downtime", json={"scope": ["*"]}, headers=UI)
    assert (r.status_code, r.json()) == (403, READ_ONLY)

    # A standard user changes things with the header, never without it.
    r = writer.post(f"{server.url}/api/v1/monitor", json=monitor_body("no header"))
    assert r.status_code == 403, r.text
    r = writer.post(f"{server.url}/api/v1/monitor", json=monitor_body("from the ui"), headers=UI)
    assert r.status_code == 200, r.text
    mid = r.json()["id"]
    # The monitor is the org's: the keys see it, the reader too.
    status, body = server.request("GET", f"/api/v1/monitor/{mid}")
    assert status == 200, body
    assert reader.get(f"{server.url}/api/v1/monitor/{mid}").status_code == 200
    assert reader.delete(f"{server.url}/api/v1/monitor/{mid}", headers=UI).status_code == 403
    r = writer.delete(f"{server.url}/api/v1/monitor/{mid}", headers=UI)
    assert r.status_code == 200, r.text

    # Only admins manage users and keys.
    for who in (reader, writer):
        assert who.get(f"{server.url}/api/ui/users").status_code == 403
        assert who.get(f"{server.url}/api/ui/keys").status_code == 403
        r = who.post(
            f"{server.url}/api/ui/users",
            json={"email": "e@f", "name": "x", "role": "admin", "password": "password-123"},
            headers=UI,
        )
        assert r.status_code == 403, r.text
    emails = [u["email"] for u in adm.get(f"{server.url}/api/ui/users").json()["users"]]
    assert emails[0] == ADMIN_EMAIL and {"reader@example.com", "writer@example.com"} <= set(emails)
    # Signing out works for every role.
    assert reader.post(f"{server.url}/api/ui/logout").status_code == 204
    assert reader.get(f"{server.url}/api/ui/me").status_code == 401


def test_disabled_and_deleted_users(server):
    adm = admin(server)
    me = adm.get(f"{server.url}/api/ui/me").json()["user"]
    u = create_user(server, adm, "temp@example.com", "standard")
    s, _ = sign_in(server, "temp@example.com", "password-123")
    assert s.get(f"{server.url}/api/v1/monitor").status_code == 200

    r = adm.put(f"{server.url}/api/ui/users/{u['id']}", json={"disabled": True}, headers=UI)
    assert r.status_code == 200 and r.json()["disabled"] is True, r.text
    assert s.get(f"{server.url}/api/ui/me").status_code == 401
    assert s.get(f"{server.url}/api/v1/monitor").status_code == 401
    r = requests.post(f"{server.url}/api/ui/login", json={"email": "temp@example.com", "password": "password-123"})
    assert (r.status_code, r.json()) == (401, WRONG)

    r = adm.put(
        f"{server.url}/api/ui/users/{u['id']}",
        json={"disabled": False, "name": "Tim Temp", "role": "read_only"},
        headers=UI,
    )
    body = r.json()
    assert (body["disabled"], body["name"], body["role"]) == (False, "Tim Temp", "read_only"), r.text
    s, _ = sign_in(server, "temp@example.com", "password-123")
    # A new password set by the admin signs the user out.
    r = adm.put(f"{server.url}/api/ui/users/{u['id']}", json={"password": "another-pass-9"}, headers=UI)
    assert r.status_code == 200, r.text
    assert s.get(f"{server.url}/api/ui/me").status_code == 401
    s, _ = sign_in(server, "temp@example.com", "another-pass-9")

    # An admin cannot lock themself out.
    for change in ({"disabled": True}, {"role": "standard"}):
        r = adm.put(f"{server.url}/api/ui/users/{me['id']}", json=change, headers=UI)
        assert r.status_code == 400, r.text
    assert adm.delete(f"{server.url}/api/ui/users/{me['id']}", headers=UI).status_code == 400

    assert adm.delete(f"{server.url}/api/ui/users/{u['id']}", headers=UI).status_code == 204
    assert adm.delete(f"{server.url}/api/ui/users/{u['id']}", headers=UI).status_code == 404
    assert adm.put(f"{server.url}/api/ui/users/{u['id']}", json={"name": "x"}, headers=UI).status_code == 404
    assert s.get(f"{server.url}/api/ui/me").status_code == 401
    emails = [x["email"] for x in adm.get(f"{server.url}/api/ui/users").json()["users"]]
    assert "temp@example.com" not in emails


def test_keys_made_by_the_admin_work_with_the_client(server):
    adm = admin(server)
    keys = adm.get(f"{server.url}/api/ui/keys").json()["keys"]
    boot = {k["kind"]: k for k in keys if k["name"] == "bootstrap"}
    assert boot["api"]["last4"] == server.api_key[-4:] and boot["app"]["last4"] == server.app_key[-4:]
    assert boot["api"]["revoked_at"] is None and boot["api"]["created_at"] > 0

    made = {}
    for kind in ("api", "app"):
        r = adm.post(f"{server.url}/api/ui/keys", json={"kind": kind, "name": f"ci {kind}"}, headers=UI)
        assert r.status_code == 201, r.text
        k = r.json()
        assert k["kind"] == kind and k["name"] == f"ci {kind}" and k["revoked_at"] is None
        assert k["last4"] == k["key"][-4:] and len(k["key"]) == (32 if kind == "api" else 40)
        made[kind] = k
    listed = adm.get(f"{server.url}/api/ui/keys").json()["keys"]
    assert all("key" not in k for k in listed)
    assert {made["api"]["id"], made["app"]["id"]} <= {k["id"] for k in listed}
    r = adm.post(f"{server.url}/api/ui/keys", json={"kind": "root", "name": "x"}, headers=UI)
    assert r.status_code == 400

    new_keys = (made["api"]["key"], made["app"]["key"])
    with client(server, keys=new_keys) as c:
        assert isinstance(MonitorsApi(c).list_monitors(), list)
    r = adm.delete(f"{server.url}/api/ui/keys/{made['api']['id']}", headers=UI)
    assert r.status_code == 204, r.text
    with client(server, keys=new_keys) as c:
        with pytest.raises(ForbiddenException):
            MonitorsApi(c).list_monitors()
    revoked = [k for k in adm.get(f"{server.url}/api/ui/keys").json()["keys"] if k["id"] == made["api"]["id"]]
    assert revoked[0]["revoked_at"] is not None
    assert adm.delete(f"{server.url}/api/ui/keys/999999", headers=UI).status_code == 404
    # The bootstrap keys still work.
    with client(server) as c:
        assert isinstance(MonitorsApi(c).list_monitors(), list)


def test_a_generated_admin_password_is_printed_once():
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        s = Server(Path(d) / "data", extra_env={"WHIPPET_ADMIN_PASSWORD": ""})
        try:
            log = s.log_text()
            m = re.search(r"Password: ([0-9a-f]{24})\s+\(shown only now\)", log)
            assert m, log
            assert f"E-mail:   {ADMIN_EMAIL}" in log
            sign_in(s, ADMIN_EMAIL, m.group(1))
        finally:
            assert s.stop() == 0
        # A second start has its admin already: nothing is printed, and a
        # password in the environment is ignored.
        s = Server(Path(d) / "data", extra_env={"WHIPPET_ADMIN_PASSWORD": "ignored-pass"})
        try:
            assert "first admin" not in s.log_text()
            sign_in(s, ADMIN_EMAIL, m.group(1))
        finally:
            assert s.stop() == 0
