// IndexedDB, promised. Two kinds of database:
// - "wt-nurse": the signed-in session (refresh token, user, clinic), one row;
// - "wt-nurse-user-<id>": one per user, with the outbox and cached records, so
//   a second user of a shared phone opens a different database and never sees
//   (or sends) the first one's records.
// A write the browser refuses for lack of space rejects with a StorageFull
// error and fires "wt-storage-full" on window, so the app can say so.

export class StorageFull extends Error {}

const SCHEMA = {
  "wt-nurse": { session: {} },
  user: {
    outbox: { keyPath: "seq", autoIncrement: true },
    records: { keyPath: "key" },
  },
};

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function isQuota(error) {
  return Boolean(error) && (error.name === "QuotaExceededError" || /quota/i.test(error.message));
}

function full(error) {
  window.dispatchEvent(new CustomEvent("wt-storage-full"));
  return new StorageFull(error ? error.message : "storage full");
}

export async function open(name) {
  const stores = SCHEMA[name] || SCHEMA.user;
  const request = indexedDB.open(name, 1);
  request.onupgradeneeded = () => {
    for (const [store, options] of Object.entries(stores)) {
      if (!request.result.objectStoreNames.contains(store)) {
        request.result.createObjectStore(store, options);
      }
    }
  };
  return new Store(await promised(request));
}

export function userDbName(userId) {
  return `wt-nurse-user-${userId}`;
}

class Store {
  constructor(db) {
    this.db = db;
  }

  run(store, mode, work) {
    return new Promise((resolve, reject) => {
      let result;
      let tx;
      try {
        tx = this.db.transaction(store, mode);
        Promise.resolve(work(tx.objectStore(store))).then((value) => {
          result = value;
        }, reject);
      } catch (error) {
        reject(isQuota(error) ? full(error) : error);
        return;
      }
      tx.oncomplete = () => resolve(result);
      const failed = () => reject(isQuota(tx.error) ? full(tx.error) : tx.error);
      tx.onerror = failed;
      tx.onabort = failed;
    });
  }

  get(store, key) {
    return this.run(store, "readonly", (s) => promised(s.get(key)));
  }

  all(store) {
    return this.run(store, "readonly", (s) => promised(s.getAll()));
  }

  count(store) {
    return this.run(store, "readonly", (s) => promised(s.count()));
  }

  put(store, value, key) {
    return this.run(store, "readwrite", (s) => promised(key === undefined ? s.put(value) : s.put(value, key)));
  }

  delete(store, key) {
    return this.run(store, "readwrite", (s) => promised(s.delete(key)));
  }

  clear(store) {
    return this.run(store, "readwrite", (s) => promised(s.clear()));
  }

  close() {
    this.db.close();
  }
}
