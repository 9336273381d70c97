// Ticks each password rule as the user types (the server checks the same rules on submit).
(function () {
  "use strict";
  var checks = {
    min_length: function (v) { return v.length >= 8; },
    digit: function (v) { return /[0-9]/.test(v); },
    lowercase: function (v) { return v !== v.toUpperCase(); },
    uppercase: function (v) { return v !== v.toLowerCase(); }
  };
  document.querySelectorAll("[data-password-rules]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("data-password-rules"));
    if (!list) { return; }
    var metText = (document.getElementById("rule-met-text") || {}).textContent || "";
    var unmetText = (document.getElementById("rule-unmet-text") || {}).textContent || "";
    input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + list.id).trim());
    function update() {
      list.querySelectorAll("li[data-rule]").forEach(function (item) {
        var check = checks[item.getAttribute("data-rule")];
        if (!check) { return; }
        var met = check(input.value);
        item.classList.toggle("rule--met", met);
        item.classList.toggle("rule--unmet", !met && input.value.length > 0);
        item.querySelector(".rule-state").textContent = met ? "\u2713" : (input.value ? "\u2717" : "\u2022");
        item.querySelector(".rule-status").textContent = " " + (met ? metText : unmetText);
      });
    }
    input.addEventListener("input", update);
    update();
  });
})();
