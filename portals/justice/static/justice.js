// The resend countdown on the SMS code page: the server states the wait in the page; this only
// counts it down, so without JavaScript the page still says how long to wait.
(function () {
  var wait = document.getElementById("resend-wait");
  if (!wait) { return; }
  var seconds = parseInt(wait.getAttribute("data-seconds"), 10) || 0;
  var template = wait.textContent;
  var shown = String(seconds);
  var timer = setInterval(function () {
    seconds -= 1;
    if (seconds <= 0) {
      clearInterval(timer);
      wait.hidden = true;
      return;
    }
    wait.textContent = template.replace(shown, String(seconds));
    template = wait.textContent;
    shown = String(seconds);
  }, 1000);
}());
