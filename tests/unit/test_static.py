"""components.static: dash.html markup frozen into one Static component keeps every element, class, title and
aria/data attribute, and refuses what Static cannot draw faithfully (ids, event props, other components)."""

from __future__ import annotations

import json

import pytest
from dash import dcc, html

from components.kpi import kpi_card, kpi_placeholders
from components.static import Static, frozen
from data_access.registry import Kpi


def test_frozen_markup_keeps_elements_classes_and_attributes():
    tree = frozen([html.Section([html.H2("快处率", className="kpi-name"),
                                 html.Button("i", type="button", className="kpi-info", **{"aria-label": "口径"}),
                                 html.Span(None), 12, None],
                                className="kpi-card", title="上期 3", **{"data-kpi": "quick_rate"})]).tree
    assert tree == [{"t": "section", "p": {"className": "kpi-card", "title": "上期 3", "data-kpi": "quick_rate"},
                     "c": [{"t": "h2", "p": {"className": "kpi-name"}, "c": "快处率"},
                           {"t": "button", "p": {"className": "kpi-info", "type": "button", "aria-label": "口径"},
                            "c": "i"},
                           {"t": "span"}, "12"]}]


def test_a_table_is_frozen_with_its_header_scopes_and_row_data():
    table = html.Table([html.Thead(html.Tr([html.Th("区县", scope="col"), html.Th("覆盖率", scope="col")])),
                        html.Tbody([html.Tr([html.Th("芗城区", scope="row"), html.Td("81.5%", className="coverage-up")],
                                            **{"data-district": "350602"})])],
                       className="table coverage-table", **{"aria-label": "各区县覆盖"})
    tree = frozen(table).tree
    assert tree["t"] == "table" and tree["p"] == {"className": "table coverage-table", "aria-label": "各区县覆盖"}
    head, body = tree["c"]
    assert head["c"]["c"] == [{"t": "th", "p": {"scope": "col"}, "c": "区县"}, {"t": "th", "p": {"scope": "col"},
                                                                              "c": "覆盖率"}]
    assert body["c"] == [{"t": "tr", "p": {"data-district": "350602"},
                          "c": [{"t": "th", "p": {"scope": "row"}, "c": "芗城区"},
                                {"t": "td", "p": {"className": "coverage-up"}, "c": "81.5%"}]}]
    with pytest.raises(ValueError, match="attributes Static does not draw"):
        frozen(html.Td("x", colSpan=2))


@pytest.mark.parametrize("element, problem", [
    (html.Div("x", id="kpis"), "has an id"),
    (html.Div("x", n_clicks=0), "attributes Static does not draw"),
    (html.Div("x", style={"color": "red"}), "attributes Static does not draw"),
    (html.Img(src="a.png"), "cannot be frozen"),
    (html.A("x", href="https://elsewhere.example/"), "attributes Static does not draw"),
    (html.A("x", href="//elsewhere.example/teams"), "attributes Static does not draw"),
    (html.A("x", href="javascript:alert(1)"), "attributes Static does not draw"),
    (html.A("x", href="/\\elsewhere.example"), "attributes Static does not draw"),
])
def test_what_static_cannot_draw_is_refused(element, problem):
    with pytest.raises(ValueError, match=problem):
        frozen([element])
    with pytest.raises(TypeError):
        frozen([dcc.Graph()])


def test_kpi_cards_are_one_component_and_a_card_keeps_its_figures():
    placeholders = kpi_placeholders(("alerts", "quick_rate"), "en", noted=True)
    assert len(placeholders) == 1 and isinstance(placeholders[0], Static)
    cards = placeholders[0].tree
    assert [c["p"]["data-kpi"] for c in cards] == ["alerts", "quick_rate"]
    assert all(any(child.get("p", {}).get("className") == "kpi-note" for child in c["c"]) for c in cards)
    card = kpi_card(Kpi("alerts", 3532, 3400, "count", 0.039, False), "zh", "yoy")
    assert frozen([card]).tree == [json.loads(json.dumps(frozen(card).tree))]
    number = frozen([card]).tree[0]["c"][1]["c"][0]
    assert number == {"t": "span", "p": {"className": "kpi-number"}, "c": "3,532"}


def test_the_navigation_is_one_component_of_links_within_the_app():
    from components.layout import NavPage, nav_links

    pages = (NavPage("/", "nav.overview", 0), NavPage("/teams", "nav.teams", 1), NavPage("/fraud", "nav.fraud", 2))
    nav = nav_links(pages, "zh", "/teams", "?city=350600&range=30d")
    assert len(nav) == 1 and isinstance(nav[0], Static)
    links = nav[0].tree
    assert [link["t"] for link in links] == ["a", "span", "a"]
    assert links[0]["p"] == {"className": "app-nav-link", "href": "/?city=350600&range=30d", "data-app-link": "1"}
    assert links[1]["p"] == {"className": "app-nav-link active", "aria-current": "page"}
    assert links[2]["p"]["href"] == "/fraud?city=350600&range=30d"
