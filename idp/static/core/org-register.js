// Registration page: the "new organisation" fieldset shows only when the organisation select says
// "new" (without this script it stays visible, with a sentence saying whom it is for). It also stays
// shown when the server returned an error in it, so the error summary's links land on a visible
// field. Hidden, it is disabled too: its fields are not sent (the server ignores them anyway).
(function () {
  "use strict";
  document.querySelectorAll("fieldset[data-shown-for]").forEach(function (fieldset) {
    var select = document.getElementById("organisation_id");
    if (!select) { return; }
    var when = document.getElementById(fieldset.id + "-when");
    if (when) { when.hidden = true; }
    var hasError = fieldset.querySelector(".field-error") !== null;
    function update() {
      var shown = select.value === fieldset.getAttribute("data-shown-for") || hasError;
      fieldset.hidden = !shown;
      fieldset.disabled = !shown;
    }
    select.addEventListener("change", function () { hasError = false; update(); });
    update();
  });
})();
