// The header's Strasbourg time keeps going while the page stays open (seed 000: "l'heure locale de
// Strasbourg est affichée"): the server's time plus what has elapsed since, in Strasbourg's zone (IANA
// Europe/Paris: there is no Europe/Strasbourg zone).
(function () {
  "use strict";
  var clock = document.querySelector(".local-time time");
  if (!clock || !window.Intl) { return; }
  var served = Date.parse(clock.getAttribute("datetime"));
  var loaded = Date.now();
  if (isNaN(served)) { return; }
  var format = new Intl.DateTimeFormat("fr-FR", {timeZone: "Europe/Paris", day: "2-digit", month: "2-digit",
    year: "numeric", hour: "2-digit", minute: "2-digit", hour12: false});
  function tick() {
    var now = new Date(served + (Date.now() - loaded));
    clock.textContent = format.format(now).replace(",", "");
    clock.setAttribute("datetime", now.toISOString());
  }
  window.setInterval(tick, 15000);
})();
