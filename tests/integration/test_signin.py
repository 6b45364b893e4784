"""Signing in, in a real browser: the login page in Chinese and English, then each role signed in through the form —
its start page, a navigation of only the pages it may open, every one of those pages opened, and nothing of another
district or insurer on any of them; links outside the role or its scope answered with a message and no figures."""

from __future__ import annotations

import importlib
from urllib.parse import urlsplit

import dash
import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from base.i18n import t
from components.formatting import format_count
from components.layout import nav_pages
from data_access import accounts, metrics, registry
from data_access.filters import parse_filters
from data_access.models import Insurer
from data_access.peers import PEER_ROWS
from data_access.timeutil import local_today
from services.identity import HOME, ROLE_PAGES
from tests.integration.conftest import (
    WAIT_S,
    console_errors,
    screenshot,
    scroll_through,
    scroll_to,
    wait_for,
    wait_for_count,
    wait_for_text,
    wait_for_text_in,
    wait_for_texts,
    wait_for_value,
)
from tests.signin import PASSWORD, browser_sign_in, ensure_account

pytestmark = pytest.mark.browser

ZHANGZHOU = "350600"
OWN_DISTRICTS = ("350602", "350603")
OUTSIDE_DISTRICT = "350623"                       # 漳浦县, a Zhangzhou district the district account does not have
INSURER_CODE = "INS01"
DISTRICT, INSURER, PLANNER, ADMIN = "scope-district", "scope-insurer", "scope-planner", "scope-admin"
WALL = "wall-kiosk-test"
NAV_LINKS = "#app-nav .app-nav-link"
NOT_IN_SCOPE = "不在你的权限范围内"
NOT_PERMITTED = "无权打开此页面"
GRID_NAMES = '#payouts-insurers .ag-center-cols-container .ag-row [col-id="name_zh"]'


@pytest.fixture
def made_accounts(dashboard_db) -> dict[str, accounts.AccountInfo]:
    """One account of each signing-in role (the test database is shared, so each is made once)."""
    return {
        DISTRICT: ensure_account(dashboard_db, DISTRICT, "district", city=ZHANGZHOU, districts=OWN_DISTRICTS),
        INSURER: ensure_account(dashboard_db, INSURER, "insurer", insurer=INSURER_CODE),
        PLANNER: ensure_account(dashboard_db, PLANNER, "planner", city=ZHANGZHOU),
        ADMIN: ensure_account(dashboard_db, ADMIN, "admin"),
    }


# ------------------------------------------------------------------------------------------------ reading the page
def page_text(dash_duo) -> str:
    """Every text of the document, hidden or not, chart labels (SVG) included, one text node a line (so that a
    label and the number beside it do not run together into something else)."""
    return dash_duo.driver.execute_script("""
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode: node =>
            node.parentElement.closest('script, style') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
        const texts = [];
        while (walker.nextNode()) { texts.push(walker.currentNode.textContent); }
        return texts.join('\\n');""")


def texts_now(dash_duo, selector: str) -> list[str]:
    """The visible text of every element matching `selector`, now."""
    return [element.text for element in dash_duo.driver.find_elements(By.CSS_SELECTOR, selector)]


def spilled_on_login(dash_duo) -> list[str]:
    """Parts of the login card wider than their box, the card wider than the window, or the page scrolling
    sideways."""
    return dash_duo.driver.execute_script("""
        const spilled = [];
        const root = document.documentElement;
        if (root.scrollWidth > root.clientWidth + 1) { spilled.push('page'); }
        const card = document.querySelector('.signin-card').getBoundingClientRect();
        for (const el of document.querySelectorAll('.signin-card, .signin-card *')) {
            const box = el.getBoundingClientRect();
            if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow !== 'visible') {
                spilled.push(el.className || el.tagName);
            }
            if (box.width && (box.left < card.left - 1 || box.right > card.right + 1)) {
                spilled.push((el.className || el.tagName) + ' outside the card');
            }
        }
        return spilled;""")


def nav_titles(role: str) -> list[str]:
    """The Chinese titles of the navigation's pages that `role` may open, in navigation order."""
    allowed = ROLE_PAGES[role]
    return [t(page.title_key, "zh") for page in nav_pages(dash.page_registry) if page.path in allowed]


def heading_of(title: str) -> str:
    """The heading selector of the navigation page titled `title` (a page's heading id is "<name>-heading")."""
    name = next(page["name"] for page in dash.page_registry.values()
                if page.get("title_key") and t(page["title_key"], "zh") == title)
    return f"#{name}-heading"


def open_by_nav(dash_duo, title: str) -> None:
    """Click the navigation link titled `title` and wait until it is the active one."""
    dash_duo.driver.find_element(By.XPATH, f"//*[@id='app-nav']//a[normalize-space()='{title}']").click()
    wait_for_text(dash_duo, ".app-nav-link.active", title)


def wait_for_charts_drawn(dash_duo) -> None:
    """Scroll through the page (charts below the window are drawn as they come near), then wait until every graph
    of the page has drawn a titled figure (an empty graph has no title)."""
    scroll_through(dash_duo)
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script("""
        const graphs = [...document.querySelectorAll('#app-main .dash-graph')];
        return graphs.every(graph => graph.querySelector('.gtitle'));"""), "every graph of the page drawn")


def path_of(dash_duo) -> str:
    """The path of the browser's address, without its query."""
    return urlsplit(dash_duo.driver.current_url).path or "/"


def header_overlaps(dash_duo) -> list[str]:
    """Pairs of the header's parts (brand, navigation, freshness mark, account badge, language switch) whose boxes
    overlap, and any of them whose content is wider than its box."""
    return dash_duo.driver.execute_script("""
        const parts = ['#app-brand', '#app-nav', '#app-as-of', '#app-account', '#app-language-group']
            .map(s => [s, document.querySelector(s)]).filter(([, el]) => el && el.getBoundingClientRect().width > 0);
        const found = [];
        for (const [name, el] of parts) {
            if (el.scrollWidth > el.clientWidth + 1) { found.push(name + ' overflows: ' + el.scrollWidth + ' > '
                                                                  + el.clientWidth); }
        }
        for (let i = 0; i < parts.length; i++) {
            for (let j = i + 1; j < parts.length; j++) {
                const a = parts[i][1].getBoundingClientRect(), b = parts[j][1].getBoundingClientRect();
                if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) {
                    found.push(parts[i][0] + ' overlaps ' + parts[j][0]);
                }
            }
        }
        return found;""")


def wait_for_badge(dash_duo, name: str, role: str) -> None:
    """Wait until the header's account badge names `name` and its role, and offers 退出. (The role may be hidden
    on narrower screens, so its words are read, not its visible text.)"""
    wait_for_value(dash_duo, lambda: dash_duo.driver.execute_script(
        "const who = document.querySelector('#app-account .account-who'); return who && who.textContent;"),
        f"{name} · {t(f'role.{role}', 'zh')}", f"the account badge of {name}")
    assert dash_duo.find_element("#app-account #app-sign-out").text == "退出"


def errors_besides(dash_duo, *expected: tuple[str, int]) -> list[dict]:
    """The console's errors, less Chromium's note of the status of each document the test opened on purpose with
    an error status ((path, status) pairs: a refused page, a refused password)."""
    def intended(entry: dict) -> bool:
        message = entry.get("message", "")
        return entry.get("source") == "network" and any(
            path in message and f"status of {status}" in message for path, status in expected)

    return [entry for entry in console_errors(dash_duo) if not intended(entry)]


def district_names(db) -> dict[str, str]:
    names = metrics.district_names(db, ZHANGZHOU)
    return dict(zip(names["district_adcode"], names["name_zh"], strict=True))


def expected_alerts(db, districts: tuple[str, ...]) -> str:
    """The alerts KPI of Zhangzhou's default window over `districts` (all of them when empty), by the registry."""
    query = {"districts": ",".join(districts)} if districts else {}
    filters = parse_filters(query, metrics.catalogue(db), local_today(), ZHANGZHOU).filters
    return format_count(registry.values(db, filters, ("alerts",))["alerts"])


# ------------------------------------------------------------------------------------------------------- tests
def test_login_page_in_chinese_and_english_and_a_wrong_password(dash_duo, dashboard_app, made_accounts):
    dash_duo.start_server(dashboard_app, navigate=False, account=None)
    base = dash_duo.server.url.rstrip("/")
    for lang, html_lang in (("zh", "zh-CN"), ("en", "en")):
        dash_duo.driver.get(base + "/login" + ("?lang=en" if lang == "en" else ""))
        wait_for_text(dash_duo, ".signin-title", t("signin.title", lang))
        assert dash_duo.driver.execute_script("return document.documentElement.lang") == html_lang
        assert dash_duo.find_element("label[for='username']").text == t("signin.username", lang)
        assert dash_duo.find_element("label[for='password']").text == t("signin.password", lang)
        assert dash_duo.find_element("#signin-submit").text == t("signin.submit", lang)
        assert dash_duo.find_element(".signin-lead").text == t("signin.lead", lang)
        assert dash_duo.find_element(".signin-brand").text.endswith(t("app.name", lang))
        assert dash_duo.find_element(".signin-language a").text == ("English" if lang == "zh" else "中文")
        assert dash_duo.find_elements(".signin-demo") == []                # the demo accounts: in demo mode only
        assert spilled_on_login(dash_duo) == []
        screenshot(dash_duo, f"login_{lang}")

    dash_duo.driver.get(base + "/login")
    dash_duo.wait_for_element("#username", timeout=WAIT_S).send_keys(DISTRICT)
    dash_duo.find_element("#password").send_keys(PASSWORD + "-wrong")
    dash_duo.find_element("#signin-submit").click()
    wait_for_text(dash_duo, "#signin-message", t("signin.failed", "zh"))
    assert "/login" in dash_duo.driver.current_url
    assert dash_duo.find_element("#username").get_attribute("value") == DISTRICT      # the name stays filled in
    assert dash_duo.find_element("#password").get_attribute("value") == ""
    assert errors_besides(dash_duo, ("/login", 401)) == []


@pytest.mark.both_backends                 # a scope enforced in the queries of each backend
def test_district_account_sees_only_its_districts(dash_duo, dashboard_app, dashboard_db, made_accounts):
    names = district_names(dashboard_db)
    own = [names[code] for code in OWN_DISTRICTS]
    others = [name for code, name in names.items() if code not in OWN_DISTRICTS]
    assert len(others) == 9 and names[OUTSIDE_DISTRICT] == "漳浦县"
    dash_duo.start_server(dashboard_app, navigate=False, account=None)
    base = dash_duo.server.url.rstrip("/")
    browser_sign_in(dash_duo, base, DISTRICT)

    assert path_of(dash_duo) == HOME["district"] == "/"
    heading = wait_for_text_in(dash_duo, "#overview-heading", *own)
    assert heading == f"总览 · 漳州市 · {'、'.join(own)}"
    alerts = expected_alerts(dashboard_db, OWN_DISTRICTS)
    assert alerts != expected_alerts(dashboard_db, ()) and alerts not in ("0", "—")
    wait_for_text(dash_duo, '[data-kpi="alerts"] .kpi-number', alerts)
    wait_for_count(dash_duo, "#overview-map .choroplethlayer path", 2)        # its two districts, no more
    titles = nav_titles("district")
    assert wait_for_texts(dash_duo, NAV_LINKS, titles) == titles
    assert not {"实时地图", "覆盖规划", "指挥大屏", "管理"} & set(titles) and len(titles) == 9
    wait_for_badge(dash_duo, DISTRICT, "district")
    assert header_overlaps(dash_duo) == []
    wait_for_charts_drawn(dash_duo)
    screenshot(dash_duo, "scope_district_zh")
    assert [name for name in others if name in page_text(dash_duo)] == [] and own[1] in page_text(dash_duo)

    for title in titles[1:]:                       # every other page of its navigation, opened from the navigation
        open_by_nav(dash_duo, title)
        wait_for_text_in(dash_duo, heading_of(title), *own)
        if title == "快处":
            # the district chart: one bar group per district of the account
            scroll_to(dash_duo, "#throughput-districts")
            wait_for_value(dash_duo, lambda: sorted(e.text for e in dash_duo.find_elements(
                "#throughput-districts .xtick text")), sorted(own), "the throughput districts chart's districts")
        wait_for_charts_drawn(dash_duo)
        assert dash_duo.find_elements(".scope-message") == [], title
        assert [name for name in others if name in page_text(dash_duo)] == [], title
        assert texts_now(dash_duo, NAV_LINKS) == titles, title

    dash_duo.driver.get(f"{base}/district/{OWN_DISTRICTS[0]}")                  # its district view
    wait_for_text_in(dash_duo, "#district-heading", own[0])
    wait_for_charts_drawn(dash_duo)
    assert [name for name in others if name in page_text(dash_duo)] == []

    dash_duo.driver.get(f"{base}/?districts={OUTSIDE_DISTRICT}")              # a link naming another district
    wait_for_text_in(dash_duo, ".scope-message", NOT_IN_SCOPE)
    assert dash_duo.find_element("#overview-heading").text == "总览"
    assert set(texts_now(dash_duo, ".kpi-number")) <= {"", "—"}
    assert alerts not in texts_now(dash_duo, ".kpi-number")
    assert "漳浦县" not in page_text(dash_duo)

    dash_duo.driver.get(f"{base}/coverage")                                    # a page outside its role
    wait_for_text_in(dash_duo, "#forbidden-message", NOT_PERMITTED)
    assert dash_duo.find_element(".signin-card a.btn").get_attribute("href").rstrip("/") == base
    screenshot(dash_duo, "scope_forbidden_zh")
    assert errors_besides(dash_duo, ("/coverage", 403)) == []


def test_insurer_account_sees_its_own_row_and_anonymous_peers(dash_duo, dashboard_app, dashboard_db, made_accounts):
    with dashboard_db.session() as session:
        rows = session.execute(select(Insurer.city_adcode, Insurer.code, Insurer.name_zh)).all()
    own = next(name for city, code, name in rows if code == INSURER_CODE and city == ZHANGZHOU)
    others = sorted({name for _, code, name in rows if code != INSURER_CODE})
    assert len(others) >= 11 and own not in others
    peers = [name_zh for _, _, name_zh, _ in PEER_ROWS]
    dash_duo.start_server(dashboard_app, navigate=False, account=None)
    browser_sign_in(dash_duo, dash_duo.server.url, INSURER)

    wait_for(dash_duo, lambda: path_of(dash_duo) == HOME["insurer"] == "/payouts", "the insurer's start page")
    wait_for_text_in(dash_duo, "#payouts-heading", "漳州市")
    assert wait_for_texts(dash_duo, NAV_LINKS, ["快赔", "反欺诈", "调解"]) == nav_titles("insurer")
    scroll_to(dash_duo, "#payouts-insurers")                                 # the grid is fetched as it comes near
    wait_for_value(dash_duo, lambda: sorted(texts_now(dash_duo, GRID_NAMES)), sorted([own, *peers]),
                   "the insurer grid: its own row and the three peer rows")
    wait_for_badge(dash_duo, INSURER, "insurer")
    assert header_overlaps(dash_duo) == []
    wait_for_charts_drawn(dash_duo)
    screenshot(dash_duo, "scope_insurer_zh")
    assert own in page_text(dash_duo) and [name for name in others if name in page_text(dash_duo)] == []
    height = dash_duo.driver.execute_script("return document.documentElement.scrollHeight")
    dash_duo.driver.set_window_size(1600, height + 140)                    # the whole page, the insurer grid too
    wait_for_charts_drawn(dash_duo)
    screenshot(dash_duo, "scope_insurer_zh_full")
    dash_duo.driver.set_window_size(1600, 1000)

    for title in ("反欺诈", "调解"):
        open_by_nav(dash_duo, title)
        wait_for_text_in(dash_duo, heading_of(title), "漳州市")
        wait_for_charts_drawn(dash_duo)
        assert dash_duo.find_elements(".scope-message") == [], title
        assert [name for name in others if name in page_text(dash_duo)] == [], title
    assert console_errors(dash_duo) == []


def test_planner_and_admin_see_only_their_pages(dash_duo, dashboard_app, dashboard_db, made_accounts):
    dash_duo.start_server(dashboard_app, navigate=False, account=None)
    base = dash_duo.server.url.rstrip("/")
    browser_sign_in(dash_duo, base, PLANNER)
    wait_for(dash_duo, lambda: path_of(dash_duo) == HOME["planner"] == "/coverage", "the planner's start page")
    wait_for_text_in(dash_duo, "#coverage-heading", "漳州市")
    assert wait_for_texts(dash_duo, NAV_LINKS, ["实时地图", "覆盖规划"]) == nav_titles("planner")
    open_by_nav(dash_duo, "实时地图")
    wait_for_text_in(dash_duo, "#map-heading", "漳州市")
    assert texts_now(dash_duo, NAV_LINKS) == ["实时地图", "覆盖规划"]
    dash_duo.find_element("#app-sign-out").click()
    wait_for_text(dash_duo, "#signin-message", t("signin.signed_out", "zh"))

    browser_sign_in(dash_duo, base, ADMIN)
    wait_for(dash_duo, lambda: path_of(dash_duo) == HOME["admin"] == "/admin", "the admin's start page")
    assert wait_for_texts(dash_duo, NAV_LINKS, ["接入向导", "管理"]) == nav_titles("admin")
    listed = [account.name for account in accounts.list_accounts(dashboard_db)][:20]    # the grid's first page
    assert set(made_accounts) <= set(listed)
    wait_for_value(dash_duo, lambda: texts_now(dash_duo, '#admin-accounts .ag-center-cols-container .ag-row '
                                                         '[col-id="name"]'), listed, "the accounts grid")
    audit_rows = wait_for_value(dash_duo, lambda: [
        (row.find_element(By.CSS_SELECTOR, '[col-id="event"]').text,
         row.find_element(By.CSS_SELECTOR, '[col-id="name"]').text)
        for row in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#admin-audit .ag-center-cols-container .ag-row")],
        lambda found: ("sign_in", ADMIN) in found, "the admin's own sign-in in the audit grid")
    assert ("sign_out", PLANNER) in audit_rows and ("sign_in", PLANNER) in audit_rows
    wait_for_badge(dash_duo, ADMIN, "admin")
    assert header_overlaps(dash_duo) == []
    screenshot(dash_duo, "scope_admin_zh")
    assert console_errors(dash_duo) == []


def test_wall_kiosk_link_opens_the_wall_and_nothing_else(dash_duo, dashboard_app, dashboard_db):
    if accounts.find_account(dashboard_db, WALL) is None:
        accounts.create_account(dashboard_db, WALL, "wall", city=ZHANGZHOU)
    token = accounts.create_token(dashboard_db, WALL, "kiosk")
    dash_duo.start_server(dashboard_app, navigate=False, account=None)
    base = dash_duo.server.url.rstrip("/")

    dash_duo.driver.get(f"{base}/wall?kiosk={token}")                          # signed out: the link signs in
    wait_for(dash_duo, lambda: path_of(dash_duo) == "/wall" and "kiosk=" not in dash_duo.driver.current_url,
             "the wall, without the token in the address")
    wait_for_count(dash_duo, "#wall-kpis .wall-kpi", 6)
    window, _ = importlib.import_module("pages.wall").view_filters(ZHANGZHOU)
    overview = registry.kpis(dashboard_db, window, registry.OVERVIEW)
    for key in ("alerts", "quick"):                    # the tiles are the overview's own figures
        wait_for_text(dash_duo, f'[data-kpi="{key}"] .wall-kpi-number', format_count(overview.get(key).value))
    wait_for_text(dash_duo, ".wall-place", "漳州市")
    clock = wait_for_text(dash_duo, "#wall-clock", lambda text: len(text) == 19)
    assert clock[4] == "-" and clock[13] == ":"

    dash_duo.driver.get(f"{base}/payouts")
    wait_for_text_in(dash_duo, "#forbidden-message", NOT_PERMITTED)
    assert dash_duo.find_element(".signin-card a.btn").get_attribute("href") == f"{base}/wall"
    assert errors_besides(dash_duo, ("/payouts", 403)) == []
