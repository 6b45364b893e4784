"""Signing tests in: accounts of every role on a test database, a Flask test client signed in as one, and a browser
(dash_duo) signed in through the login form as a person would."""

from __future__ import annotations

import re

from selenium.webdriver.common.by import By

from data_access import accounts
from data_access.db import Database

PASSWORD = "test-password-1"          # synthetic: the test databases only
LEADER = "test-leader"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def ensure_account(db: Database, name: str = LEADER, role: str = "leader", **scope) -> accounts.AccountInfo:
    """The account `name` with the test password, created when missing (test databases are shared by tests)."""
    found = accounts.find_account(db, name)
    if found is not None:
        return found
    return accounts.create_account(db, name, role, password=PASSWORD, **scope)


def app_db(app) -> Database:
    return app.server.config["JINGBAO_DB"]


def sign_in(client, name: str = LEADER, password: str = PASSWORD, lang: str = ""):
    """Post the login form as a browser would (its CSRF field first read from the page); returns the response."""
    page = client.get("/login" + (f"?lang={lang}" if lang else ""))
    match = CSRF.search(page.get_data(as_text=True))
    return client.post("/login", data={"username": name, "password": password, "csrf": match.group(1) if match else ""})


def signed_in_client(app, name: str = LEADER, role: str = "leader", **scope):
    """A Flask test client of `app` signed in as `name` (created with `role` and `scope` when missing)."""
    ensure_account(app_db(app), name, role, **scope)
    client = app.server.test_client()
    response = sign_in(client, name)
    assert response.status_code == 302, f"signing in as {name} failed: {response.status_code}"
    return client


def browser_sign_in(dash_duo, base_url: str, name: str = LEADER, password: str = PASSWORD) -> None:
    """Fill in and send the login form in the browser; wait until the browser has left /login."""
    from tests.integration.conftest import wait_for

    driver = dash_duo.driver
    driver.get(base_url.rstrip("/") + "/login")
    wait_for(dash_duo, lambda: driver.find_elements(By.ID, "username"), "the login form")
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "signin-submit").click()
    wait_for(dash_duo, lambda: "/login" not in driver.current_url, f"signing in as {name}")
