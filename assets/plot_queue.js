/* One chart per task, and charts out of sight drawn when they come near it.
 *
 * A page's callback answers with all its figures at once, and dcc.Graph draws each of them in the promise chain of
 * the same React commit: on /throughput that was one 650 ms task, during which the page answered no click or key
 * (Lighthouse's "total blocking time"). Here every Plotly.react / Plotly.newPlot call waits in a queue and runs in a
 * task of its own, in the order the calls were made, so the browser can answer input and paint between two charts.
 *
 * A chart more than AHEAD pixels below (or above) the window is not drawn yet: its call waits until the chart comes
 * within AHEAD pixels of the window (an IntersectionObserver), so the first view draws only what it shows and a
 * chart is ready a scroll before it is seen. Before printing every waiting chart is drawn (`beforeprint`, and
 * `window.jingbaoDrawAll()` for a print button).
 *
 * A newer call for a chart whose drawing has not started (waiting, or in the queue) replaces the older one, which
 * is never drawn (both calls' promises settle with the newer drawing): each drawing costs 30-120 ms. dcc.Graph
 * draws its empty default figure as it mounts, before the page's callback answers with the real one, and waits for
 * that drawing before it draws the answer: a first, empty figure (no trace, no title, no note) is drawn without its
 * axes, which is most of an empty chart's drawing (ticks and their labels measured), and a white box is what the
 * page shows until its figure comes anyway.
 *
 * Each call still returns a promise of its own drawing, as plotly.js's does. */
(function () {
  "use strict";
  var AHEAD = 80;
  var queue = [];
  var running = false;
  var waiting = new Map();      // graph div -> {gd, draw, self, args, settles: [[resolve, reject], ...]}
  var queued = new Map();       // graph div -> its call in the queue, not started yet
  var everything = false;       // printing: no chart waits
  var drawing = 0;              // drawings started and not settled
  var sight = "IntersectionObserver" in window
    ? new IntersectionObserver(onSight, {rootMargin: AHEAD + "px 0px"})
    : null;

  function next() {
    var job = queue.shift();
    if (!job) {
      running = false;
      return;
    }
    job().then(function () { setTimeout(next, 0); });
  }

  function enqueue(job) {
    queue.push(job);
    if (!running) {
      running = true;
      setTimeout(next, 0);
    }
  }

  function job(held) {
    queued.set(held.gd, held);
    return function () {
      if (queued.get(held.gd) === held) {
        queued.delete(held.gd);
      }
      var drawn;
      drawing += 1;
      try {
        drawn = Promise.resolve(held.draw.apply(held.self, held.args));
      } catch (error) {
        drawn = Promise.reject(error);
      }
      held.settles.forEach(function (settle) { drawn.then(settle[0], settle[1]); });
      return drawn.then(function () { drawing -= 1; }, function () { drawing -= 1; });
    };
  }

  function release(gd) {
    var held = waiting.get(gd);
    if (held) {
      waiting.delete(gd);
      sight.unobserve(gd);
      enqueue(job(held));
    }
  }

  function onSight(entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) {
        release(entry.target);
      }
    });
  }

  function forgetRemoved() {    // charts of a page left behind never draw: let them go
    waiting.forEach(function (held, gd) {
      if (!gd.isConnected) {
        waiting.delete(gd);
        sight.unobserve(gd);
      }
    });
  }

  function isBlank(gd, figure) {
    var layout = (figure && figure.layout) || {};
    return gd instanceof Element && !gd._fullLayout && !!figure && !(figure.data && figure.data.length)
      && !layout.title && !layout.annotations;
  }

  function withoutAxes(figure) {
    var layout = Object.assign({}, figure.layout, {xaxis: {visible: false}, yaxis: {visible: false}});
    return Object.assign({}, figure, {layout: layout});
  }

  // Every call waits for the observer's first word on its chart (the next frame), never for a measure taken at once:
  // getBoundingClientRect in the middle of a React commit forced a layout of the whole page each time. A chart
  // hidden (display: none) waits until it is shown.
  function place(held) {
    if (everything || !sight || !(held.gd instanceof Element)) {
      enqueue(job(held));
      return;
    }
    forgetRemoved();
    waiting.set(held.gd, held);
    sight.observe(held.gd);
  }

  function inQueue(draw) {
    return function () {
      var self = this;
      var args = Array.prototype.slice.call(arguments);
      var gd = args[0];
      if (isBlank(gd, args[1])) {
        args[1] = withoutAxes(args[1]);
      }
      return new Promise(function (resolve, reject) {
        var held = waiting.get(gd) || queued.get(gd);
        if (held) {
          held.draw = draw;
          held.self = self;
          held.args = args;
          held.settles.push([resolve, reject]);
          return;
        }
        place({gd: gd, draw: draw, self: self, args: args, settles: [[resolve, reject]]});
      });
    };
  }

  function settled() {          // the queue empty, nothing waiting, for a few looks in a row (or 10 s)
    return new Promise(function (resolve) {
      var quiet = 0;
      var looks = 0;
      (function look() {
        quiet = !running && !drawing && !queue.length && !waiting.size ? quiet + 1 : 0;
        looks += 1;
        if (quiet >= 3 || looks >= 200) {
          resolve();
        } else {
          setTimeout(look, 50);
        }
      })();
    });
  }

  // Every chart, for the printed page, until it has printed: what can be drawn synchronously is drawn at once (a
  // `beforeprint` handler has only that moment); the promise settles when every chart is drawn, dcc.Graph's
  // follow-up calls included (the print button waits for it).
  function drawAllNow() {
    everything = true;
    Array.from(waiting.keys()).forEach(release);
    while (queue.length) {
      queue.shift()();
    }
    return settled();
  }

  window.jingbaoDrawAll = drawAllNow;
  window.jingbaoChartsWaiting = function () {   // the ids of the charts waiting to come near, for tests and checks
    return Array.from(waiting.keys()).map(function (gd) { return (gd.closest(".dash-graph") || gd).id; });
  };
  window.addEventListener("beforeprint", drawAllNow);
  window.addEventListener("afterprint", function () { everything = false; });

  function wrap(plotly) {
    if (plotly && !plotly.jingbaoQueued) {
      plotly.react = inQueue(plotly.react);
      plotly.newPlot = inQueue(plotly.newPlot);
      plotly.jingbaoQueued = true;
    }
    return plotly;
  }

  // plotly.js arrives later, when the first chart is drawn (dash's loader adds its script): wrap it as it is set
  var current = wrap(window.Plotly);
  Object.defineProperty(window, "Plotly", {
    configurable: true,
    enumerable: true,
    get: function () { return current; },
    set: function (value) { current = wrap(value); },
  });
}());
