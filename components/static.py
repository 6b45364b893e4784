"""Markup that does not change once drawn, as one Dash component instead of one per element.

Dash wraps every component of a layout in a React component of its own that re-reads the store on every state
change, and a page load makes some 300 of those changes: a grid of nine KPI cards was 99 components, half the page,
and the 98 a callback answer mounted cost a state change each (a table of Chongqing's 38 districts was 280).
`frozen(...)` turns a tree of `dash.html` components without ids into the plain description that `Static`
(assets/static.js) draws with React alone: the same elements, classes, titles and aria/data attributes, and no Dash
wrapper inside. Text stays text (React escapes it); only the tags and attributes listed here pass, in Python and
again in the browser. A link (`<a href="/path">`, a path of this app only) moves within the app as dcc.Link does,
without loading the page again (assets/static.js).
"""

from __future__ import annotations

from collections.abc import Iterable

from dash.development.base_component import Component

TAGS = frozenset({"section", "div", "p", "span", "h2", "h3", "h4", "button", "strong", "em", "small", "ul", "ol",
                  "li", "b", "i", "abbr", "br", "a", "table", "caption", "thead", "tbody", "tr", "th", "td"})
ATTRIBUTES = frozenset({"className", "title", "role", "scope"})
WILDCARDS = ("aria-", "data-")


class Static(Component):
    """Elements drawn by assets/static.js from `tree`: a node is text, a list of nodes, or {"t": tag, "p": {attribute:
    text}, "c": node}."""

    _namespace = "jingbao_static"
    _type = "Static"
    _base_nodes: list[str] = []
    _children_props: list[str] = []

    def __init__(self, tree=None, id=None, **kwargs):  # noqa: A002 (Dash's name for it)
        self._prop_names = ["id", "tree"]
        self._valid_wildcard_attributes = []
        self.available_properties = ["id", "tree"]
        self.available_wildcard_properties = []
        super().__init__(**{name: value for name, value in (("tree", tree), ("id", id)) if value is not None},
                         **kwargs)


def in_app(href: str) -> bool:
    """A link Static draws: a path of this app (/teams?city=...), never another host or a script."""
    return href.startswith("/") and not href.startswith("//") and "\\" not in href


def _node(element) -> object:
    if element is None or element is False:
        return None
    if isinstance(element, str | int | float):
        return str(element)
    if isinstance(element, list | tuple):
        return [node for node in (_node(child) for child in element) if node is not None]
    if not isinstance(element, Component) or element._namespace != "dash_html_components":
        raise TypeError(f"only dash.html elements can be frozen, not {type(element).__name__}")
    tag = element._type.lower()
    props = element.to_plotly_json()["props"]
    if tag not in TAGS or "id" in props:
        raise ValueError(f"<{tag}> cannot be frozen" + (" (it has an id)" if "id" in props else ""))
    attributes = {name: str(value) for name, value in props.items()
                  if value is not None and name != "children"
                  and (name in ATTRIBUTES or name.startswith(WILDCARDS) or (name == "type" and tag == "button")
                       or (name == "href" and tag == "a" and in_app(str(value))))}
    unknown = set(props) - set(attributes) - {"children"} - {name for name, value in props.items() if value is None}
    if unknown:
        raise ValueError(f"<{tag}> has attributes Static does not draw: {sorted(unknown)}")
    node: dict[str, object] = {"t": tag}
    if attributes:
        node["p"] = attributes
    children = _node(props.get("children"))
    if children not in (None, []):
        node["c"] = children
    return node


def frozen(elements: Iterable[Component] | Component) -> Static:
    """The elements as one Static component (they must be dash.html elements without ids or event props)."""
    return Static(tree=_node(list(elements) if not isinstance(elements, Component) else elements))
