import { label } from "./label.js";

// The client-side "router": what a deep link shows.
document.querySelector("#route").textContent = `route: ${location.pathname}`;

async function load() {
  const response = await fetch("/api/hello");
  const body = await response.json();
  document.querySelector("#message").textContent = `${label}: ${body.message}`;
}

load();

// Hot reload: label.js accepts its own updates; main.js re-renders with the new label.
if (import.meta.hot) {
  import.meta.hot.accept("./label.js", (module) => {
    const body = document.querySelector("#message").textContent.split(": ").slice(1).join(": ");
    document.querySelector("#message").textContent = `${module.label}: ${body}`;
  });
}
