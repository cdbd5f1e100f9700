// erlen.openapi: start Swagger UI on the page's #swagger-ui element (a file, not an inline
// script, so the page can send a CSP without 'unsafe-inline' for scripts).
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // the default would send the document to validator.swagger.io
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
