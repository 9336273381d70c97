// The print page's button opens the browser's print dialogue (inline handlers are refused by the CSP).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
