// The trend chart's days, built from its data table (the page carries a day once), for pointer
// and keyboard, each saying what moved the AHR: its "What moved" entry, else its AHR and change.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg", DAY = 864e5;
  var MOVES = { ArrowLeft: -1, ArrowRight: 1, PageUp: -7, PageDown: 7 };

  function text(node) {
    return node ? node.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function setUp(figure) {
    var svg = figure.querySelector(".trend-svg"), group = figure.querySelector("g.days");
    var note = figure.querySelector(".trend-note"), table = figure.querySelector(".trend-table");
    if (!group || !table || group.childElementCount) return;
    var first = Date.parse(group.getAttribute("data-first") + "T00:00:00Z");
    var date = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
    });
    var heads = table.tHead.rows[0].cells;
    var rows = [].filter.call(table.querySelectorAll("tbody tr"), function (row) {
      return row.cells.length === 3;
    });
    var days = rows.map(function (row, index) {
      var change = text(row.cells[2]);
      var label = date.format(first + index * DAY) + ": " + text(heads[1]) + " " + text(row.cells[1]);
      if (change) label += ", " + (change === "0" ? table.getAttribute("data-none") : text(heads[2]) + " " + change);
      var rect = document.createElementNS(NS, "rect");
      // Its size is in site.css.
      rect.setAttribute("x", index);
      rect.setAttribute("role", "img");
      rect.setAttribute("aria-label", label);
      rect.setAttribute("tabindex", index === rows.length - 1 ? 0 : -1);
      return group.appendChild(rect);
    });
    // A group of focusable days rather than one image.
    svg.setAttribute("role", "group");
    figure.querySelector(".trend-help").hidden = false;

    function explain(event) {
      var index = days.indexOf(event.target);
      if (index < 0) return;
      var day = new Date(first + index * DAY).toISOString().slice(0, 10);
      var entry = document.getElementById("moved-" + day);
      var parts = entry ? [].map.call(entry.querySelectorAll("p, li"), text) : [];
      note.textContent = parts.length ? parts.join(" · ") : event.target.getAttribute("aria-label");
      note.hidden = false;
    }

    // On the figure: an SVG element with focus listeners would become a tab stop of its own.
    figure.addEventListener("pointerover", explain);
    // A finger drawn along the chart reads each day it crosses (a touch captures its target).
    figure.addEventListener("pointerdown", function (event) {
      if (days.indexOf(event.target) >= 0) event.target.releasePointerCapture(event.pointerId);
    });
    figure.addEventListener("focusin", explain);
    figure.addEventListener("keydown", function (event) {
      var index = days.indexOf(event.target);
      var to = event.key === "Home" ? 0 : event.key === "End" ? days.length - 1 : index + MOVES[event.key];
      if (index < 0 || isNaN(to)) return;
      event.preventDefault();
      event.target.setAttribute("tabindex", -1);
      to = days[Math.max(0, Math.min(days.length - 1, to))];
      to.setAttribute("tabindex", 0);
      to.focus();
    });
  }

  function setUpAll(root) {
    if (root.matches && root.matches(".trend")) setUp(root);
    root.querySelectorAll(".trend").forEach(setUp);
  }

  setUpAll(document);
  // A what-if swaps a new chart in.
  document.addEventListener("htmx:load", function (event) { setUpAll(event.detail.elt); });
})();
