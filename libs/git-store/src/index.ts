/** @diaryx-sync/git-store (work in progress). */
export {};
