"""The callbacks that draw a page from its URL, posted as a browser posts them on opening the page."""

from __future__ import annotations

import dash

URL_INPUTS = {("app-url", "search"), ("app-url", "pathname"), ("app-refresh", "n_intervals")}


def page_paths() -> list[str]:
    return sorted(page["path"] for page in dash.page_registry.values() if not page["module"].endswith("404"))


def url_callbacks(app) -> dict[str, dict]:
    """The callbacks that draw a page from its URL (inputs: the URL and the refresh tick only)."""
    return {key: cb for key, cb in app.callback_map.items()
            if {(i["id"], i["property"]) for i in cb["inputs"]} <= URL_INPUTS}


def call(client, key: str, callback: dict, path: str, search: str = ""):
    """POST a callback as the browser would on opening `path`."""
    def split(output: str) -> dict:
        component, _, prop = output.partition("@")[0].rpartition(".")
        return {"id": component, "property": prop}

    outputs = [split(o) for o in key[2:-2].split("...")] if key.startswith("..") else split(key)
    values = {"search": search, "pathname": path, "n_intervals": None}
    body = {"output": key, "outputs": outputs, "changedPropIds": ["app-url.search"],
            "inputs": [{**i, "value": values[i["property"]]} for i in callback["inputs"]],
            "state": [{**s, "value": None} for s in callback.get("state", [])]}
    return client.post("/_dash-update-component", json=body)
