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
    "abbr", "br"].forEach(function (tag) { TAGS[tag] = true; });
  var ATTRIBUTE = /^(className|title|role|(aria|data)-[a-z][a-z0-9-]*)$/;

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
      if (ATTRIBUTE.test(name) || (name === "type" && node.t === "button")) {
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
}());
