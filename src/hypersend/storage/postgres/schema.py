"""The PostgreSQL schema as a list of forward migrations.

The same tables, columns and indexes as SQLite's (`storage/sqlite/migrations.py`), so the
shared repositories run unchanged, with PostgreSQL's types where SQLite's would be too small
(sizes and offsets are `BIGINT`) or do not exist (`BYTEA` for digests). Times are the same
fixed-width UTC text as on SQLite: text order is time order on both.

The table `schema_version` records how many migrations have run; `migrate` runs the missing
ones under an advisory lock, so processes that start together take turns. Never edit a
released migration: append a new one. A migration is SQL, or a function of the connection
where the work needs Python (it runs in the same transaction).
"""

from collections.abc import Callable

from psycopg import Connection

from hypersend.storage.postgres.placeholders import SharedSqlConnection
from hypersend.storage.postgres.rows import Row
from hypersend.storage.sql.database import SqlConnection
from hypersend.storage.sql.search_text import fill_search_text

MIGRATIONS: list[str | Callable[[SqlConnection], None]] = [
    # 1: everything SQLite's first seven migrations built
    """
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0,
        disabled INTEGER NOT NULL DEFAULT 0,
        quota_bytes BIGINT
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        refresh_generation INTEGER NOT NULL DEFAULT 0,
        revoked INTEGER NOT NULL DEFAULT 0,
        client_address TEXT NOT NULL DEFAULT '',
        user_agent TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX sessions_by_user ON sessions(user_id);
    CREATE TABLE chats (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL CHECK (type IN ('direct', 'group')),
        title TEXT NOT NULL DEFAULT '',
        direct_key TEXT UNIQUE,
        created_by TEXT NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_message_id TEXT,
        last_seq BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE chat_members (
        chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        joined_at TEXT NOT NULL,
        last_read_message_id TEXT,
        last_read_seq BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (chat_id, user_id)
    );
    CREATE INDEX chat_members_by_user ON chat_members(user_id, chat_id);
    CREATE TABLE files (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        chat_id TEXT REFERENCES chats(id) ON DELETE SET NULL,
        filename TEXT NOT NULL,
        size BIGINT NOT NULL CHECK (size > 0),
        mime TEXT NOT NULL,
        chunk_size BIGINT NOT NULL,
        total_chunks INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('uploading', 'complete')),
        content_hash TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        completed_at TEXT
    );
    CREATE INDEX files_by_owner ON files(owner_id, status);
    CREATE INDEX files_by_status_expiry ON files(status, expires_at);
    CREATE INDEX files_by_status_completion ON files(status, completed_at);
    CREATE INDEX files_by_chat ON files(chat_id) WHERE chat_id IS NOT NULL;
    CREATE TABLE file_chunks (
        file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        sha256 BYTEA NOT NULL,
        PRIMARY KEY (file_id, idx)
    );
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        seq BIGINT NOT NULL,
        sender_id TEXT NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL CHECK (kind IN ('text', 'file')),
        text TEXT,
        file_id TEXT REFERENCES files(id) ON DELETE SET NULL,
        client_id TEXT,
        created_at TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX messages_by_chat_seq ON messages(chat_id, seq);
    CREATE INDEX messages_by_file ON messages(file_id) WHERE file_id IS NOT NULL;
    CREATE UNIQUE INDEX messages_by_client_id ON messages(sender_id, client_id)
        WHERE client_id IS NOT NULL;
    CREATE TABLE transfers (
        id TEXT PRIMARY KEY,
        sender_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        receiver_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        chat_id TEXT REFERENCES chats(id) ON DELETE SET NULL,
        filename TEXT NOT NULL,
        size BIGINT NOT NULL CHECK (size > 0),
        status TEXT NOT NULL,
        bytes_relayed BIGINT NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        relay_node TEXT
    );
    CREATE INDEX transfers_by_status_expiry ON transfers(status, expires_at);
    CREATE INDEX transfers_by_sender ON transfers(sender_id, id);
    CREATE INDEX transfers_by_receiver ON transfers(receiver_id, id);
    CREATE INDEX transfers_by_relay_node ON transfers(relay_node) WHERE status = 'active';
    CREATE TABLE invites (
        code TEXT PRIMARY KEY,
        created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        max_uses INTEGER NOT NULL CHECK (max_uses > 0),
        uses INTEGER NOT NULL DEFAULT 0
    );
    """,
    # 2: the file store's id of an upload in progress (an S3 multipart upload's id)
    """
    ALTER TABLE files ADD COLUMN store_upload_id TEXT;
    """,
    # 3: when a message's text was last edited
    """
    ALTER TABLE messages ADD COLUMN edited_at TEXT;
    """,
    # 4: the message a message answers
    """
    ALTER TABLE messages ADD COLUMN reply_to_id TEXT;
    """,
    # 5: tus uploads: their metadata, and the bytes of a chunk kept before it is whole
    """
    ALTER TABLE files ADD COLUMN tus_metadata TEXT;
    ALTER TABLE files ADD COLUMN staged_chunk BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE files ADD COLUMN staged_bytes BIGINT NOT NULL DEFAULT 0;
    """,
    # 6: reactions to a message, as JSON text: {"emoji": ["user id", ...], ...}
    """
    ALTER TABLE messages ADD COLUMN reactions TEXT;
    """,
    # 7: full-text search over messages: their words (`sql/search_text.py`) under a GIN index
    # whose expression is the one `sql/text_search.py` asks with
    """
    ALTER TABLE messages ADD COLUMN search_text TEXT;
    CREATE INDEX messages_words ON messages
        USING gin (to_tsvector('simple', coalesce(search_text, '')));
    """,
    # 8: the words of the messages stored before
    fill_search_text,
    # 9: image previews (`mime` empty: tried, none), and the images still due one
    """
    CREATE TABLE thumbnails (
        file_id TEXT PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
        mime TEXT NOT NULL,
        data BYTEA NOT NULL
    );
    ALTER TABLE files ADD COLUMN thumbnail_due INTEGER NOT NULL DEFAULT 0;
    UPDATE files SET thumbnail_due = 1 WHERE status = 'complete'
        AND mime IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif');
    CREATE INDEX files_thumbnail_due ON files(id) WHERE thumbnail_due = 1;
    """,
    # 10: each member's own pin and mute of a chat
    """
    ALTER TABLE chat_members ADD COLUMN pinned_at TEXT;
    ALTER TABLE chat_members ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
    """,
    # 11: presence: when each user was last seen, and whether they hide it
    """
    ALTER TABLE users ADD COLUMN presence_hidden INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN last_seen_at TEXT;
    """,
]

# Any constant both sides agree on: the key of the advisory lock migrations run under.
_MIGRATION_LOCK = 0x48595045_52534E44  # "HYPERSND"


def migrate(connection: Connection[Row]) -> int:
    """Apply every migration not yet applied, each in its own transaction; return the version.
    `connection` is in autocommit mode; the advisory lock is held for the whole run."""
    connection.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
    try:
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        while True:
            with connection.transaction():
                row = connection.execute("SELECT version FROM schema_version").fetchone()
                version = int(row[0]) if row else 0
                if version >= len(MIGRATIONS):
                    return version
                step = MIGRATIONS[version]
                if isinstance(step, str):
                    connection.execute(step)
                else:
                    step(SharedSqlConnection(connection))
                if row:
                    connection.execute("UPDATE schema_version SET version = %s", (version + 1,))
                else:
                    connection.execute("INSERT INTO schema_version VALUES (%s)", (version + 1,))
    finally:
        connection.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
