// Keeps the "time left" of deadlines current; the server-rendered text stands without it.
(function () {
  "use strict";
  function render(node) {
    var left = Number(node.dataset.deadline) * 1000 - Date.now();
    if (left <= 0) {
      node.textContent = node.dataset.over;
      return;
    }
    var minutes = Math.floor(left / 60000);
    node.textContent = node.dataset.format
      .replace("%(d)s", String(Math.floor(minutes / 1440)))
      .replace("%(h)s", String(Math.floor((minutes % 1440) / 60)))
      .replace("%(m)s", String(minutes % 60));
  }
  function tick() {
    document.querySelectorAll(".countdown[data-deadline]").forEach(render);
  }
  tick();
  setInterval(tick, 30000);
})();
