/* Camera scanner for pickup codes (gate receipt and handover).
 *
 * A QR on a bag label or a resident's phone holds exactly the pickup code. The scanner
 * fills the code field of its form and submits it, so everything else (htmx, the
 * result banner) works exactly as when the code is typed. BarcodeDetector is used
 * where the browser has it; elsewhere the vendored jsQR decodes canvas frames.
 * Typing the code always works: the camera is only offered when there is one.
 */
(function () {
  "use strict";

  var SAME_CODE_PAUSE_MS = 3000;

  function decoderFor(canvas) {
    if ("BarcodeDetector" in window) {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return function (video) {
        return detector.detect(video).then(function (codes) {
          return codes.length ? codes[0].rawValue : null;
        });
      };
    }
    if (typeof window.jsQR !== "function") {
      return null;
    }
    var context = canvas.getContext("2d", { willReadFrequently: true });
    return function (video) {
      var width = video.videoWidth, height = video.videoHeight;
      if (!width || !height) {
        return Promise.resolve(null);
      }
      canvas.width = width;
      canvas.height = height;
      context.drawImage(video, 0, 0, width, height);
      var image = context.getImageData(0, 0, width, height);
      var found = window.jsQR(image.data, width, height, { inversionAttempts: "dontInvert" });
      return Promise.resolve(found ? found.data : null);
    };
  }

  function setUp(box) {
    var form = document.querySelector(box.dataset.form);
    var input = form && form.querySelector("input[name=code]");
    var start = box.querySelector("[data-scanner-start]");
    var stop = box.querySelector("[data-scanner-stop]");
    var video = box.querySelector("video");
    var canvas = document.createElement("canvas");
    if (!form || !input || !start || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return;
    }
    var decode = decoderFor(canvas);
    if (!decode) {
      return;
    }
    box.hidden = false;
    var stream = null, last = "", lastAt = 0;

    function tick() {
      if (!stream) {
        return;
      }
      decode(video).then(function (text) {
        var code = (text || "").trim();
        var now = Date.now();
        if (code && (code !== last || now - lastAt > SAME_CODE_PAUSE_MS)) {
          last = code;
          lastAt = now;
          input.value = code;
          var scanned = form.querySelector("input[name=scanned]");
          if (scanned) {
            scanned.value = "1";
          }
          form.requestSubmit();
        }
      }).catch(function () { /* a frame that cannot be read: try the next */ })
        .then(function () { window.setTimeout(tick, 250); });
    }

    start.addEventListener("click", function () {
      navigator.mediaDevices
        .getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (media) {
          stream = media;
          video.srcObject = media;
          video.hidden = false;
          start.hidden = true;
          stop.hidden = false;
          return video.play();
        })
        .then(tick)
        .catch(function () {
          box.querySelector("[data-scanner-error]").hidden = false;
        });
    });

    stop.addEventListener("click", function () {
      if (stream) {
        stream.getTracks().forEach(function (track) { track.stop(); });
      }
      stream = null;
      video.hidden = true;
      start.hidden = false;
      stop.hidden = true;
      input.focus();
    });
  }

  // After each answer the code form is emptied and focused for the next bag.
  function resetAfterAnswer(form) {
    form.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.successful && event.detail.elt === form) {
        form.reset();
        var scanned = form.querySelector("input[name=scanned]");
        if (scanned) {
          scanned.value = "";
        }
        var input = form.querySelector("input[name=code]");
        if (input && !input.hidden) {
          input.focus();
        }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-code-form]").forEach(resetAfterAnswer);
    document.querySelectorAll("[data-scanner]").forEach(setUp);
  });
})();
