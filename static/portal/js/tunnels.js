/* The tunnel form shows the fields of the chosen provider only. Without
 * this script every group shows, each under its provider's name. */
(function () {
  "use strict";

  function start() {
    var form = document.querySelector("[data-tunnel-form]");
    if (!form) { return; }
    var choice = form.querySelector("select[name=provider_choice]");
    var groups = form.querySelectorAll("[data-provider-fields]");

    function show() {
      groups.forEach(function (group) {
        var mine = group.dataset.providerFields === choice.value;
        group.hidden = !mine;
        // Hidden fields are not sent: what another provider needs stays out.
        group.disabled = !mine;
      });
    }
    choice.addEventListener("change", show);
    show();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
