// Swagger UI over this server's own document. "Try it out" goes to this origin whatever the
// document's servers say (the page may only connect to itself).
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  requestInterceptor: (req) => {
    const u = new URL(req.url, location.href);
    req.url = location.origin + u.pathname + u.search;
    return req;
  },
});
