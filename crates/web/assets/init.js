// GOV.UK Frontend's components, started once the page has loaded. Kept in a
// file (not inline) so the content security policy can forbid inline script.
import { initAll } from "/assets/govuk-frontend.min.js";
document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
document.body.addEventListener("htmx:afterSwap", () => initAll());
