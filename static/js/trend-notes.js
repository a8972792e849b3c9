// Shows what moved the AHR on the day under the pointer or the keyboard focus on the trend chart:
// the day's entry in "What moved your AHR", which each day's link on the chart leads to. Without
// this script the link's title still names the day and its change (a tooltip, and the name
// screen readers announce), and following it shows the entry.
(function () {
  "use strict";
  document.querySelectorAll(".trend").forEach(function (figure) {
    var note = figure.querySelector(".trend-note");
    if (!note) return;
    function show(event) {
      var link = event.currentTarget;
      var entry = document.getElementById(link.getAttribute("href").slice(1));
      var title = link.querySelector("title");
      var parts = entry ? entry.querySelectorAll("p, li") : [];
      note.textContent = parts.length
        ? Array.prototype.map.call(parts, function (part) {
            return part.textContent.replace(/\s+/g, " ").trim();
          }).join(" · ")
        : title.textContent;
      note.hidden = false;
    }
    figure.querySelectorAll("a.day-note").forEach(function (link) {
      link.addEventListener("focus", show);
      link.addEventListener("pointerenter", show);
    });
  });
})();
