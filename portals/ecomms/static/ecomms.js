// Sending documents with JavaScript: drag-and-drop or a multiple picker; each file is uploaded in
// pieces with the tus 1.0.0 protocol (POST creates it, PATCH appends at the server's offset, HEAD
// asks where the server stands), so a dropped connection resumes where the Court received it
// instead of starting again. Each file has its row (the file_row macro's markup): its percentage
// as text and a progress bar, announced to screen readers at every tenth; "Annuler" while it
// uploads, "Retirer" once there; a document type per file. "Envoyer" is enabled once every upload
// finished, every file has its type and the confirmation box is ticked (seed 000 §4, steps 6–8).
// Without JavaScript the plain multipart form (three file rows) does the same job, and the server
// checks the same (views.send) either way.
(function () {
  "use strict";
  var form = document.getElementById("send-form");
  if (!form || !window.XMLHttpRequest || !window.FormData || !window.Blob) { return; }
  var zone = document.getElementById("drop-zone");
  var picker = document.getElementById("picker");
  var browse = document.getElementById("picker-button");
  var confirmBox = document.getElementById("confirm");
  var list = document.getElementById("upload-list");
  var sendButton = document.getElementById("send-button");
  var hint = document.getElementById("send-hint");
  var announcer = document.getElementById("upload-announcer");
  var rowTemplate = document.getElementById("file-row-template");
  var uploadUrl = form.getAttribute("data-upload-url");
  var chunkSize = parseInt(form.getAttribute("data-chunk-bytes") || "", 10) || 4 * 1024 * 1024;
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var text = function (id) { return document.getElementById(id).textContent; };
  var subtle = window.crypto && window.crypto.subtle;
  var pending = 0;
  var counter = 0;
  var RETRIES = 12;

  document.getElementById("plain-files").remove();
  zone.hidden = false;
  hint.hidden = false;

  function refresh() {
    var done = form.querySelectorAll("li[data-upload-id]");
    var untyped = Array.prototype.some.call(done, function (item) {
      var select = item.querySelector("select");
      return !select || !select.value;
    });
    sendButton.disabled = pending > 0 || done.length === 0 || untyped || !confirmBox.checked;
  }

  function announce(message) { announcer.textContent = message; }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) { return key in values ? values[key] : all; });
  }

  function escapeHtml(value) {
    return value.replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }

  // the size as the lists and the server's rows write it (views.file_size): "0,3 Ko", never "0,0 Mo"
  function sizeText(bytes) {
    var lang = document.documentElement.lang || "fr";
    var kb = new Intl.NumberFormat(lang, {minimumFractionDigits: 1, maximumFractionDigits: 1, useGrouping: false})
      .format(bytes / 1024);
    return fill(text("text-size"), {size: kb});
  }

  // what the person reads when the server gave no sentence: never "HTTP 0" or a status code
  function failure(xhr, answer) {
    if (answer.error) { return answer.error; }
    if (xhr.status === 0) { return text("text-network"); }
    if (xhr.status === 413) { return text("text-too-large"); }
    return text("text-failed");
  }

  function parse(xhr) {
    try { return JSON.parse(xhr.responseText) || {}; } catch (e) { return {}; }
  }

  function request(method, url, headers, body, onProgress) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("Tus-Resumable", "1.0.0");
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
    if (onProgress) { xhr.upload.addEventListener("progress", onProgress); }
    var done = new Promise(function (resolve) { xhr.addEventListener("loadend", function () { resolve(xhr); }); });
    xhr.send(body === undefined ? null : body);
    return {xhr: xhr, done: done};
  }

  function checksum(blob) {  // tus checksum extension: a piece altered on the way is refused whole
    if (!subtle || !blob.arrayBuffer) { return Promise.resolve(null); }
    return blob.arrayBuffer().then(function (buffer) { return subtle.digest("SHA-256", buffer); })
      .then(function (digest) {
        var bytes = new Uint8Array(digest), binary = "";
        for (var i = 0; i < bytes.length; i += 1) { binary += String.fromCharCode(bytes[i]); }
        return "sha256 " + btoa(binary);
      }, function () { return null; });
  }

  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function newRow(file) {
    counter += 1;
    var id = "upload-" + counter;
    var html = rowTemplate.innerHTML.replace(/__ID__/g, id).replace(/__NAME__/g, escapeHtml(file.name))
      .replace(/__SIZE__/g, escapeHtml(sizeText(file.size)));
    var holder = document.createElement("ul");
    holder.innerHTML = html;
    var item = holder.firstElementChild;
    list.append(item);
    var parts = {
      item: item, status: item.querySelector(".file-row__status"), progress: item.querySelector(".file-row__progress"),
      bar: item.querySelector("progress"), percent: item.querySelector(".file-row__percent"),
      error: item.querySelector(".file-row__error"), type: item.querySelector(".file-row__type"),
      select: item.querySelector("select"), cancel: item.querySelector(".file-row__cancel"),
      remove: item.querySelector(".file-row__remove")
    };
    parts.type.hidden = true; parts.select.disabled = true;
    parts.remove.hidden = true; parts.cancel.hidden = false;
    return parts;
  }

  function showPercent(row, name, value, state) {
    var percent = Math.min(100, Math.floor(value));
    row.bar.value = percent; row.bar.textContent = percent + " %"; row.percent.textContent = percent + " %";
    var tenth = Math.floor(percent / 10);
    if (tenth !== state.announced) {  // every tenth, not every event: a screen reader can follow
      state.announced = tenth;
      announce(fill(text("text-percent"), {name: name, percent: percent}));
    }
  }

  function showError(row, message) {
    row.progress.hidden = true; row.status.textContent = "";
    row.error.textContent = message; row.error.hidden = false;
    row.cancel.hidden = true; row.remove.hidden = false; row.remove.type = "button";
  }

  function upload(file) {
    var row = newRow(file);
    var state = {location: null, offset: 0, current: null, cancelled: false, announced: -1};
    pending += 1;
    refresh();
    row.cancel.addEventListener("click", function () {
      state.cancelled = true;
      if (state.current) { state.current.abort(); }
      if (state.location) { request("DELETE", state.location, {}); }
      row.item.remove(); pending -= 1; refresh();
      announce(fill(text("text-cancelled"), {name: file.name}));
    });

    function finish(answer) {
      pending -= 1;
      row.item.setAttribute("data-upload-id", answer.id);
      showPercent(row, file.name, 100, state);
      row.status.textContent = " — " + text("text-done");
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = "upload_ids"; hidden.value = answer.id;
      row.item.append(hidden);
      row.select.name = "type_" + answer.id; row.select.disabled = false; row.type.hidden = false;
      row.remove.value = answer.id;
      row.cancel.hidden = true; row.remove.hidden = false; row.remove.type = "button";
      announce(fill(text("text-finished"), {name: file.name}));
      refresh();
    }

    function fail(message) {
      pending -= 1;
      showError(row, message);
      refresh();
    }

    // ask the server where it stands (after a cut, a conflict), then go on from there
    function resume(attempt) {
      if (state.cancelled) { return Promise.resolve(); }
      if (attempt > RETRIES) { fail(text("text-network")); return Promise.resolve(); }
      row.status.textContent = " — " + text("text-resuming");
      return wait(Math.min(8000, 250 * Math.pow(2, attempt))).then(function () {
        var probe = request("HEAD", state.location, {});
        state.current = probe.xhr;
        return probe.done;
      }).then(function (xhr) {
        if (state.cancelled) { return; }
        if (xhr.status === 200) {
          state.offset = parseInt(xhr.getResponseHeader("Upload-Offset"), 10) || 0;
          return send(attempt);
        }
        if (xhr.status === 0 || xhr.status === 423 || xhr.status >= 500) { return resume(attempt + 1); }
        fail(failure(xhr, parse(xhr)));
      });
    }

    function send(attempt) {
      if (state.cancelled) { return Promise.resolve(); }
      row.status.textContent = " — " + text("text-uploading");
      var piece = file.slice(state.offset, Math.min(file.size, state.offset + chunkSize));
      return checksum(piece).then(function (digest) {
        if (state.cancelled) { return; }
        var headers = {"Upload-Offset": String(state.offset), "Content-Type": "application/offset+octet-stream"};
        if (digest) { headers["Upload-Checksum"] = digest; }
        var start = state.offset;
        var patch = request("PATCH", state.location, headers, piece, function (event) {
          showPercent(row, file.name, 100 * (start + event.loaded) / file.size, state);
        });
        state.current = patch.xhr;
        return patch.done.then(function (xhr) {
          if (state.cancelled) { return; }
          if (xhr.status === 204) {
            state.offset = parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
            showPercent(row, file.name, 100 * state.offset / file.size, state);
            return send(0);
          }
          if (xhr.status === 200) { return finish(parse(xhr)); }
          if (xhr.status === 0 || xhr.status === 409 || xhr.status === 423 || xhr.status === 460 || xhr.status >= 500) {
            return resume((attempt || 0) + 1);
          }
          fail(failure(xhr, parse(xhr)));
        });
      });
    }

    var name = btoa(unescape(encodeURIComponent(file.name)));
    var create = request("POST", uploadUrl, {"Upload-Length": String(file.size), "Upload-Metadata": "filename " + name});
    state.current = create.xhr;
    create.done.then(function (xhr) {
      if (state.cancelled) { return; }
      var answer = parse(xhr);
      if (xhr.status !== 201 || !xhr.getResponseHeader("Location")) { fail(failure(xhr, answer)); return; }
      state.location = xhr.getResponseHeader("Location");
      return send(0);
    });
  }

  // "Retirer": the staged file's place in the quota is given back at once, not when it expires.
  // Without JavaScript the same button submits the form, which removes it on the server.
  form.addEventListener("click", function (event) {
    var remove = event.target.closest && event.target.closest(".file-row__remove");
    if (!remove) { return; }
    event.preventDefault();
    var item = remove.closest("li");
    var staged = item.getAttribute("data-upload-id") || remove.value;
    if (staged && staged !== "__UPLOAD__") { request("DELETE", uploadUrl + "/" + encodeURIComponent(staged), {}); }
    item.remove(); refresh();
  });

  Array.prototype.forEach.call(form.querySelectorAll("#staged-list li"), function (item) {
    item.setAttribute("data-upload-id", item.querySelector(".file-row__remove").value);  // kept from the last try
  });

  function addFiles(files) { Array.prototype.forEach.call(files, upload); }
  // a real button: Enter and Space both open the chooser
  browse.addEventListener("click", function () { picker.click(); });
  form.addEventListener("change", function (event) { if (event.target !== picker) { refresh(); } });
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
