// A page answered with form errors takes the person to its error summary (the GOV.UK pattern): focus
// moves there on load, so a screen reader reads "Il y a un problème" and the list, and a keyboard user
// starts from it; each link of the list then moves focus to its field, not only the view.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    field.focus();
    var label = document.querySelector("label[for='" + field.id + "']");
    (label || field).scrollIntoView();
  });
})();
