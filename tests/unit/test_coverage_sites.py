"""Coverage page: recommended sites are labelled with their district and numbered on the map as in the list."""

from __future__ import annotations

import pandas as pd

from components import coverage_map as cmap
from data_access.boundaries import load_city_boundaries


def test_cov_sites_are_labelled_with_their_district_and_numbered():
    boundaries = load_city_boundaries("350600")
    first, second = boundaries["features"][:2]
    sites = pd.DataFrame({"step": [1, 2, 3],
                          "lon": [first["properties"]["center_lon"], second["properties"]["center_lon"], 10.0],
                          "lat": [first["properties"]["center_lat"], second["properties"]["center_lat"], 10.0]})
    labels = cmap.site_labels(sites, boundaries, "zh")
    assert labels == [f"{first['properties']['name_zh']} · 新增站点 1",
                      f"{second['properties']['name_zh']} · 新增站点 2", "市界外 · 新增站点 3"]
    assert cmap.site_labels(sites.iloc[:1], boundaries, "en") == [f"{first['properties']['name_en']} · new site 1"]
    layer = cmap.site_layer(sites, "recommended", "zh", boundaries)
    assert [f["properties"]["step"] for f in layer["features"]] == [1, 2, 3]
    assert layer["features"][0]["properties"]["tooltip"].startswith(labels[0])
    script = open("assets/coverage.js", encoding="utf-8").read()
    assert "coverage-step" in script and "p.step" in script                 # the number drawn on the map
