/* One chart per task, and charts out of sight drawn when they come near it.
 *
 * A page's callback answers with all its figures at once, and dcc.Graph draws each of them in the promise chain of
 * the same React commit: on /throughput that was one 650 ms task, during which the page answered no click or key
 * (Lighthouse's "total blocking time"). Here every Plotly.react / Plotly.newPlot call waits in a queue and runs in a
 * task of its own, in the order the calls were made, so the browser can answer input and paint between two charts.
 *
 * A chart out of sight is not drawn yet: its call waits (an IntersectionObserver) until the chart comes within
 * AHEAD pixels above the window, or FOOT pixels into it from below, so the first view draws only
 * what it shows (a chart whose top just peeks in at the foot of the window waits for the scroll that brings it in)
 * and one above is ready a scroll before it is seen. Before printing every waiting chart is drawn (`beforeprint`,
 * and `window.jingbaoDrawAll()` for a print button).
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
  var FOOT = 120;               // px
  var queue = [];
  var running = false;
  var waiting = new Map();      // graph div -> {gd, draw, self, args, settles: [[resolve, reject], ...]}
  var queued = new Map();       // graph div -> its call in the queue, not started yet
  var everything = false;       // printing: no chart waits
  var drawing = 0;              // drawings started and not settled
  var sight = "IntersectionObserver" in window
    ? new IntersectionObserver(onSight, {rootMargin: AHEAD + "px 0px -" + FOOT + "px 0px"})
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
      var abandoned = new Promise(function (resolve) { held.abandon = resolve; });
      drawing += 1;
      cutting = held.blank ? null : held;   // an empty first figure is drawn whole: dcc.Graph waits for it
      cutFrom = performance.now();
      try {
        drawn = Promise.resolve(held.draw.apply(held.self, held.args));
      } catch (error) {
        drawn = Promise.reject(error);
      }
      held.settles.forEach(function (settle) { drawn.then(settle[0], settle[1]); });
      held.done = Promise.race([drawn.then(null, function () {}), abandoned]).then(function () {
        drawing -= 1;
        if (cutting === held) {
          cutting = null;
        }
      });
      return held.done;
    };
  }

  // ---- one drawing cut into tasks
  // plotly.js draws a chart as a sequence of steps (Lib.syncOrAsync: defaults, margins, axes, data, auto-margins
  // ...) and runs them in one go unless a step returns a promise. A page's first chart runs plotly's code for the
  // first time (V8's interpreter, every label measured): 100-260 ms in one task. While a queued drawing runs, a
  // step that would start more than SLICE ms into the task waits for a task of its own instead, so the page answers
  // input between two steps. Only the chart's own top-level sequence is cut (a nested one may be a fire-and-forget
  // call, whose caller goes on as if it had run), and the redraw plotly starts when axis labels need more room
  // (Plots.doAutoMargin returns it to the sequence) counts as top level. A chart removed while it waits (its page
  // left) is not drawn further: plotly.purge has cleared it. dcc.Graph's resize waits for the drawing to end. The
  // axes are drawn one per step too (Axes.draw returns its sequence to the chart's): the first chart's axes, their
  // ticks and labels measured for the first time, were 85-95 ms in one step.
  // Printing (`everything`) draws in one go, as a beforeprint handler must. The bundle exposes the three modules
  // as Plotly._jingbao (README, "Charts load ...").
  var SLICE = 20;
  var slice = SLICE;
  var cuts = 0;                 // times a drawing waited for a task of its own
  var cutting = null;           // the queued drawing running, whose steps are cut
  var cutFrom = 0;              // when its current task started
  var depth = 0;                // sequences running inside a step of another
  var axes = false;             // inside Axes.draw of the chart being cut

  function nextTask() {
    return new Promise(function (resolve) {
      setTimeout(function () { cutFrom = performance.now(); resolve(); }, 0);
    });
  }

  function stepByStep(held, steps, arg, last) {
    while (steps.length) {
      if (!held.gd._fullLayout) {          // purged while it waited: nothing left to draw
        held.abandon();
        return new Promise(function () {});
      }
      if (performance.now() - cutFrom > slice && !everything) {
        cuts += 1;
        return nextTask().then(function () { return stepByStep(held, steps, arg, last); });
      }
      var out;
      depth += 1;
      try {
        out = steps.shift()(arg);
      } finally {
        depth -= 1;
      }
      if (out && out.then) {
        return out.then(function () { return stepByStep(held, steps, arg, last); });
      }
    }
    return last && last(arg);
  }

  // Runs `run` as if at the top level: the sequence it returns (the chart's redraw for auto-margins, its axes one
  // by one) is cut as the chart's own is. `loose` lets the one sequence Axes.draw makes, given no graph, be cut.
  function returned(run, self, args, loose) {
    var outer = depth;
    var outerAxes = axes;
    depth = 0;
    axes = loose;
    try {
      return run.apply(self, args);
    } finally {
      depth = outer;
      axes = outerAxes;
    }
  }

  function cutDrawings(plotly) {
    var inner = plotly._jingbao;
    if (!inner) {
      return;
    }
    var whole = inner.Lib.syncOrAsync;
    inner.Lib.syncOrAsync = function (steps, gd, last) {
      if (depth > 0 || everything || !cutting || !Array.isArray(steps) || !(gd === cutting.gd || (axes && !gd))) {
        depth += 1;
        try {
          return whole.call(this, steps, gd, last);
        } finally {
          depth -= 1;
        }
      }
      return stepByStep(cutting, steps, gd, last);
    };
    var autoMargin = inner.Plots.doAutoMargin;
    inner.Plots.doAutoMargin = function () { return returned(autoMargin, this, arguments, false); };
    var drawAxes = inner.Axes.draw;
    inner.Axes.draw = function (gd) {
      return cutting && cutting.gd === gd ? returned(drawAxes, this, arguments, true) : drawAxes.apply(this, arguments);
    };
    var resize = plotly.Plots.resize;
    plotly.Plots.resize = function (gd) {
      var self = this;
      var args = arguments;
      if (cutting && cutting.gd === gd && cutting.done) {
        return cutting.done.then(function () { return resize.apply(self, args); });
      }
      return resize.apply(self, args);
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
      var blank = isBlank(gd, args[1]);
      if (blank) {
        args[1] = withoutAxes(args[1]);
      }
      return new Promise(function (resolve, reject) {
        var held = waiting.get(gd) || queued.get(gd);
        if (held) {
          held.draw = draw;
          held.self = self;
          held.args = args;
          held.blank = blank;
          held.settles.push([resolve, reject]);
          return;
        }
        place({gd: gd, draw: draw, self: self, args: args, blank: blank, settles: [[resolve, reject]]});
      });
    };
  }

  // The queue empty, nothing waiting and no answer awaited (a chart whose figure is still on its way draws when it
  // comes), for a few looks in a row (or 10 s).
  function settled() {
    return new Promise(function (resolve) {
      var quiet = 0;
      var looks = 0;
      (function look() {
        var awaited = document.querySelector('[data-dash-is-loading="true"]');
        quiet = !running && !drawing && !queue.length && !waiting.size && !awaited ? quiet + 1 : 0;
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
  window.jingbaoDrawingCuts = function () { return cuts; };     // for tests and checks
  window.jingbaoCutAfter = function (ms) { slice = ms === null ? SLICE : ms; };
  window.addEventListener("beforeprint", drawAllNow);
  window.addEventListener("afterprint", function () { everything = false; });

  function wrap(plotly) {
    if (plotly && !plotly.jingbaoQueued) {
      plotly.react = inQueue(plotly.react);
      plotly.newPlot = inQueue(plotly.newPlot);
      cutDrawings(plotly);
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
