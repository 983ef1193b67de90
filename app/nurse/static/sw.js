// The nurse app's service worker: keeps the app shell so that the app opens
// with no connection. API calls are never cached here: records live in
// IndexedDB, and a cached API answer could show one user's data to another.
//
// The server writes the shell's list of files and a hash of their contents
// into SHELL and VERSION when it serves this file, so every change to the app
// installs a new cache and drops the old one.

const VERSION = "__SHELL_VERSION__";
const SHELL = __SHELL_FILES__;
const CACHE = `wt-nurse-shell-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("wt-nurse-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The shell from the cache (the same version as this worker), the network
// for anything else. A navigation under /app/ gets the shell's page.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/app/")) {
    return;
  }
  const key = event.request.mode === "navigate" ? "/app/" : url.pathname;
  event.respondWith(
    caches.open(CACHE).then((cache) => cache.match(key)).then((hit) => hit || fetch(event.request)),
  );
});
