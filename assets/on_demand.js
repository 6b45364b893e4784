/* Stand-ins for component libraries fetched on first draw (dashboard/frontend.py, ON_DEMAND). Dash finds a
 * component as window[namespace][type]; until a page draws one, that is a small component here. The first to be
 * drawn fetches the library's bundle and then draws the real component in its place; every later one draws it at
 * once. The stand-ins stay the library's components afterwards (the real ones are drawn inside them), so React never
 * sees the type change and remounts a grid; the library's other exports (getApi ...) are copied beside them. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="jingbao-on-demand"]');
  if (!meta || !window.React) {
    return;
  }
  var React = window.React;
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
        React.useEffect(function () {
          var live = true;
          if (!loaded) {
            load().then(function (lib) { if (live) { setLoaded(lib); } }, function () {});
          }
          return function () { live = false; };
        }, []);
        if (!loaded) {
          return React.createElement("div", {id: props.id, className: "on-demand-loading", "aria-busy": "true"});
        }
        return React.createElement(loaded[name], props);
      }
      OnDemand.displayName = name;
      standIns[name] = OnDemand;
    });
    window[namespace] = standIns;
  });
}());
