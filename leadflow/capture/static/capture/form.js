/* The hosted form: page_url is the page that shows the form (the embedding page when the
   form is in an iframe), kept as proof of where consent was given. A static file, not an
   inline script, so that the Content-Security-Policy forbids inline scripts. */
(function () {
  "use strict";
  var input = document.querySelector('input[name="page_url"]');
  if (!input) { return; }
  try {
    input.value = document.referrer && window.top !== window ? document.referrer : location.href;
  } catch (e) {
    input.value = location.href;
  }
})();
