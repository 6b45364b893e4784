/* Stand-ins for component libraries fetched on first draw (dashboard/frontend.py, ON_DEMAND). Dash finds a
 * component as window[namespace][type]; until a page draws one, that is a small component here. The first to be
 * drawn fetches the library's bundle and then draws the real component in its place; every later one draws it at
 * once. The stand-ins stay the library's components afterwards (the real ones are drawn inside them), so React never
 * sees the type change and remounts a grid; the library's other exports (getApi ...) are copied beside them.
 * A stand-in out of sight fetches nothing until it comes within AHEAD pixels above the window or FOOT pixels
 * into it from below, as the charts wait (plot_queue.js): a table at the foot of a page costs its
 * first view nothing, nor one whose top just peeks in at the foot of the window.
 * A page that draws a library's components at once names it in <body data-libraries> (dashboard/app.py): its
 * bundle is fetched now, while the page's layout is on its way, as it was when every page loaded it. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="jingbao-on-demand"]');
  if (!meta || !window.React) {
    return;
  }
  var React = window.React;
  var AHEAD = 80;
  var FOOT = 120;               // px

  // Calls `then` once the element is near the window, from the observer's first word on it (the next frame; a
  // measure taken at once forced a layout of the page in the middle of React's commit); returns a cancel.
  function whenNear(element, then) {
    if (!element || !("IntersectionObserver" in window)) {
      then();
      return function () {};
    }
    var sight = new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) {
        sight.disconnect();
        then();
      }
    }, {rootMargin: AHEAD + "px 0px -" + FOOT + "px 0px"});
    sight.observe(element);
    return function () { sight.disconnect(); };
  }
  meta.getAttribute("content").split(" ").forEach(function (entry) {
    var parts = entry.split("|");
    var namespace = parts[0];
    var src = parts[1];
    var names = parts[2].split(",");
    var standIns = {};
    var library = null;
    var loading = null;

    function load() {
      if (!loading) {
        loading = new Promise(function (resolve, reject) {
          var script = document.createElement("script");
          script.src = src;
          script.onload = function () {
            library = window[namespace];
            Object.keys(library).forEach(function (key) {
              if (!(key in standIns)) {
                standIns[key] = library[key];
              }
            });
            window[namespace] = standIns;
            resolve(library);
          };
          script.onerror = function () {
            loading = null;             // a later draw tries again
            reject(new Error("could not load " + src));
          };
          document.head.appendChild(script);
        });
      }
      return loading;
    }

    names.forEach(function (name) {
      function OnDemand(props) {
        var state = React.useState(library);
        var loaded = state[0];
        var setLoaded = state[1];
        var place = React.useRef(null);
        React.useEffect(function () {
          var live = true;
          var cancel = function () {};
          if (!loaded) {
            cancel = whenNear(place.current, function () {
              load().then(function (lib) { if (live) { setLoaded(lib); } }, function () {});
            });
          }
          return function () { live = false; cancel(); };
        }, []);
        if (!loaded) {
          return React.createElement("div", {id: props.id, ref: place, className: "on-demand-loading",
                                             "aria-busy": "true"});
        }
        return React.createElement(loaded[name], props);
      }
      OnDemand.displayName = name;
      standIns[name] = OnDemand;
    });
    window[namespace] = standIns;
    if ((document.body.getAttribute("data-libraries") || "").split(" ").indexOf(namespace) >= 0) {
      load();
    }
  });
}());
