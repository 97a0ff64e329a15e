// The front-end: calls the nitro API route in ../api/hello.py.
const message = document.querySelector("#message");
const name = document.querySelector("#name");

async function greet() {
  const response = await fetch(`/api/hello?name=${encodeURIComponent(name.value)}`);
  message.textContent = (await response.json()).message;
}

document.querySelector("#greet").addEventListener("submit", (event) => {
  event.preventDefault();
  greet();
});

// Any path the API does not own opens this page (nitro's SPA fallback in
// production, Vite in dev): a client-side router would take it from here.
document.querySelector("#route").textContent = `page: ${location.pathname}`;

greet();
