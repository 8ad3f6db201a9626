// Progressive enhancement only: every form works without this script.
// The upload form gains drag and drop and a progress bar: the file goes straight to the API
// (POST /api/v1/batches) with the session's CSRF token, then the page opens the batch's result.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var drop = document.getElementById("drop");
  var input = document.getElementById("file");
  var progress = document.getElementById("progress");
  var status = document.getElementById("upload-status");
  ["dragenter", "dragover"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      status.textContent = input.files[0].name;
    }
  });
  form.addEventListener("submit", function (e) {
    var file = input.files && input.files[0];
    if (!file) return;
    e.preventDefault();
    var target = form.elements.target.value.split("|");
    var url = "/api/v1/batches?unit=" + encodeURIComponent(target[0]) + "&item=" + encodeURIComponent(target[1]) +
      "&file_name=" + encodeURIComponent(file.name) +
      (form.elements.all_or_nothing.checked ? "&all_or_nothing=true" : "");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
    progress.hidden = false;
    xhr.upload.onprogress = function (p) {
      if (p.lengthComputable) {
        progress.value = Math.round(p.loaded * 100 / p.total);
        status.textContent = progress.value + "%";
      }
    };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      var report = body.batch && body.batch.batch ? body.batch : body;
      if (report.batch) {
        window.location = "/workbench/batches/" + encodeURIComponent(report.batch);
      } else {
        status.textContent = (body.error && body.error.message) || ("HTTP " + xhr.status);
        status.className = "error";
      }
    };
    xhr.onerror = function () { status.textContent = "network error"; status.className = "error"; };
    xhr.send(file);
  });
})();
