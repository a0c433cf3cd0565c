// The technician's data on the phone, in IndexedDB (survives reloads, restarts, no signal).
//   jobs    the jobs as the server last sent them (keyPath id)
//   outbox  what the technician did, waiting to be sent, in order (autoincrement seq)
//   meta    the session (token, user), the sync cursor, the last sync time

const NAME = "fieldservice";
// 2: jobs carry their equipment's last meter readings and `completion_needs`.
const VERSION = 2;
let opening = null;

function open() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, VERSION);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      if (event.oldVersion < 1) {
        db.createObjectStore("jobs", { keyPath: "id" });
        db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        db.createObjectStore("meta");
      } else {
        // Jobs stored by an older app lack fields this one reads: forgetting the cursor makes
        // the next pull send every job again (they stay until it does, for use offline).
        request.transaction.objectStore("meta").delete("cursor");
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opening;
}

// Runs `work(transaction)` and resolves once the transaction has committed, with what
// `work` returned (an IDBRequest's result when it returned a request).
async function transact(stores, mode, work) {
  const db = await open();
  const transaction = db.transaction(stores, mode);
  const committed = new Promise((resolve, reject) => {
    transaction.oncomplete = resolve;
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
  const outcome = work(transaction);
  await committed;
  return outcome instanceof IDBRequest ? outcome.result : outcome;
}

const read = (store, work) => transact([store], "readonly", (t) => work(t.objectStore(store)));
const write = (store, work) => transact([store], "readwrite", (t) => work(t.objectStore(store)));

export const get = (store, key) => read(store, (s) => s.get(key));
export const all = (store) => read(store, (s) => s.getAll());
export const put = (store, value, key) => write(store, (s) => s.put(value, key));
export const remove = (store, key) => write(store, (s) => s.delete(key));
export const getMeta = (key) => read("meta", (s) => s.get(key));
export const setMeta = (key, value) => write("meta", (s) => s.put(value, key));

// A pull from /sync: apply the changes and move the cursor in one transaction, so a
// crash between the two cannot skip or repeat a change.
export function applySync(changes, { full, cursor, at }) {
  return transact(["jobs", "meta"], "readwrite", (t) => {
    const jobs = t.objectStore("jobs");
    if (full) jobs.clear();
    for (const change of changes) {
      if (change.op === "upsert") jobs.put(change.job);
      else jobs.delete(change.id);
    }
    t.objectStore("meta").put(cursor, "cursor");
    t.objectStore("meta").put(at, "lastSync");
  });
}

// Logging out forgets everything of this technician's on this phone.
export function clearAll() {
  return transact(["jobs", "outbox", "meta"], "readwrite", (t) => {
    for (const name of ["jobs", "outbox", "meta"]) t.objectStore(name).clear();
  });
}
