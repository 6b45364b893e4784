"""Synthetic demo data, deterministic for a seed and calibrated to the published figures of FACTS.md.

`reference` holds the places and organisations, `seasons` the calendar shapes, `places` where things happen,
`cases` the accident cases, `activity` everything else (patrols, mediation, rescues, rural stations, vehicle
services, anti-fraud), and `build` puts them into a database. Every stream of every programme year draws from
its own random generator, so any window can be built alone and a top-up adds exactly what a full build would.
"""
