// Progressive enhancement for the erlen demo: every page works without this file.
// - upload form: show the chosen file's name and size, and refuse files over the limit
//   before sending them (the server still enforces MAX_CONTENT_LENGTH);
// - theme form: preview a theme as soon as it is picked (the form still saves it).
"use strict";

function formatSize(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) {
    bytes /= 1024;
    i += 1;
  }
  return (i === 0 ? bytes : bytes.toFixed(1)) + " " + units[i];
}

function enhanceUploadForm(form) {
  const input = form.querySelector('input[type="file"]');
  const info = form.querySelector(".file-info");
  const button = form.querySelector('button[type="submit"]');
  const maxSize = Number(form.dataset.maxSize || 0);
  input.addEventListener("change", () => {
    const file = input.files[0];
    if (!file) {
      info.textContent = "";
      button.disabled = false;
      return;
    }
    const tooBig = maxSize > 0 && file.size > maxSize;
    info.textContent = file.name + " (" + formatSize(file.size) + ")" +
      (tooBig ? ": too large, the limit is " + formatSize(maxSize) : "");
    info.classList.toggle("error", tooBig);
    button.disabled = tooBig;
  });
}

function enhanceThemeForm(form) {
  form.addEventListener("change", (event) => {
    if (event.target.name === "theme") {
      document.body.className = "theme-" + event.target.value;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const upload = document.getElementById("upload-form");
  if (upload) enhanceUploadForm(upload);
  const theme = document.getElementById("theme-form");
  if (theme) enhanceThemeForm(theme);
});
