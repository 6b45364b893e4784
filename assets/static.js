/* Static: draws the plain description of elements that components/static.py makes of dash.html markup that never
 * changes once drawn (the KPI cards), with React alone: one Dash component for the whole grid instead of one per
 * element. Text is passed as React text (escaped); only the tags and attributes allowed here are drawn. */
(function () {
  "use strict";
  var React = window.React;
  if (!React) {
    return;
  }
  var TAGS = {};
  ["section", "div", "p", "span", "h2", "h3", "h4", "button", "strong", "em", "small", "ul", "ol", "li", "b", "i",
    "abbr", "br", "a", "table", "caption", "thead", "tbody", "tr", "th", "td"].forEach(function (tag) {
    TAGS[tag] = true;
  });
  var ATTRIBUTE = /^(className|title|role|scope|(aria|data)-[a-z][a-z0-9-]*)$/;

  function inApp(href) {        // a path of this app, never another host or a script (components/static.py)
    return href.charAt(0) === "/" && href.charAt(1) !== "/" && href.indexOf("\\") < 0;
  }

  function build(node, key) {
    if (node === null || node === undefined) {
      return null;
    }
    if (typeof node === "string" || typeof node === "number") {
      return String(node);
    }
    if (Array.isArray(node)) {
      return node.map(build);
    }
    if (typeof node !== "object" || !TAGS[node.t]) {
      return null;
    }
    var props = {key: key};
    var given = node.p || {};
    Object.keys(given).forEach(function (name) {
      if (ATTRIBUTE.test(name) || (name === "type" && node.t === "button")
          || (name === "href" && node.t === "a" && inApp(String(given[name])))) {
        props[name] = String(given[name]);
      }
    });
    var children = node.c === undefined ? [] : Array.isArray(node.c) ? node.c.map(build) : [build(node.c, 0)];
    return React.createElement.apply(null, [node.t, props].concat(children));
  }

  function Static(props) {
    return React.createElement(React.Fragment, null, build(props.tree, 0));
  }

  window.jingbao_static = {Static: Static};

  // A plain click on a link Static drew moves within the app as dcc.Link does: the address changes and Dash's
  // dcc.Location hears of it; a click with a modifier key (new tab, new window) is the browser's.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-app-link]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey
        || event.altKey || !inApp(link.getAttribute("href") || "")) {
      return;
    }
    event.preventDefault();
    window.history.pushState({}, "", link.getAttribute("href"));
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
    window.scrollTo(0, 0);
  });
}());
