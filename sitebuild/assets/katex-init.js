// Render the maths of every page with the site's own KaTeX (no request leaves the site).
// Guides use pymdownx.arithmatex, which writes \( \) and \[ \]; notebooks write $ and $$.
document.addEventListener("DOMContentLoaded", function () {
  var article = document.querySelector("article") || document.body;
  renderMathInElement(article, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
    ],
    ignoredTags: ["script", "noscript", "style", "textarea", "pre", "code", "option"],
    throwOnError: false,
  });
});
