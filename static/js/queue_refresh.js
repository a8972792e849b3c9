// The queues refresh themselves (htmx polling), but never while the specialist has rows ticked
// for an action: a refresh would drop the selection.
document.addEventListener("htmx:beforeRequest", function (event) {
  var queue = event.detail.elt;
  if (!queue.hasAttribute || !queue.hasAttribute("data-queue-refresh")) return;
  if (document.querySelector("#changelist-form input.action-select:checked")) {
    event.preventDefault();
  }
});
