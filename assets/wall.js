/* The wall display (/wall): playlist rotation, clock, "data delayed" badge and priority interrupt.
   Runs in the browser so that it keeps going, and says so, when the server or the database does not answer.
   Reads its settings from the data-wall attribute of .page-wall (see pages/wall.py). */
(function () {
  "use strict";
  var POLL_TIMEOUT_MS = 5000;
  var state = {elapsed: 0, last: Date.now(), seen: {}, shown: null, interruptUntil: 0, lastGood: null,
               opened: new Date(), polling: false, unreachable: false, root: null};

  function wall() {
    var root = document.querySelector(".page-wall[data-wall]");
    if (!root) { return null; }
    if (root !== state.root) {            // a new visit of the page: start the playlist again
      state.root = root; state.elapsed = 0; state.last = Date.now(); state.cfg = JSON.parse(root.dataset.wall);
      setTimeout(poll, 0);
    }
    return state.cfg;
  }

  function two(n) { return (n < 10 ? "0" : "") + n; }
  function shanghai(date) { return new Date(date.getTime() + 8 * 3600 * 1000); }   // read with getUTC*
  function hhmm(date) { var s = shanghai(date); return two(s.getUTCHours()) + ":" + two(s.getUTCMinutes()); }
  function stamp(date) {
    var s = shanghai(date);
    return s.getUTCFullYear() + "-" + two(s.getUTCMonth() + 1) + "-" + two(s.getUTCDate()) + " " +
      two(s.getUTCHours()) + ":" + two(s.getUTCMinutes()) + ":" + two(s.getUTCSeconds());
  }
  function setText(id, text) { var el = document.getElementById(id); if (el && el.textContent !== text) { el.textContent = text; } }
  function mark(el, name, on) { if (el) { el.setAttribute(name, on ? "1" : "0"); } }

  function playlist(cfg, now) {
    if (!cfg.rush) { return ["playlist", cfg.playlist]; }
    var hour = shanghai(now).getUTCHours();
    var rush = cfg.rush_hours.some(function (span) { return hour >= span[0] && hour < span[1]; });
    return rush ? ["rush", cfg.rush] : ["playlist", cfg.playlist];
  }

  function newEvents() {
    var el = document.getElementById("wall-event-ids");
    var ids = [];
    try { ids = JSON.parse((el && el.textContent) || "[]"); } catch (e) { ids = []; }
    var fresh = false;
    ids.forEach(function (id) { if (!state.seen[id]) { state.seen[id] = true; fresh = true; } });
    return fresh;
  }

  function fit(root) {
    var scale = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
    var value = "scale(" + scale + ")";
    if (root.style.transform !== value) { root.style.transform = value; }
  }

  function tick() {
    var cfg = wall();
    if (!cfg) { return; }
    var root = state.root;
    var now = new Date();
    var step = now.getTime() - state.last;
    state.last = now.getTime();
    fit(root);
    setText("wall-clock", stamp(now));
    if (newEvents()) { state.interruptUntil = now.getTime() + cfg.interrupt_s * 1000; }
    var interrupting = now.getTime() < state.interruptUntil;
    mark(document.getElementById("wall-interrupt"), "data-wall-active", interrupting);
    if (!interrupting) { state.elapsed += step; }
    var chosen = playlist(cfg, now), items = chosen[1];
    var total = items.reduce(function (sum, item) { return sum + item.dwell; }, 0) * 1000;
    var at = state.elapsed % total, index = 0;
    while (at >= items[index].dwell * 1000) { at -= items[index].dwell * 1000; index += 1; }
    var current = items[index].view;
    var shown = interrupting ? "interrupt" : current;
    if (shown !== state.shown) {            // graphs drawn while hidden lay themselves out again once visible
      state.shown = shown;
      setTimeout(function () { window.dispatchEvent(new Event("resize")); }, 50);
    }
    root.setAttribute("data-wall-view", shown);
    root.setAttribute("data-wall-index", String(index));
    root.querySelectorAll(".wall-view").forEach(function (el) {
      mark(el, "data-wall-active", !interrupting && el.getAttribute("data-view") === current);
    });
    root.querySelectorAll(".wall-chips").forEach(function (list) {
      var inUse = list.getAttribute("data-list") === chosen[0];
      mark(list, "data-wall-active", inUse);
      list.querySelectorAll(".wall-chip").forEach(function (chip) {
        mark(chip, "data-wall-active", inUse && chip.getAttribute("data-index") === String(index));
      });
    });
  }

  function badge(since) {
    var el = document.getElementById("wall-stale");
    if (!el) { return; }
    if (since) { el.textContent = state.cfg.texts.stale.replace("{time}", since); }
    mark(el, "data-wall-active", Boolean(since));
  }

  function poll() {
    var cfg = wall();
    if (!cfg || state.polling) { return Promise.resolve(); }
    state.polling = true;
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, POLL_TIMEOUT_MS);
    return fetch("/api/v1/as-of?city=" + encodeURIComponent(cfg.city), {signal: controller.signal, cache: "no-store"})
      .then(function (response) {
        if (state.unreachable) { window.location.reload(); }        // the server is back, maybe a new one
        state.unreachable = false;
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (body) {
        if (body.database !== "ok") { badge(hhmm(state.lastGood || state.opened)); return; }
        setText("wall-as-of", cfg.texts.as_of.replace("{time}", body.as_of_local || "—"));
        if (body.stale) { badge(body.as_of_local || hhmm(state.lastGood || state.opened)); return; }
        state.lastGood = new Date();
        badge(null);
      })
      .catch(function (error) {
        if (error instanceof TypeError || error.name === "AbortError") { state.unreachable = true; }
        badge(hhmm(state.lastGood || state.opened));
      })
      .finally(function () { clearTimeout(timer); state.polling = false; });
  }

  function schedule() {
    var cfg = wall();
    setTimeout(function () { poll().then(schedule); }, cfg ? cfg.poll_ms : 10000);
  }

  setInterval(tick, 250);
  setTimeout(poll, 300);
  schedule();
})();
