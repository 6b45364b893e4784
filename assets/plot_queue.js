/* One chart per task. A page's callback answers with all its figures at once, and dcc.Graph draws each of them in
 * the promise chain of the same React commit: on /throughput that was one 650 ms task, during which the page
 * answered no click or key (Lighthouse's "total blocking time"). Here every Plotly.react / Plotly.newPlot call waits
 * in a queue and runs in a task of its own, in the order the calls were made, so the browser can answer input and
 * paint between two charts. Each call still returns a promise of its own drawing, as plotly.js's does. */
(function () {
  "use strict";
  var queue = [];
  var running = false;

  function next() {
    var job = queue.shift();
    if (!job) {
      running = false;
      return;
    }
    job().then(function () { setTimeout(next, 0); });
  }

  function queued(draw) {
    return function () {
      var self = this;
      var args = arguments;
      return new Promise(function (resolve, reject) {
        queue.push(function () {
          var drawn;
          try {
            drawn = Promise.resolve(draw.apply(self, args));
          } catch (error) {
            drawn = Promise.reject(error);
          }
          drawn.then(resolve, reject);
          return drawn.then(function () {}, function () {});
        });
        if (!running) {
          running = true;
          setTimeout(next, 0);
        }
      });
    };
  }

  function wrap(plotly) {
    if (plotly && !plotly.jingbaoQueued) {
      plotly.react = queued(plotly.react);
      plotly.newPlot = queued(plotly.newPlot);
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
