// The app is static files served by the grimoire host: every page renders in the browser.
export const ssr = false;
export const prerender = false;
