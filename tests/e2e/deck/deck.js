// Test fixture: the iframe's address comes from the page's own query (?embed=<the test server's /embed URL>),
// since the test server listens on a port chosen at run time.
const embed = new URLSearchParams(location.search).get("embed");
const frame = document.getElementById("race");
if (embed) frame.src = embed;
for (const name of ["width", "height"]) {
  const value = new URLSearchParams(location.search).get(name);
  if (value) frame.setAttribute(name, value);
}
if (window.Reveal) {
  Reveal.initialize({ hash: false, transition: "none", width: 1280, height: 720, controls: true, progress: false });
}
