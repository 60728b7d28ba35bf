import GRDB

/// Tables of the run store. Migrations are append-only: a run directory written by an
/// older build opens with a newer one.
enum RunStoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE sweeps (
                    name TEXT PRIMARY KEY, spec TEXT NOT NULL, spec_hash TEXT NOT NULL, created_at REAL NOT NULL);
                CREATE TABLE trials (
                    id TEXT PRIMARY KEY, stage TEXT NOT NULL, job TEXT NOT NULL, parameters TEXT NOT NULL,
                    seed INTEGER NOT NULL, parent_trial TEXT REFERENCES trials(id), ord INTEGER NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'leased', 'done', 'failed')),
                    attempts INTEGER NOT NULL, max_attempts INTEGER NOT NULL,
                    worker TEXT, host TEXT, failure TEXT, artifact_hash TEXT, leased_at REAL, finished_at REAL);
                CREATE TABLE results (
                    trial_id TEXT PRIMARY KEY REFERENCES trials(id), attempt INTEGER NOT NULL,
                    worker TEXT NOT NULL, host TEXT NOT NULL, metrics TEXT NOT NULL, seconds REAL NOT NULL, created_at REAL NOT NULL);
                CREATE TABLE masks (
                    trial_id TEXT NOT NULL REFERENCES trials(id), name TEXT NOT NULL, data BLOB NOT NULL,
                    PRIMARY KEY (trial_id, name));
                CREATE TABLE artifacts (
                    hash TEXT PRIMARY KEY, size INTEGER NOT NULL, name TEXT NOT NULL,
                    trial_id TEXT REFERENCES trials(id), parent_hash TEXT, path TEXT NOT NULL, created_at REAL NOT NULL);
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, trial_id TEXT, kind TEXT NOT NULL,
                    worker TEXT, detail TEXT NOT NULL);
                CREATE INDEX events_trial ON events(trial_id);
                """)
        }
        migrator.registerMigration("v2") { db in
            // Several parents (`from: [a, b]`): trials.parent_trial stays the first (position 0);
            // the others are here at positions 1, 2, ... in `from:` order. Stages appended to
            // the run later (RunStore.appendStages) are kept as canonical JSON, in order.
            try db.execute(sql: """
                CREATE TABLE trial_parents (
                    trial_id TEXT NOT NULL REFERENCES trials(id), position INTEGER NOT NULL CHECK (position >= 1),
                    parent_trial TEXT NOT NULL REFERENCES trials(id), PRIMARY KEY (trial_id, position));
                CREATE INDEX trial_parents_parent ON trial_parents(parent_trial);
                CREATE TABLE appended_stages (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, stages TEXT NOT NULL, trials INTEGER NOT NULL, created_at REAL NOT NULL);
                """)
        }
        migrator.registerMigration("v3: replicas") { db in
            // Data-parallel trials run on this many workers at once.
            try db.execute(sql: "ALTER TABLE trials ADD COLUMN replicas INTEGER NOT NULL DEFAULT 1")
        }
        migrator.registerMigration("v4: checkpoints") { db in
            // The latest checkpoint of a running trial: a requeued attempt resumes from it.
            try db.execute(sql: """
                CREATE TABLE checkpoints (
                    trial_id TEXT PRIMARY KEY REFERENCES trials(id), hash TEXT NOT NULL, step INTEGER NOT NULL,
                    attempt INTEGER NOT NULL, created_at REAL NOT NULL)
                """)
        }
        migrator.registerMigration("v5: owner") { db in
            // The coordinator serving the run (one row): for `rt runs`, and for a run directory on
            // a shared file system, where another host's live owner is told by its heartbeat.
            try db.execute(sql: """
                CREATE TABLE run_owner (
                    id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL,
                    started_at REAL NOT NULL, heartbeat_at REAL NOT NULL, ended_at REAL)
                """)
        }
        return migrator
    }
}
