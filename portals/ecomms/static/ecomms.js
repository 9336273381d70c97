// Sending documents with JavaScript: drag-and-drop or a multiple picker, one XHR upload per file
// with its progress bar, a document type per file, "Envoyer" enabled once every upload finished.
// Without JavaScript the plain multipart form (three file rows) does the same job.
(function () {
  "use strict";
  var form = document.getElementById("send-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var zone = document.getElementById("drop-zone");
  var picker = document.getElementById("picker");
  var list = document.getElementById("upload-list");
  var sendButton = document.getElementById("send-button");
  var hint = document.getElementById("send-hint");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var text = function (id) { return document.getElementById(id).textContent; };
  var pending = 0;
  var counter = 0;

  document.getElementById("plain-files").remove();
  zone.hidden = false;
  hint.hidden = false;

  function refresh() {
    var done = form.querySelectorAll("li[data-upload-id]").length;
    sendButton.disabled = pending > 0 || done === 0;
  }

  function removeButton(item, name) {
    var remove = document.createElement("button");
    remove.type = "button"; remove.className = "link-button";
    remove.textContent = text("text-remove") + " " + name;
    remove.addEventListener("click", function () {
      var staged = item.getAttribute("data-upload-id");
      if (staged) {  // give the file's place in the quota back at once, not when it expires
        var drop = new XMLHttpRequest();
        drop.open("DELETE", form.getAttribute("data-upload-url") + "/" + encodeURIComponent(staged));
        drop.setRequestHeader("X-CSRFToken", csrf);
        drop.send();
      }
      item.remove(); refresh();
    });
    return remove;
  }

  // what the person reads when the server gave no sentence: never "HTTP 0" or a status code
  function failure(xhr, answer) {
    if (answer.error) { return answer.error; }
    if (xhr.status === 0) { return text("text-network"); }
    if (xhr.status === 413) { return text("text-too-large"); }
    return text("text-failed");
  }

  function upload(file) {
    counter += 1;
    var selectId = "type-" + counter;  // taken now: the answers arrive in any order
    var item = document.createElement("li");
    var label = document.createElement("span");
    label.textContent = file.name + " ";
    var status = document.createElement("span");
    status.textContent = "(" + text("text-uploading") + ")";
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    item.append(label, status, bar);
    list.append(item);
    pending += 1;
    refresh();

    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("data-upload-url"));
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
    xhr.setRequestHeader("Content-Type", "application/pdf");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { bar.value = Math.round(100 * event.loaded / event.total); }
    });
    xhr.addEventListener("loadend", function () {
      pending -= 1;
      var answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
      if (xhr.status === 201 && answer.id) {
        bar.value = 100;
        status.textContent = "(" + text("text-done") + ")";
        item.setAttribute("data-upload-id", answer.id);
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = "upload_ids"; hidden.value = answer.id;
        var typeLabel = document.createElement("label");
        typeLabel.setAttribute("for", selectId);
        typeLabel.textContent = text("text-type") + " — " + file.name;
        var select = document.createElement("select");
        select.id = selectId; select.name = "type_" + answer.id;
        select.innerHTML = document.getElementById("type-options").innerHTML;
        item.append(hidden, document.createElement("br"), typeLabel, select);
      } else {
        bar.remove();
        status.textContent = "";
        var error = document.createElement("p");
        error.className = "upload-error";
        error.setAttribute("role", "alert");
        error.textContent = failure(xhr, answer);
        item.append(error);
      }
      item.append(removeButton(item, file.name));
      refresh();
    });
    xhr.send(file);
  }

  Array.prototype.forEach.call(form.querySelectorAll("#staged-list li[data-upload-id]"), function (item) {
    item.append(removeButton(item, item.getAttribute("data-name")));  // kept from the last try
  });

  function addFiles(files) { Array.prototype.forEach.call(files, upload); }
  picker.addEventListener("change", function () { addFiles(picker.files); picker.value = ""; });
  zone.addEventListener("dragover", function (event) { event.preventDefault(); zone.classList.add("drop-zone--over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("drop-zone--over"); });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("drop-zone--over");
    addFiles(event.dataTransfer.files);
  });
  refresh();
})();
