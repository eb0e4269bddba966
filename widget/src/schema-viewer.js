// The OpenAPI viewer of /schema: Swagger UI from our own server, started without inline script.
"use strict";
(function () {
  var self = document.currentScript;
  window.addEventListener("DOMContentLoaded", function () {
    window.SwaggerUIBundle({
      url: self.dataset.spec,
      dom_id: "#swagger-ui",
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      deepLinking: true,
      validatorUrl: null,
    });
  });
})();
